-- Ticket × measure, long form: every time limit that applies to a ticket with its clock, deadline,
-- state and the month it is judged in. The table to trace a red cell of kpi_rule_results to its
-- tickets: filter measure_id, period_month and the unit's column (district_id / technician_id), and
-- is_judged. A measure defined as another (A3 = T9, rulebook same_as) is listed under both ids.

-- Incremental (D-70): a run rewrites the tickets of int_tickets_rejudged.

{{ config(materialized='incremental', unique_key='sla_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with clock as (

    select * from {{ ref('int_ticket_clock') }}
    {{ only_rejudged_tickets() }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}
    {{ only_rejudged_tickets() }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

final as (

    select
        -- ids
        {{ dbt.concat(['clock.ticket_id', "'|'", 'measures.measure_id']) }} as sla_id,
        measures.measure_id,
        clock.measure_id as source_measure_id,
        clock.ticket_id,
        tickets.district_id,
        tickets.technician_id,
        tickets.customer_id,
        -- ticket
        tickets.ticket_type,
        tickets.product,
        tickets.severity,
        tickets.customer_tier,
        tickets.area_type,
        tickets.opened_at,
        tickets.resolved_at,
        -- clock
        clock.judged_by,
        clock.parts,
        clock.clock_start_at,
        clock.paused_seconds,
        clock.deadline_at,
        clock.completed_at,
        -- verdict
        clock.state,
        clock.is_met,
        clock.is_judged,
        clock.is_met_by_customer_unreachable,
        clock.outcome_at,
        clock.period_month,
        -- rule
        measures.name_zh,
        measures.name_en
    from clock
    inner join tickets on tickets.ticket_id = clock.ticket_id
    inner join measures
        on measures.measure_id = clock.measure_id
        or measures.same_as = clock.measure_id

)

select * from final
