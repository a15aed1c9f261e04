-- P1 (D-44): one row per customer given a counted phone call in a month. The customer passes the
-- month when none of their calls in it breaches; they count in the tier group of their first counted
-- call in the month, whose limit every call of the month was judged by (int_outbound_windowed).

with phone_calls as (

    select * from {{ ref('int_outbound_windowed') }}

),

ordered as (

    select
        *,
        row_number() over (
            partition by customer_id, period_month
            order by call_sequence
        ) as call_in_month
    from phone_calls

),

customer_months as (

    select
        -- keys
        customer_id,
        period_month,
        -- dimensions
        max(case when call_in_month = 1 then month_tier_group end) as tier_group,
        -- figures
        count(*) as phone_calls,
        sum(case when is_breach then 1 else 0 end) as breaching_calls
    from ordered
    group by customer_id, period_month

),

final as (

    select
        *,
        breaching_calls = 0 as is_undisturbed
    from customer_months

)

select * from final
