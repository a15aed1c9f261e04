-- P1 do-not-disturb (D-44): one row per counted outbound phone call (a purpose of the rulebook's
-- P1 counted_purposes, D-118) with the number of counted phone calls to the same customer in the
-- rolling window ending at it (720 h, inclusive at both ends, across month boundaries). A call
-- breaches when that count exceeds the limit of the customer's tier group of the month: the group
-- of their first counted call in the month, the group they are counted in (D-44).
-- Portable self-join instead of a RANGE INTERVAL window frame.
-- Incremental (D-70): each run judges the calls exported since the last run (lookback on
-- export_date) and every later call to the same customers (their sequence and window may change),
-- counting over the full history of those customers; merged on contact_id.

{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='merge', on_schema_change='fail') }}

with all_outbound as (

    select * from {{ ref('stg_outbound') }}

),

{% if is_incremental() -%}
cutoff as (

    select
        {{ incremental_cutoff_date() }} as cutoff_date
    from {{ this }}

),

new_customers as (

    select
        all_outbound.customer_id,
        min(all_outbound.contacted_at) as first_new_contacted_at
    from all_outbound
    cross join cutoff
    where all_outbound.export_date >= cutoff.cutoff_date
        and all_outbound.channel = 'phone'
    group by all_outbound.customer_id

),

outbound as (

    -- the full history of the customers with new calls
    select all_outbound.*
    from all_outbound
    inner join new_customers
        on new_customers.customer_id = all_outbound.customer_id

),
{%- else -%}
outbound as (

    select * from all_outbound

),
{%- endif %}

limits as (

    select * from {{ ref('rulebook_limits') }}

),

phone_calls as (

    select
        contact_id,
        customer_id,
        customer_tier,
        {{ contacts_tier_group('customer_tier') }} as tier_group,
        purpose,
        answered,
        contacted_at,
        export_date,
        -- calls at the same second are taken in export order
        row_number() over (
            partition by customer_id
            order by contacted_at, export_date, file_id, source_row_number
        ) as call_sequence
    from outbound
    where channel = 'phone'
        and purpose in {{ rulebook_setting_values('P1', 'counted_purposes') }}

),

phone_calls_grouped as (

    -- the customer's group of the month: that of their first counted call in the month
    select
        *,
        first_value(tier_group) over (
            partition by customer_id, {{ month_text('contacted_at') }}
            order by call_sequence
            rows between unbounded preceding and unbounded following
        ) as month_tier_group
    from phone_calls

),

window_limit as (

    select limit_seconds as window_seconds
    from limits
    where measure_id = 'P1' and limit_key = 'window'

),

judged_calls as (

    select phone_calls_grouped.*
    from phone_calls_grouped
    {% if is_incremental() -%}
    inner join new_customers
        on new_customers.customer_id = phone_calls_grouped.customer_id
    where phone_calls_grouped.contacted_at >= new_customers.first_new_contacted_at
        or phone_calls_grouped.export_date >= (select cutoff_date from cutoff)
    {%- endif %}

),

windowed as (

    select
        this_call.contact_id,
        count(*) as calls_in_window
    from judged_calls as this_call
    cross join window_limit
    inner join phone_calls as earlier_call
        on earlier_call.customer_id = this_call.customer_id
        and earlier_call.call_sequence <= this_call.call_sequence
        and earlier_call.contacted_at
        >= {{ dbt.dateadd('second', '-1 * window_limit.window_seconds', 'this_call.contacted_at') }}
    group by this_call.contact_id

),

judged as (

    select
        -- ids
        judged_calls.contact_id,
        judged_calls.customer_id,
        -- dimensions
        judged_calls.customer_tier,
        judged_calls.tier_group,
        judged_calls.month_tier_group,
        judged_calls.purpose,
        judged_calls.answered,
        -- timestamps
        judged_calls.contacted_at,
        {{ month_text('judged_calls.contacted_at') }} as period_month,
        judged_calls.call_sequence,
        -- figures
        windowed.calls_in_window,
        cast(tier_limit.limit_count as {{ dbt.type_bigint() }}) as calls_allowed,
        windowed.calls_in_window > tier_limit.limit_count as is_breach,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        judged_calls.export_date
    from judged_calls
    inner join windowed
        on windowed.contact_id = judged_calls.contact_id
    inner join limits as tier_limit
        on tier_limit.measure_id = 'P1'
        and tier_limit.limit_key = judged_calls.month_tier_group

),

final as (

    select * from judged

)

select * from final
