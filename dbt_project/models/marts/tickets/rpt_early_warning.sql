-- Early warning: every open duty of a ticket that is already overdue or falls due within
-- var early_warning_hours (default 4) of the as-of time (24:00 of the last business date, D-07),
-- with its rule, deadline, district and technician. One row per ticket × measure × open part;
-- measures already met (e.g. T2 with the customer unreachable) and follow-up windows (V5, V6) are
-- not duties and are left out.

with parts as (

    select * from {{ ref('int_ticket_deadlines') }}

),

clock as (

    select * from {{ ref('int_ticket_clock') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

as_of as (

    select * from {{ ref('int_tickets_as_of') }}

),

open_parts as (

    select
        parts.*,
        as_of.as_of_at,
        clock.state as measure_state,
        {{ seconds_between('as_of.as_of_at', 'parts.deadline_at') }} / 3600.0 as hours_left
    from parts
    cross join as_of
    inner join clock
        on clock.ticket_id = parts.ticket_id
        and clock.measure_id = parts.measure_id
    where parts.judged_by = 'deadline'
        and parts.part_state in ('open_overdue', 'open_within_limit')
        and parts.deadline_at is not null
        and clock.state <> 'met'

),

final as (

    select
        -- ids
        open_parts.ticket_id,
        open_parts.measure_id,
        open_parts.part_id,
        tickets.district_id,
        tickets.technician_id,
        -- rule
        measures.name_zh,
        measures.name_en,
        open_parts.limit_key,
        open_parts.limit_text,
        -- ticket
        tickets.ticket_type,
        tickets.customer_tier,
        tickets.opened_at,
        -- clock
        open_parts.clock_start_at,
        open_parts.paused_seconds,
        open_parts.deadline_at,
        open_parts.as_of_at,
        open_parts.hours_left,
        case when open_parts.part_state = 'open_overdue' then 'overdue' else 'due_soon' end as warning_level,
        open_parts.measure_state
    from open_parts
    inner join tickets on tickets.ticket_id = open_parts.ticket_id
    inner join measures on measures.measure_id = open_parts.measure_id
    where open_parts.part_state = 'open_overdue'
        or open_parts.hours_left <= {{ var('early_warning_hours', 4) }}

)

select * from final
