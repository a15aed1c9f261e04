-- One row per inbound call with every flag the hotline rules (H1-H5) and R3 read.
-- Limits come from the rulebook seeds; see docs/decisions.md D-20, D-21, D-22, D-53.
-- Incremental (D-70): each run judges the calls exported since the last run (lookback on
-- export_date) and, for R3, every later call of the same customer and call type; merged on call_id.

{{ config(materialized='incremental', unique_key='call_id', incremental_strategy='merge', on_schema_change='fail') }}

with all_calls as {{ cte_not_materialized() }} (

    select * from {{ ref('stg_calls') }}

),

{% if is_incremental() -%}
cutoff as (

    select
        {{ incremental_cutoff_date() }} as cutoff_date
    from {{ this }}

),

new_calls as (

    select all_calls.*
    from all_calls
    cross join cutoff
    where all_calls.export_date >= cutoff.cutoff_date

),

new_pairs as (

    -- a call that arrives before calls already judged changes their R3 previous contact
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
    select all_calls.*
    from all_calls
    inner join new_pairs
        on new_pairs.customer_id = all_calls.customer_id
        and new_pairs.call_type = all_calls.call_type
        and all_calls.arrived_at >= new_pairs.first_new_arrived_at

),

history as (

    -- R3 looks back over every earlier call of the same customer and call type
    select all_calls.customer_id, all_calls.call_type, all_calls.arrived_at
    from all_calls
    inner join new_pairs
        on new_pairs.customer_id = all_calls.customer_id
        and new_pairs.call_type = all_calls.call_type

),
{%- else -%}
calls as (

    select * from all_calls

),

history as (

    select customer_id, call_type, arrived_at
    from all_calls

),
{%- endif %}

limits as (

    select * from {{ ref('rulebook_limits') }}

),

call_limits as (

    select
        max(case when measure_id = 'H1' and limit_key = 'all' then limit_seconds end) as h1_limit_seconds,
        max(case when measure_id = 'H1' and limit_key = 'short_abandon' then limit_seconds end)
            as h1_short_abandon_seconds,
        max(case when measure_id = 'H2.1' and limit_key = 'all' then limit_seconds end) as h2_limit_seconds,
        max(case when measure_id = 'R3' and limit_key = 'window' then limit_seconds end) as r3_window_seconds
    from limits

),

clocked as (

    select
        -- ids
        call_id,
        customer_id,
        district_id,
        -- dimensions
        customer_tier,
        queue,
        call_type,
        case
            when transfer_type is null or transfer_type = 'none' then 'none'
            else transfer_type
        end as transfer_type,
        transfer_outcome,
        -- flags
        coalesce(human_requested, false) as is_human_requested,
        answered_at is not null as is_answered,
        coalesce(abandoned, false) as is_abandoned,
        coalesce(transfer_requested, false) as is_transfer_requested,
        -- timestamps: H1 and H5 run on the queue clock, queued_at or arrived_at when empty (D-20)
        arrived_at,
        coalesce(queued_at, arrived_at) as clock_start_at,
        answered_at,
        ended_at,
        transfer_queued_at,
        transfer_answered_at,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        export_date
    from calls

),

previous_contact as (

    -- R3: the latest strictly earlier arrival of the same customer with the same call_type
    select
        customer_id,
        call_type,
        arrived_at,
        lag(arrived_at) over (partition by customer_id, call_type order by arrived_at) as previous_arrived_at
    from (
        select distinct customer_id, call_type, arrived_at
        from history
        where customer_id is not null
    ) as distinct_arrivals

),

judged as (

    select
        clocked.*,
        -- periods
        {{ month_text('clocked.arrived_at') }} as arrived_month,
        {{ month_text('clocked.clock_start_at') }} as queued_month,
        {{ dbt.date_trunc('hour', 'clocked.clock_start_at') }} as queued_hour_start,
        -- waits
        case
            when clocked.answered_at is not null
                then {{ dbt.datediff('clocked.clock_start_at', 'clocked.answered_at', 'second') }}
        end as wait_seconds,
        case
            when clocked.transfer_answered_at is not null
                then {{ dbt.datediff('clocked.transfer_queued_at', 'clocked.transfer_answered_at', 'second') }}
        end as transfer_wait_seconds,
        -- H1: calls of VIP callers that asked for a human, abandons included unless shorter than
        -- short_abandon. VIP caller (rulebook H1 vip_caller, D-116): 'tier' = the caller's tier on the
        -- call row is a VIP tier, whatever queue it was routed to; 'queue' = the call was in the VIP queue.
        (
            (
                (
                    'tier' in {{ rulebook_setting_values('H1', 'vip_caller') }}
                    and clocked.customer_tier in {{ rulebook_vip_tiers() }}
                )
                or (
                    'queue' in {{ rulebook_setting_values('H1', 'vip_caller') }}
                    and clocked.queue = 'vip'
                )
            )
            and clocked.is_human_requested
            and not (
                clocked.answered_at is null
                and clocked.is_abandoned
                and clocked.ended_at < {{ dbt.dateadd('second', 'call_limits.h1_short_abandon_seconds', 'clocked.clock_start_at') }}
            )
        ) as is_h1_in_scope,
        {{ contacts_within('clocked.clock_start_at', 'clocked.answered_at', 'call_limits.h1_limit_seconds') }}
            as is_answered_within_service_level,
        -- H2 / H3 transfers
        {{ contacts_within('clocked.transfer_queued_at', 'clocked.transfer_answered_at', 'call_limits.h2_limit_seconds') }}
            as is_transfer_within_service_level,
        coalesce(clocked.transfer_outcome = 'misrouted', false) as is_transfer_misrouted,
        coalesce(clocked.transfer_outcome = 'success', false) as is_transfer_success,
        -- H4: transferred although the customer did not ask
        (clocked.transfer_type <> 'none' and not clocked.is_transfer_requested) as is_unrequested_transfer,
        -- H5: a fault call that asked for a human
        (clocked.call_type = 'fault' and clocked.is_human_requested) as is_fault_human_call,
        -- R3
        clocked.customer_id is not null as is_identified,
        coalesce(
            previous_contact.previous_arrived_at is not null
            and previous_contact.previous_arrived_at
            >= {{ dbt.dateadd('second', '-1 * call_limits.r3_window_seconds', 'clocked.arrived_at') }},
            false
        ) as is_repeat_contact
    from clocked
    cross join call_limits
    left join previous_contact
        on previous_contact.customer_id = clocked.customer_id
        and previous_contact.call_type = clocked.call_type
        and previous_contact.arrived_at = clocked.arrived_at

),

final as (

    select * from judged

)

select * from final
