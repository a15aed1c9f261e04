-- One row per affected customer of a work (work_notices joined to works).
-- N2 (event, month of works.start_at): notified at least the rulebook limit before start_at.
-- C5 (outcome, cut-overs only, D-42): a reaching `cutover` callback of the same
-- (work_id, customer_id) at or after end_at and no later than 24:00 of the N-th working
-- day after end_at's date. Met: judged in the month of the first such callback; none and
-- the deadline passed by the as-of time: breach in the deadline's month; else pending.

with notices as (

    select * from {{ ref('stg_work_notices') }}

),

works as (

    select * from {{ ref('stg_works') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

calendar as (

    select * from {{ ref('util_calendar') }}

),

months as (

    select max(as_of_at) as as_of_at from {{ ref('int_months_enumerated') }}

),

n2_limits as (

    select limit_seconds from {{ ref('rulebook_limits') }}
    where measure_id = 'N2' and limit_key = 'all'

),

c5_limits as (

    select limit_working_days from {{ ref('rulebook_limits') }}
    where measure_id = 'C5' and limit_key = 'all'

),

affected as (

    select
        notices.work_id,
        notices.customer_id,
        notices.notified_at,
        works.work_kind,
        works.district_id,
        works.start_at,
        works.end_at
    from notices
    inner join works on works.work_id = notices.work_id

),

c5_deadlines as (

    select
        affected.work_id,
        affected.customer_id,
        cast({{ dbt.dateadd('day', 1, 'due_day.calendar_date') }} as {{ dbt.type_timestamp() }}) as c5_deadline_at
    from affected
    cross join c5_limits
    inner join calendar as end_day
        on end_day.calendar_date = cast(affected.end_at as date)
    inner join calendar as due_day
        on due_day.is_workday
        and due_day.workday_index = end_day.workday_index + c5_limits.limit_working_days
    where affected.work_kind = 'cutover'

),

cutover_callbacks as (

    select
        c5_deadlines.work_id,
        c5_deadlines.customer_id,
        min(callbacks.callback_at) as c5_callback_at
    from c5_deadlines
    inner join affected
        on affected.work_id = c5_deadlines.work_id
        and affected.customer_id = c5_deadlines.customer_id
    inner join callbacks
        on callbacks.work_id = c5_deadlines.work_id
        and callbacks.customer_id = c5_deadlines.customer_id
        and callbacks.reason = 'cutover'
        and callbacks.outcome in ({{ district_reached_outcomes() }})
        and callbacks.callback_at >= affected.end_at
        and callbacks.callback_at <= c5_deadlines.c5_deadline_at
    group by c5_deadlines.work_id, c5_deadlines.customer_id

),

joined as (

    select
        affected.*,
        {{ seconds_between('affected.notified_at', 'affected.start_at') }} as notice_lead_seconds,
        n2_limits.limit_seconds as required_lead_seconds,
        c5_deadlines.c5_deadline_at,
        cutover_callbacks.c5_callback_at,
        months.as_of_at
    from affected
    cross join n2_limits
    cross join months
    left join c5_deadlines
        on c5_deadlines.work_id = affected.work_id
        and c5_deadlines.customer_id = affected.customer_id
    left join cutover_callbacks
        on cutover_callbacks.work_id = affected.work_id
        and cutover_callbacks.customer_id = affected.customer_id

),

final as (

    select
        -- ids
        work_id,
        customer_id,
        district_id,
        work_kind,
        -- timestamps
        notified_at,
        start_at,
        end_at,
        c5_deadline_at,
        c5_callback_at,
        -- N2
        notice_lead_seconds,
        required_lead_seconds,
        {{ month_text('start_at') }} as n2_period_month,
        coalesce(notice_lead_seconds >= required_lead_seconds, false) as is_notified_in_time,
        -- C5
        work_kind = 'cutover' as is_cutover,
        case
            when c5_callback_at is not null then true
            when c5_deadline_at < as_of_at then false
        end as is_called_back_in_time,
        case
            when c5_callback_at is not null then {{ month_text('c5_callback_at') }}
            when c5_deadline_at < as_of_at then {{ deadline_month('c5_deadline_at') }}
        end as c5_period_month
    from joined

)

select * from final
