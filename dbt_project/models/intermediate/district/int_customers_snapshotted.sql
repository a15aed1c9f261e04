-- The customers list as loaded by the end of each month of the data (D-43: C6, C7, C8
-- judge the customers in the list at the month / quarter end): every customer whose row
-- was exported on or before the month's last day (or the as-of date for the last month).

with customers as (

    select * from {{ ref('stg_customers') }}

),

months as (

    select * from {{ ref('int_months_enumerated') }}

),

final as (

    select
        -- keys
        months.period_month,
        customers.customer_id,
        -- attributes
        customers.tier,
        customers.district_id,
        customers.is_project,
        customers.project_delivery_date,
        -- month
        months.month_start,
        months.month_end,
        months.quarter_start,
        months.year_start,
        months.is_complete,
        months.is_quarter_end
    from months
    inner join customers
        on customers.export_date <= months.month_end
        and customers.export_date <= months.as_of_date

)

select * from final
