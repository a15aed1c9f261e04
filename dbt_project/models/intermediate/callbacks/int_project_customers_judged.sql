-- C7 (D-43): project customers delivered before month M are due a reaching `project`
-- callback in every calendar month while M begins before the first anniversary of
-- delivery, otherwise in every calendar quarter (judged at the quarter's last month).
-- Complete months only.

with customers as (

    select * from {{ ref('int_customers_snapshotted') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

project_callbacks as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'callback_at') }} as date) as callback_month_start
    from callbacks
    where reason = 'project'
        and outcome in ({{ district_reached_outcomes() }})

),

due as (

    select
        period_month,
        customer_id,
        district_id,
        project_delivery_date,
        month_start,
        quarter_start,
        is_quarter_end,
        month_start < cast({{ dbt.dateadd('year', 1, 'project_delivery_date') }} as date) as is_first_year
    from customers
    where is_complete
        and is_project
        and project_delivery_date is not null
        and project_delivery_date < month_start

),

judged_due as (

    select
        *,
        case when is_first_year then 'month' else 'quarter' end as due_period
    from due
    where is_first_year or is_quarter_end

),

called as (

    select distinct
        judged_due.customer_id,
        judged_due.period_month
    from judged_due
    inner join project_callbacks
        on project_callbacks.customer_id = judged_due.customer_id
        and project_callbacks.callback_month_start <= judged_due.month_start
        and project_callbacks.callback_month_start >= case
            when judged_due.is_first_year then judged_due.month_start
            else judged_due.quarter_start
        end

),

final as (

    select
        -- keys
        judged_due.customer_id,
        judged_due.period_month,
        judged_due.district_id,
        -- attributes
        judged_due.project_delivery_date,
        judged_due.due_period,
        -- judgement
        called.customer_id is not null as is_called_back
    from judged_due
    left join called
        on called.customer_id = judged_due.customer_id
        and called.period_month = judged_due.period_month

)

select * from final
