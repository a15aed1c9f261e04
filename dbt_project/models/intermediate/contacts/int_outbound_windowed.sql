-- P1 do-not-disturb (D-44): one row per outbound phone call with the number of phone calls to the
-- same customer in the rolling window ending at it (720 h, inclusive at both ends, across month
-- boundaries). A call breaches when that count exceeds the limit of its own tier group.
-- Portable self-join instead of a RANGE INTERVAL window frame.

with outbound as (

    select * from {{ ref('stg_outbound') }}

),

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
        -- calls at the same second are taken in export order
        row_number() over (
            partition by customer_id
            order by contacted_at, export_date, file_id, source_row_number
        ) as call_sequence
    from outbound
    where channel = 'phone'

),

window_limit as (

    select limit_seconds as window_seconds
    from limits
    where measure_id = 'P1' and limit_key = 'window'

),

windowed as (

    select
        this_call.contact_id,
        count(*) as calls_in_window
    from phone_calls as this_call
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
        phone_calls.contact_id,
        phone_calls.customer_id,
        -- dimensions
        phone_calls.customer_tier,
        phone_calls.tier_group,
        phone_calls.purpose,
        phone_calls.answered,
        -- timestamps
        phone_calls.contacted_at,
        {{ month_text('phone_calls.contacted_at') }} as period_month,
        phone_calls.call_sequence,
        -- figures
        windowed.calls_in_window,
        cast(tier_limit.limit_count as {{ dbt.type_bigint() }}) as calls_allowed,
        windowed.calls_in_window > tier_limit.limit_count as is_breach
    from phone_calls
    inner join windowed
        on windowed.contact_id = phone_calls.contact_id
    inner join limits as tier_limit
        on tier_limit.measure_id = 'P1'
        and tier_limit.limit_key = phone_calls.tier_group

),

final as (

    select * from judged

)

select * from final
