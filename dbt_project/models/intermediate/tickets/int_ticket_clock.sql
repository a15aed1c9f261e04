-- The time-limit engine's verdict: one row per ticket × applicable measure, with its clock,
-- deadline, state and the month it is judged in (docs/decisions.md D-05, D-06, D-13).
-- A measure with several parts is met when every part is met (at the latest completion) and
-- breached when any part is (at the earliest breached deadline); otherwise it is still open.
-- A customer_unreachable pause is a pause like any other (D-05): it stops the clock when the
-- visit was within the limit, and excuses nothing else. V5 / V6 (window_free): breached at the
-- follow-up event, met at the window's end. Breaches and window ends take the month of
-- (deadline − 1 s), the deadline as extended by the pauses (D-114).
-- Incremental (D-70): a run judges the tickets of int_tickets_rejudged, replacing their rows.

{{ config(materialized='incremental', unique_key='sla_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with parts as (

    select * from {{ ref('int_ticket_deadlines') }}
    {{ only_rejudged_tickets() }}

),

as_of as (

    select * from {{ ref('int_tickets_as_of') }}

),

combined as (

    select
        ticket_id,
        measure_id,
        max(judged_by) as judged_by,
        count(*) as parts,
        sum(case when part_state = 'met' then 1 else 0 end) as parts_met,
        sum(case when part_state = 'breached' then 1 else 0 end) as parts_breached,
        sum(case when part_state = 'open_overdue' then 1 else 0 end) as parts_open_overdue,
        sum(case when part_state = 'open_within_limit' then 1 else 0 end) as parts_open,
        min(clock_start_at) as clock_start_at,
        max(paused_seconds) as paused_seconds,
        min(case when part_state in ('breached', 'open_overdue') then deadline_at end) as first_breached_deadline_at,
        max(deadline_at) as last_deadline_at,
        max(completed_at) as completed_at,
        max(case when part_state = 'met' then completed_at end) as last_met_completion_at
    from parts
    group by ticket_id, measure_id

),

stated as (

    select
        combined.*,
        as_of.as_of_at,
        case
            when combined.parts_breached > 0 then 'breached'
            when combined.parts_open_overdue > 0 then 'open_overdue'
            when combined.parts_open > 0 then 'open_within_limit'
            else 'met'
        end as state
    from combined
    cross join as_of

),

outcomes as (

    select
        *,
        case
            when state = 'open_within_limit' then null
            when judged_by = 'window_free' and state = 'breached' then completed_at
            when judged_by = 'window_free' then last_deadline_at
            when state = 'met' then last_met_completion_at
            else first_breached_deadline_at
        end as outcome_at,
        -- whether the outcome is a deadline (or window end): its month is that of (deadline − 1 s)
        case
            when judged_by = 'window_free' then state = 'met'
            else state <> 'met'
        end as is_outcome_deadline
    from stated

),

final as (

    select
        -- ids
        {{ dbt.concat(['ticket_id', "'|'", 'measure_id']) }} as sla_id,
        ticket_id,
        measure_id,
        -- clock
        judged_by,
        parts,
        clock_start_at,
        paused_seconds,
        case when state in ('breached', 'open_overdue') and judged_by = 'deadline'
                then first_breached_deadline_at
            else last_deadline_at
        end as deadline_at,
        completed_at,
        -- verdict
        state,
        state = 'met' as is_met,
        state <> 'open_within_limit' as is_judged,
        outcome_at,
        case
            when outcome_at is null then null
            when is_outcome_deadline then {{ deadline_month('outcome_at') }}
            else {{ month_text('outcome_at') }}
        end as period_month
    from outcomes

)

select * from final
