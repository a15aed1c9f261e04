-- C4: every callback that found a problem, judged in the month of callback_at (event):
-- met when problem_handled_at, and repair_dispatched_at when a repair is needed, fall on
-- the callback's own calendar date (same day, D-03).

with callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

problems as (

    select * from callbacks
    where outcome = 'problem_found'

),

final as (

    select
        -- ids
        callback_id,
        ticket_id,
        customer_id,
        district_id,
        -- timestamps
        callback_at,
        problem_handled_at,
        repair_dispatched_at,
        -- flags
        repair_needed,
        -- judgement
        {{ month_text('callback_at') }} as period_month,
        coalesce(cast(problem_handled_at as date) = cast(callback_at as date), false)
        and (
            not coalesce(repair_needed, false)
            or coalesce(cast(repair_dispatched_at as date) = cast(callback_at as date), false)
        ) as is_handled_same_day
    from problems

)

select * from final
