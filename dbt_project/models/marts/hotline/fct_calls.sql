-- One row per inbound hotline call with its waits and the flags the hotline rules judge (H1-H5, R3).
-- Incremental (D-70): the calls exported since the last run (lookback on export_date) and the later
-- calls of the same customer and call type (their R3 flag may change); merged on call_id.

{{ config(materialized='incremental', unique_key='call_id', incremental_strategy='merge', on_schema_change='fail') }}

with judged_calls as {{ cte_not_materialized() }} (

    select * from {{ ref('int_calls_judged') }}

),

{% if is_incremental() -%}
cutoff as (

    select
        {{ incremental_cutoff_date() }} as cutoff_date
    from {{ this }}

),

new_calls as (

    select judged_calls.*
    from judged_calls
    cross join cutoff
    where judged_calls.export_date >= cutoff.cutoff_date

),

new_pairs as (

    select
        customer_id,
        call_type,
        min(arrived_at) as first_new_arrived_at
    from new_calls
    where customer_id is not null
    group by customer_id, call_type

),

calls as (

    select * from new_calls
    union
    select judged_calls.*
    from judged_calls
    inner join new_pairs
        on new_pairs.customer_id = judged_calls.customer_id
        and new_pairs.call_type = judged_calls.call_type
        and judged_calls.arrived_at >= new_pairs.first_new_arrived_at

),
{%- else -%}
calls as (

    select * from judged_calls

),
{%- endif %}

final as (

    select
        -- ids
        call_id,
        customer_id,
        district_id,
        -- dimensions
        customer_tier,
        queue,
        call_type,
        transfer_type,
        transfer_outcome,
        -- timestamps
        arrived_at,
        clock_start_at,
        answered_at,
        ended_at,
        transfer_queued_at,
        transfer_answered_at,
        -- periods
        arrived_month,
        queued_month,
        queued_hour_start,
        extract(hour from queued_hour_start) as queued_hour_of_day,
        -- waits
        wait_seconds,
        transfer_wait_seconds,
        -- flags
        is_human_requested,
        is_answered,
        is_abandoned,
        is_transfer_requested,
        is_h1_in_scope,
        is_answered_within_service_level,
        is_transfer_within_service_level,
        is_transfer_misrouted,
        is_transfer_success,
        is_unrequested_transfer,
        is_fault_human_call,
        is_identified,
        is_repeat_contact,
        -- lineage
        export_date
    from calls

)

select * from final
