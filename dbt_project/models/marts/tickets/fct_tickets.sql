{#- The SLA measures of the time-limit engine, one group of columns each (int_ticket_clock). -#}
{%- set sla_measures = rulebook_ticket_clock_measures() -%}
-- One row per ticket (current version) with every SLA column: for each measure that applies, its
-- deadline, state, met flag and judged month (null where the measure does not apply).

-- Incremental (D-70): a run rewrites the tickets of int_tickets_rejudged.

{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='rejudge',
          on_schema_change='fail', pre_hook="{{ delete_rejudged_tickets() }}") }}
-- depends_on: {{ ref('int_tickets_rejudged') }}

with tickets as (

    select * from {{ ref('stg_tickets') }}
    {{ only_rejudged_tickets() }}

),

clock as (

    select * from {{ ref('int_ticket_clock') }}
    {{ only_rejudged_tickets() }}

),

sla as (

    select
        ticket_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as sla_measures_applied,
        cast(sum(case when state in ('breached', 'open_overdue') then 1 else 0 end) as {{ dbt.type_bigint() }}) as sla_measures_breached,
        cast(sum(case when state = 'open_within_limit' then 1 else 0 end) as {{ dbt.type_bigint() }}) as sla_measures_open,
        -- sqlfluff cannot indent a Jinja loop of select targets
        -- noqa: disable=LT02
        {%- for m in sla_measures %}
        {%- set p = m | lower %}
        max(case when measure_id = '{{ m }}' then deadline_at end) as {{ p }}_deadline_at,
        max(case when measure_id = '{{ m }}' then state end) as {{ p }}_state,
        max(case when measure_id = '{{ m }}' then case when is_met then 1 else 0 end end) = 1 as {{ p }}_is_met,
        max(case when measure_id = '{{ m }}' then period_month end) as {{ p }}_period_month{{ ',' if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from clock
    group by ticket_id

),

final as (

    select
        -- ids
        tickets.ticket_id,
        tickets.customer_id,
        tickets.district_id,
        tickets.technician_id,
        tickets.source_call_id,
        tickets.related_ticket_id,
        -- attributes
        tickets.ticket_type,
        tickets.product,
        tickets.severity,
        tickets.restoration_kind,
        tickets.needs_survey,
        tickets.customer_tier,
        tickets.customer_tier in {{ rulebook_vip_tiers() }} as is_vip,
        tickets.customer_kind,
        tickets.area_type,
        tickets.channel,
        tickets.status,
        tickets.reopen_count,
        -- timestamps
        tickets.opened_at,
        tickets.formalities_complete_at,
        coalesce(tickets.formalities_complete_at, tickets.opened_at) as clock_start_at,
        tickets.first_reply_at,
        tickets.dispatched_at,
        tickets.appointment_at,
        tickets.arrived_at,
        tickets.resolved_at,
        tickets.feedback_at,
        tickets.closed_at,
        tickets.updated_at,
        -- SLA summary
        coalesce(sla.sla_measures_applied, 0) as sla_measures_applied,
        coalesce(sla.sla_measures_breached, 0) as sla_measures_breached,
        coalesce(sla.sla_measures_open, 0) as sla_measures_open,
        -- SLA per measure
        {%- for m in sla_measures %}
        {%- set p = m | lower %}
        sla.{{ p }}_deadline_at,
        sla.{{ p }}_state,
        sla.{{ p }}_is_met,
        sla.{{ p }}_period_month,
        {%- endfor %}
        -- lineage
        tickets.export_date,
        tickets.file_id,
        tickets.source_row_number
    from tickets
    left join sla on sla.ticket_id = tickets.ticket_id

)

select * from final
