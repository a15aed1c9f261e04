-- C6 (D-43): every red VIP in the customers list at the end of month M, and whether they
-- got a reaching SMS callback with reason `red_vip_sms` since 1 January of M's year up to
-- the end of M (year to date). Every month, the last partial one included; the linear
-- pace (M/12) is applied by kpi_rule_results.

with customers as (

    select * from {{ ref('int_customers_snapshotted') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

sms_callbacks as (

    select
        customer_id,
        callback_at
    from callbacks
    where reason = 'red_vip_sms'
        and channel = 'sms'
        and outcome in ({{ district_reached_outcomes() }})

),

red_vips as (

    select * from customers
    where tier = 'red_vip'

),

reached as (

    select distinct
        red_vips.customer_id,
        red_vips.period_month
    from red_vips
    inner join sms_callbacks
        on sms_callbacks.customer_id = red_vips.customer_id
        and cast(sms_callbacks.callback_at as date) >= red_vips.year_start
        and cast(sms_callbacks.callback_at as date) <= red_vips.month_end

),

final as (

    select
        -- keys
        red_vips.customer_id,
        red_vips.period_month,
        red_vips.district_id,
        -- judgement
        reached.customer_id is not null as is_reached_ytd
    from red_vips
    left join reached
        on reached.customer_id = red_vips.customer_id
        and reached.period_month = red_vips.period_month

)

select * from final
