{#-
    The tickets whose verdicts can change tonight (docs/decisions.md D-70): the incremental ticket
    engine (int_ticket_sla_parts, int_ticket_deadlines, int_ticket_clock, fct_ticket_sla,
    fct_tickets) judges these afresh and keeps every other ticket's rows. With the cutoff
    max(export_date) of the previous build's fct_tickets − var('incremental_lookback_days'):
      - inputs: tickets exported since the cutoff; tickets with a pause or a callback exported
        since it (every version of that pause or callback: one may have moved to another ticket);
        tickets whose source call was exported since it (T8);
      - other tickets' follow-ups: every ticket of a customer of any version of an exported ticket
        (V5: first later fault of the customer) and every ticket any version of an exported ticket
        relates to (V6: first later complaint about it);
      - the as-of date: a ticket with a part still open within its limit whose deadline is not
        before the cutoff. Any other part is already decided, or has no deadline yet and so waits
        for an input: the as-of time alone moves only a deadline not yet passed at the previous
        build's as-of time (which is after the cutoff) over to overdue (or met for V5 / V6 and a
        T2 with the customer unreachable).
    On a first build or --full-refresh (no previous build) every ticket.
-#}
{%- set tickets_before = previous_build('fct_tickets') -%}
{%- set parts_before = previous_build('int_ticket_deadlines') -%}
{#- sqlfluff compiles on an empty warehouse, the full-refresh branch, which leaves these import CTEs unused -#}
-- noqa: disable=ST03

with tickets as (

    select * from {{ ref('stg_tickets') }}

),

pauses as (

    select * from {{ ref('stg_ticket_pauses') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

calls as (

    select * from {{ ref('stg_calls') }}

),

ticket_history as (

    select * from {{ source('raw', 'tickets_history') }}

),

pause_history as (

    select * from {{ source('raw', 'ticket_pauses_history') }}

),

callback_history as (

    select * from {{ source('raw', 'callbacks_history') }}

),

{% if tickets_before is none or parts_before is none -%}
rejudged as (

    select ticket_id from tickets

)
{%- else -%}
cutoff as (

    select
        {{ incremental_cutoff_date() }} as cutoff_date
    from {{ tickets_before }}

),

exported_tickets as (

    select tickets.ticket_id
    from tickets
    cross join cutoff
    where tickets.export_date >= cutoff.cutoff_date

),

ticket_versions as (

    select versions.ticket_id, versions.customer_id, versions.related_ticket_id
    from ticket_history as versions
    inner join exported_tickets on exported_tickets.ticket_id = versions.ticket_id

),

exported_pauses as (

    select versions.ticket_id
    from pause_history as versions
    where versions.pause_id in (
        select pauses.pause_id
        from pauses
        cross join cutoff
        where pauses.export_date >= cutoff.cutoff_date
    )

),

exported_callbacks as (

    select versions.ticket_id
    from callback_history as versions
    where versions.callback_id in (
        select callbacks.callback_id
        from callbacks
        cross join cutoff
        where callbacks.export_date >= cutoff.cutoff_date
    )

),

exported_calls as (

    select calls.call_id
    from calls
    cross join cutoff
    where calls.export_date >= cutoff.cutoff_date

),

open_before as (

    select parts.ticket_id
    from {{ parts_before }} as parts
    cross join cutoff
    where parts.part_state = 'open_within_limit'
        and parts.deadline_at >= cast(cutoff.cutoff_date as {{ dbt.type_timestamp() }})

),

rejudged as (

    select ticket_id from ticket_versions
    union
    select ticket_id from exported_pauses
    union
    select ticket_id from exported_callbacks
    union
    select tickets.ticket_id
    from tickets
    inner join exported_calls on exported_calls.call_id = tickets.source_call_id
    union
    select tickets.ticket_id
    from tickets
    inner join ticket_versions on ticket_versions.customer_id = tickets.customer_id
    union
    select related_ticket_id from ticket_versions
    union
    select ticket_id from open_before

)
{%- endif %}

select distinct rejudged.ticket_id
from rejudged
inner join tickets on tickets.ticket_id = rejudged.ticket_id
