-- C8 (D-43): every VIP customer in the list at a quarter's last month (complete months
-- only), and whether any outbound contact with purpose `care` (any channel, answered or
-- not) fell in that calendar quarter.

with customers as (

    select * from {{ ref('int_customers_snapshotted') }}

),

outbound as (

    select * from {{ ref('stg_outbound') }}

),

vips as (

    select * from customers
    where is_complete
        and is_quarter_end
        and tier in {{ rulebook_vip_tiers() }}

),

cared as (

    select distinct
        vips.customer_id,
        vips.period_month
    from vips
    inner join outbound
        on outbound.customer_id = vips.customer_id
        and outbound.purpose = 'care'
        and cast(outbound.contacted_at as date) >= vips.quarter_start
        and cast(outbound.contacted_at as date) <= vips.month_end

),

final as (

    select
        -- keys
        vips.customer_id,
        vips.period_month,
        vips.district_id,
        -- attributes
        vips.tier,
        -- judgement
        cared.customer_id is not null as is_cared_in_quarter
    from vips
    left join cared
        on cared.customer_id = vips.customer_id
        and cared.period_month = vips.period_month

)

select * from final
