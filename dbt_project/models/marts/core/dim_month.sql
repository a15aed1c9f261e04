-- One row per calendar month of the loaded data: dates, quarter, working days and
-- whether the month is complete as of the as-of date.

with months as (

    select * from {{ ref('int_months_enumerated') }}

),

calendar as (

    select * from {{ ref('util_calendar') }}

),

working_days as (

    select
        cast(month_start as date) as month_start,
        cast(sum(case when is_workday then 1 else 0 end) as {{ dbt.type_int() }}) as working_days,
        cast(count(*) as {{ dbt.type_int() }}) as calendar_days
    from calendar
    group by month_start

),

final as (

    select
        -- keys
        months.period_month,
        -- the month before (YYYY-MM): every month-on-month comparison reads it (D-149)
        {{ month_text(dbt.dateadd('day', -1, 'months.month_start')) }} as previous_month,
        -- dates
        months.month_start,
        months.month_end,
        months.quarter_start,
        months.year_start,
        -- attributes
        cast(extract(year from months.month_start) as integer) as year_number,
        cast(extract(month from months.month_start) as integer) as month_number,
        cast(floor((extract(month from months.month_start) - 1) / 3) + 1 as integer) as quarter_number,
        working_days.working_days,
        working_days.calendar_days,
        -- flags
        months.is_complete,
        months.is_quarter_end
    from months
    left join working_days on working_days.month_start = months.month_start

)

select * from final
