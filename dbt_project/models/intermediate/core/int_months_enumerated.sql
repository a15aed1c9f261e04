-- One row per calendar month of the loaded data, with its last day and whether it is
-- complete as of the as-of date (docs/decisions.md D-07: the last export day loaded,
-- or var as_of_date). Monthly duties (C3, C7, C8) judge complete months only; C6 is
-- reported year to date for every month, the last partial one included (D-43).

with calendar as (

    select * from {{ ref('util_calendar') }}

),

tickets as (

    select export_date from {{ ref('stg_tickets') }}

),

customers as (

    select export_date from {{ ref('stg_customers') }}

),

callbacks as (

    select export_date from {{ ref('stg_callbacks') }}

),

files as (

    -- a warehouse without any of the above (an operator loading only its call records)
    -- takes the business dates of every export loaded
    select business_date from {{ ref('stg_load_log') }}

),

export_dates as (

    select export_date from tickets
    union all
    select export_date from customers
    union all
    select export_date from callbacks

),

bounds as (

    select
        coalesce(min(export_date), (select min(files.business_date) from files)) as first_date,
        {% if run_var('as_of_date') -%}
        cast('{{ run_var('as_of_date') }}' as date) as last_date
        {%- else -%}
        coalesce(max(export_date), (select max(files.business_date) from files)) as last_date
        {%- endif %}
    from export_dates

),

months as (

    select
        month_start,
        max(calendar_date) as month_end
    from calendar
    group by month_start

),

final as (

    select
        -- keys
        {{ month_text('months.month_start') }} as period_month,
        -- dates
        cast(months.month_start as date) as month_start,
        cast(months.month_end as date) as month_end,
        cast({{ dbt.date_trunc('year', 'months.month_start') }} as date) as year_start,
        cast({{ dbt.dateadd('month', -1, 'months.month_start') }} as date) as previous_month_start,
        cast({{ dbt.date_trunc('quarter', 'months.month_start') }} as date) as quarter_start,
        bounds.last_date as as_of_date,
        -- timestamps: 24:00 of the month's last day and of the as-of date
        cast({{ dbt.dateadd('day', 1, 'months.month_end') }} as {{ dbt.type_timestamp() }}) as month_end_at,
        cast({{ dbt.dateadd('day', 1, 'bounds.last_date') }} as {{ dbt.type_timestamp() }}) as as_of_at,
        -- flags
        months.month_end <= bounds.last_date as is_complete,
        mod(extract(month from months.month_start), 3) = 0 as is_quarter_end
    from months
    cross join bounds
    where months.month_start >= {{ dbt.date_trunc('month', 'bounds.first_date') }}
        and months.month_start <= bounds.last_date

)

select * from final
