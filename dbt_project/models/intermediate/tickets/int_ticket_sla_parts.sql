-- Which time limits apply to each ticket (docs/decisions.md D-05, D-10..D-16; rulebook applies_to):
-- one row per ticket × measure × part, with the limit that selects its deadline (joined from the
-- rulebook, never typed here), the clock start and the completing timestamp. A measure with
-- several parts (T7, V7) is met only when every part is (D-13); all others have the part 'main'.
-- judged_by: 'deadline' = met when completed by the deadline; 'window_free' = met when no
-- follow-up event (repeat fault, complaint) falls in the window (V5, V6).
-- Incremental (D-70): a run re-derives the tickets of int_tickets_rejudged, replacing their rows.

{{ config(materialized='incremental', unique_key='sla_part_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with tickets as (

    select * from {{ ref('stg_tickets') }}
    {{ only_rejudged_tickets() }}

),

calls as (

    select * from {{ ref('stg_calls') }}

),

followups as (

    select * from {{ ref('int_ticket_followups') }}

),

limits as (

    select * from {{ ref('rulebook_limits') }}

),

enriched as (

    select
        tickets.*,
        tickets.customer_tier in {{ rulebook_vip_tiers() }} as is_vip,
        -- the clock starts when the customer's formalities are complete, else at opening (D-05)
        coalesce(tickets.formalities_complete_at, tickets.opened_at) as clock_start_at,
        calls.ended_at as source_call_ended_at,
        followups.first_callback_at,
        followups.first_repeat_fault_at,
        followups.first_complaint_at
    from tickets
    left join calls on calls.call_id = tickets.source_call_id
    left join followups on followups.ticket_id = tickets.ticket_id

),

rules_applied as (

    -- T9: every ticket, opened to first reply, no pauses (D-10)
    select
        ticket_id, 'T9' as measure_id, 'main' as part_id, 'all' as limit_key,
        opened_at as clock_start_at, first_reply_at as completed_at, false as is_completion_void,
        false as uses_pauses, 'deadline' as judged_by
    from enriched

    union all

    -- T8: a ticket from a call, the call's end to opening; a call not in the export is not judged (D-45)
    select
        ticket_id, 'T8', 'main', 'all',
        source_call_ended_at, opened_at, false,
        false, 'deadline'
    from enriched
    where source_call_id is not null
        and source_call_ended_at is not null

    union all

    -- T1: faults of the HD interactive service, limit by severity (D-11)
    select
        ticket_id, 'T1', 'main', severity,
        clock_start_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type = 'fault'
        and product = 'hd_interactive'

    union all

    -- T2: every other fault; a customer_unreachable pause stops the clock like any pause (D-05)
    select
        ticket_id, 'T2', 'main', severity,
        clock_start_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type = 'fault'
        and (product is null or product <> 'hd_interactive')

    union all

    -- T3: every new installation, working days by urban / rural (D-12)
    select
        ticket_id, 'T3', 'main', area_type,
        clock_start_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type = 'new_install'

    union all

    -- T4: installs and moves without a line survey for individual customers (D-12)
    select
        ticket_id, 'T4', 'main', 'all',
        clock_start_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type in ('new_install', 'move')
        and needs_survey = false
        and customer_kind = 'individual'

    union all

    -- T5: line surveys, from opening
    select
        ticket_id, 'T5', 'main', 'all',
        opened_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type = 'line_survey'

    union all

    -- T6: restorations, limit by restoration kind
    select
        ticket_id, 'T6', 'main', restoration_kind,
        clock_start_at, resolved_at, false,
        true, 'deadline'
    from enriched
    where ticket_type = 'restoration'

    union all

    -- T7 (D-13): initial reply, answer by working days, and for VIP customers same-day closing
    -- (or within 48 h with an explanation filed)
    select
        ticket_id, 'T7', 'initial_reply', 'initial_reply',
        opened_at, first_reply_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'complaint'

    union all

    select
        ticket_id, 'T7', 'answer', 'answer',
        opened_at, resolved_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'complaint'

    union all

    select
        ticket_id, 'T7', 'vip_close',
        case when explanation_filed then 'vip_close_exception' else 'vip_close' end,
        opened_at, resolved_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'complaint'
        and is_vip

    union all

    -- C9: VIP questions not answered on the spot
    select
        ticket_id, 'C9', 'main', 'all',
        opened_at, resolved_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'consultation'
        and is_vip
        and answered_on_spot = false

    union all

    -- V7: VIP applications; an entry that failed or lacks the accuracy check breaches (D-03)
    select
        ticket_id, 'V7', 'entry', 'entry',
        opened_at, entered_at,
        entered_at is not null and (entry_accurate is null or entry_accurate = false),
        false, 'deadline'
    from enriched
    where ticket_type = 'vip_application'

    union all

    select
        ticket_id, 'V7', 'dispatch', 'dispatch',
        entered_at, dispatched_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'vip_application'

    union all

    select
        ticket_id, 'V7', 'approval_submitted', 'approval_submitted',
        opened_at, approval_submitted_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'vip_application'
        and channel = 'leadership'

    union all

    select
        ticket_id, 'V7', 'approval_done', 'approval_done',
        opened_at, approval_done_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'vip_application'
        and channel = 'leadership'

    union all

    select
        ticket_id, 'V7', 'email_reply', 'email_reply',
        opened_at, first_reply_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'vip_application'
        and channel = 'email'

    union all

    -- C1: callback after installs, repairs and complaints (D-40)
    select
        ticket_id, 'C1', 'main', 'all',
        resolved_at, first_callback_at, false,
        false, 'deadline'
    from enriched
    where resolved_at is not null
        and ticket_type in ('new_install', 'fault', 'complaint')

    union all

    -- C2: VIP callback in working days after the resolved date, limit by ticket type
    select
        ticket_id, 'C2', 'main', ticket_type,
        resolved_at, first_callback_at, false,
        false, 'deadline'
    from enriched
    where resolved_at is not null
        and is_vip

    union all

    -- V1: VIP emergency repair, arrival within the limit
    select
        ticket_id, 'V1', 'main', 'all',
        opened_at, arrived_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'fault'
        and is_vip
        and severity = 'emergency'

    union all

    -- V2: VIP repair completed after arrival (the exception limit with an explanation filed)
    select
        ticket_id, 'V2', 'main',
        case when explanation_filed then 'exception' else 'normal' end,
        arrived_at, resolved_at, false,
        false, 'deadline'
    from enriched
    where ticket_type = 'fault'
        and is_vip
        and arrived_at is not null

    union all

    -- V3: VIP appointment kept
    select
        ticket_id, 'V3', 'main', 'all',
        appointment_at, arrived_at, false,
        false, 'deadline'
    from enriched
    where is_vip
        and appointment_at is not null

    union all

    -- V4: feedback on resolved_at's own date; feedback on an earlier date is no same-day feedback (D-03)
    select
        ticket_id, 'V4', 'main', 'all',
        resolved_at, feedback_at,
        feedback_at is not null and cast(feedback_at as date) < cast(resolved_at as date),
        false, 'deadline'
    from enriched
    where resolved_at is not null
        and is_vip
        and ticket_type in ('new_install', 'fault')

    union all

    -- V5: no new fault of the same customer within the window after a VIP repair (D-15)
    select
        ticket_id, 'V5', 'main', 'all',
        resolved_at, first_repeat_fault_at, false,
        false, 'window_free'
    from enriched
    where resolved_at is not null
        and is_vip
        and ticket_type = 'fault'

    union all

    -- V6: no complaint about a VIP install or repair within the window (D-16)
    select
        ticket_id, 'V6', 'main', 'all',
        resolved_at, first_complaint_at, false,
        false, 'window_free'
    from enriched
    where resolved_at is not null
        and is_vip
        and ticket_type in ('new_install', 'fault')

),

final as (

    -- the inner join keeps only qualifiers the rulebook has a limit for
    select
        -- ids
        {{ dbt.concat(['rules_applied.ticket_id', "'|'", 'rules_applied.measure_id', "'|'", 'rules_applied.part_id']) }} as sla_part_id,
        rules_applied.ticket_id,
        rules_applied.measure_id,
        rules_applied.part_id,
        rules_applied.limit_key,
        -- limit
        limits.limit_text,
        limits.limit_seconds,
        limits.limit_working_days,
        -- timestamps
        rules_applied.clock_start_at,
        rules_applied.completed_at,
        -- flags
        rules_applied.is_completion_void,
        rules_applied.uses_pauses,
        rules_applied.judged_by
    from rules_applied
    inner join limits
        on limits.measure_id = rules_applied.measure_id
        and limits.limit_key = rules_applied.limit_key

)

select * from final
