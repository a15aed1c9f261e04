-- H5 (D-21): one row per clock hour and queue in which fault calls asked for a human,
-- with how many were answered. Hours without such a call are not judged and have no row.

with calls as (

    select * from {{ ref('int_calls_judged') }}

),

fault_calls as (

    select
        queued_hour_start,
        queued_month,
        queue,
        call_id,
        is_answered
    from calls
    where is_fault_human_call

),

per_hour as (

    select
        -- keys
        queued_hour_start as hour_start,
        queue,
        -- period
        queued_month as period_month,
        cast(queued_hour_start as date) as calendar_date,
        extract(hour from queued_hour_start) as hour_of_day,
        -- figures
        count(*) as fault_calls_offered,
        sum(case when is_answered then 1 else 0 end) as fault_calls_answered
    from fault_calls
    group by queued_hour_start, queued_month, queue

),

final as (

    select
        *,
        fault_calls_answered = 0 as is_uncovered
    from per_hour

)

select * from final
