-- What happened to a resolved ticket afterwards (one row per resolved ticket): the first callback
-- that reached the customer at or after the final resolved_at (C1, C2; docs/decisions.md D-40),
-- the first new fault ticket of the same customer opened after it (V5, D-15) and the first
-- complaint about it (related_ticket_id) opened after it (V6, D-16). The windows themselves
-- (72 h, working days, 30 days) are applied by the time-limit engine from the rulebook limits.
-- Incremental (D-70): part of the ticket engine. A resolved ticket's follow-ups change only when the
-- ticket, a callback on it, or a later fault or complaint that concerns it is exported, and each of
-- those puts it in int_tickets_rejudged; a run re-derives those tickets and keeps every other row.

{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with tickets as (

    select * from {{ ref('stg_tickets') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

resolved_tickets as (

    select
        ticket_id,
        customer_id,
        resolved_at
    from tickets
    where resolved_at is not null
        {{ only_rejudged_tickets('and') }}  -- noqa: LT02

),

reaching_callbacks as (

    select
        ticket_id,
        callback_at
    from callbacks
    where ticket_id is not null
        and outcome in ('reached', 'problem_found')

),

first_callbacks as (

    select
        resolved_tickets.ticket_id,
        min(reaching_callbacks.callback_at) as first_callback_at
    from resolved_tickets
    inner join reaching_callbacks
        on reaching_callbacks.ticket_id = resolved_tickets.ticket_id
        and reaching_callbacks.callback_at >= resolved_tickets.resolved_at
    group by resolved_tickets.ticket_id

),

fault_tickets as (

    select
        ticket_id,
        customer_id,
        opened_at
    from tickets
    where ticket_type = 'fault'

),

first_repeat_faults as (

    -- "after" is strict: a ticket opened at the very minute of resolved_at is no repeat (D-15)
    select
        resolved_tickets.ticket_id,
        min(fault_tickets.opened_at) as first_repeat_fault_at
    from resolved_tickets
    inner join fault_tickets
        on fault_tickets.customer_id = resolved_tickets.customer_id
        and fault_tickets.ticket_id <> resolved_tickets.ticket_id
        and fault_tickets.opened_at > resolved_tickets.resolved_at
    group by resolved_tickets.ticket_id

),

complaint_tickets as (

    select
        related_ticket_id,
        opened_at
    from tickets
    where ticket_type = 'complaint'
        and related_ticket_id is not null

),

first_complaints as (

    select
        resolved_tickets.ticket_id,
        min(complaint_tickets.opened_at) as first_complaint_at
    from resolved_tickets
    inner join complaint_tickets
        on complaint_tickets.related_ticket_id = resolved_tickets.ticket_id
        and complaint_tickets.opened_at > resolved_tickets.resolved_at
    group by resolved_tickets.ticket_id

),

final as (

    select
        -- ids
        resolved_tickets.ticket_id,
        -- timestamps
        resolved_tickets.resolved_at,
        first_callbacks.first_callback_at,
        first_repeat_faults.first_repeat_fault_at,
        first_complaints.first_complaint_at
    from resolved_tickets
    left join first_callbacks on first_callbacks.ticket_id = resolved_tickets.ticket_id
    left join first_repeat_faults on first_repeat_faults.ticket_id = resolved_tickets.ticket_id
    left join first_complaints on first_complaints.ticket_id = resolved_tickets.ticket_id

)

select * from final
