-- The deadline and state of every part of every time limit (docs/decisions.md D-02..D-07).
-- Deadline: clock start + limit (hours), 24:00 of the N-th working day after the start's date
-- (working days, util_calendar), or 24:00 of the start's date (same day); then moved later by
-- every paused second that falls on the running clock (D-05, pauses merged first).
-- State as of 24:00 of the last business date: met, breached, open_overdue, open_within_limit.
-- Incremental (D-70): a run judges the tickets of int_tickets_rejudged, replacing their rows.

{{ config(materialized='incremental', unique_key='sla_part_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with parts as (

    select * from {{ ref('int_ticket_sla_parts') }}
    {{ only_rejudged_tickets() }}

),

calendar as (

    select * from {{ ref('util_calendar') }}

),

pauses as (

    select * from {{ ref('int_ticket_pauses_merged') }}
    {{ only_rejudged_tickets() }}

),

as_of as (

    select * from {{ ref('int_tickets_as_of') }}

),

base_deadlines as (

    select
        parts.*,
        case
            when parts.clock_start_at is null then null
            when parts.limit_seconds is not null
                then {{ add_seconds('parts.limit_seconds', 'parts.clock_start_at') }}
            when parts.limit_working_days is not null
                then {{ dbt.dateadd('day', 1, 'cast(due_day.calendar_date as ' ~ dbt.type_timestamp() ~ ')') }}
            when parts.limit_text = 'same_day'
                then {{ midnight_after('parts.clock_start_at') }}
        end as base_deadline_at
    from parts
    left join calendar as start_day
        on parts.limit_working_days is not null
        and start_day.calendar_date = cast(parts.clock_start_at as date)
    left join calendar as due_day
        on due_day.is_workday
        and due_day.workday_index = start_day.workday_index + parts.limit_working_days

),

running_pauses as (

    -- pauses that end after the clock started, clipped to the clock start
    select
        base_deadlines.ticket_id,
        base_deadlines.measure_id,
        base_deadlines.part_id,
        base_deadlines.clock_start_at,
        base_deadlines.base_deadline_at,
        pauses.paused_at,
        {{ seconds_between(
            'case when pauses.paused_at > base_deadlines.clock_start_at then pauses.paused_at else base_deadlines.clock_start_at end',
            'pauses.resumed_at') }} as pause_seconds,
        {{ seconds_between(
            'base_deadlines.clock_start_at',
            'case when pauses.paused_at > base_deadlines.clock_start_at then pauses.paused_at else base_deadlines.clock_start_at end') }} as pause_offset_seconds
    from base_deadlines
    inner join pauses
        on pauses.ticket_id = base_deadlines.ticket_id
        and pauses.resumed_at > base_deadlines.clock_start_at
    where base_deadlines.uses_pauses
        and base_deadlines.base_deadline_at is not null

),

running_pauses_accumulated as (

    select
        *,
        coalesce(sum(pause_seconds) over (
            partition by ticket_id, measure_id, part_id
            order by paused_at
            rows between unbounded preceding and 1 preceding
        ), 0) as paused_before_seconds
    from running_pauses

),

pause_extensions as (

    -- a pause extends the deadline when it starts no later than the deadline as extended by the
    -- pauses before it: its start in running-clock seconds is then within the base limit
    select
        ticket_id,
        measure_id,
        part_id,
        cast(sum(pause_seconds) as {{ dbt.type_bigint() }}) as paused_seconds,
        count(*) as pauses_counted
    from running_pauses_accumulated
    where pause_offset_seconds - paused_before_seconds
        <= {{ seconds_between('clock_start_at', 'base_deadline_at') }}
    group by ticket_id, measure_id, part_id

),

deadlines as (

    select
        base_deadlines.*,
        cast(coalesce(pause_extensions.paused_seconds, 0) as {{ dbt.type_bigint() }}) as paused_seconds,
        coalesce(pause_extensions.pauses_counted, 0) as pauses_counted,
        {{ add_seconds('coalesce(pause_extensions.paused_seconds, 0)', 'base_deadlines.base_deadline_at') }} as deadline_at
    from base_deadlines
    left join pause_extensions
        on pause_extensions.ticket_id = base_deadlines.ticket_id
        and pause_extensions.measure_id = base_deadlines.measure_id
        and pause_extensions.part_id = base_deadlines.part_id

),

final as (

    select
        -- ids
        deadlines.sla_part_id,
        deadlines.ticket_id,
        deadlines.measure_id,
        deadlines.part_id,
        deadlines.limit_key,
        deadlines.limit_text,
        deadlines.judged_by,
        -- timestamps
        deadlines.clock_start_at,
        deadlines.base_deadline_at,
        deadlines.paused_seconds,
        deadlines.pauses_counted,
        deadlines.deadline_at,
        deadlines.completed_at,
        -- flags
        deadlines.is_completion_void,
        -- state as of 24:00 of the last business date (D-06, D-07)
        case
            when deadlines.deadline_at is null then 'open_within_limit'
            when deadlines.judged_by = 'window_free'
                then
                    case
                        when deadlines.completed_at <= deadlines.deadline_at then 'breached'
                        when deadlines.deadline_at < as_of.as_of_at then 'met'
                        else 'open_within_limit'
                    end
            when deadlines.is_completion_void then 'breached'
            when deadlines.completed_at <= deadlines.deadline_at then 'met'
            when deadlines.completed_at is not null then 'breached'
            when deadlines.deadline_at < as_of.as_of_at then 'open_overdue'
            else 'open_within_limit'
        end as part_state
    from deadlines
    cross join as_of

)

select * from final
