-- H5 7×24 heat map (D-21): one row per clock hour and queue in which fault calls asked for a human,
-- with how many were answered. An hour with offered calls and none answered is uncovered.

with fault_hours as (

    select * from {{ ref('int_fault_hours_covered') }}

),

calendar as (

    select * from {{ ref('util_calendar') }}

),

final as (

    select
        -- keys
        fault_hours.hour_start,
        fault_hours.queue,
        -- periods
        fault_hours.period_month,
        fault_hours.calendar_date,
        calendar.weekday_index,
        fault_hours.hour_of_day,
        -- figures
        fault_hours.fault_calls_offered,
        fault_hours.fault_calls_answered,
        fault_hours.is_uncovered
    from fault_hours
    left join calendar
        on calendar.calendar_date = fault_hours.calendar_date

)

select * from final
