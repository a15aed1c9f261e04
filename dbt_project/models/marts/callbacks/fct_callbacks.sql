-- One row per callback (回访): reason, channel, outcome, whether it reached the customer
-- (D-40), whether it fell in the last week of its month (C3), and, for problems found,
-- whether the problem was handled (and the repair dispatched) the same day (C4).
-- Incremental (D-70): the callbacks exported since the last run (lookback on export_date); merged on callback_id.

{{ config(materialized='incremental', unique_key='callback_id', incremental_strategy='merge', on_schema_change='fail') }}

with callbacks as (

    select * from {{ ref('stg_callbacks') }}
    {{ incremental_since_last_export() }}

),

problems as (

    select * from {{ ref('int_callbacks_problems_judged') }}

),

months as (

    select * from {{ ref('int_months_enumerated') }}

),

final as (

    select
        -- ids
        callbacks.callback_id,
        callbacks.ticket_id,
        callbacks.work_id,
        callbacks.customer_id,
        callbacks.district_id,
        -- attributes
        callbacks.reason,
        callbacks.channel,
        callbacks.outcome,
        callbacks.outcome in ({{ district_reached_outcomes() }}) as is_reached,
        -- timestamps
        callbacks.callback_at,
        callbacks.problem_handled_at,
        callbacks.repair_dispatched_at,
        {{ month_text('callbacks.callback_at') }} as period_month,
        cast(callbacks.callback_at as date)
        > cast({{ dbt.dateadd('week', -1, 'months.month_end') }} as date) as is_in_last_week_of_month,
        -- C4
        callbacks.repair_needed,
        problems.is_handled_same_day,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        callbacks.export_date
    from callbacks
    left join months on months.period_month = {{ month_text('callbacks.callback_at') }}
    left join problems on problems.callback_id = callbacks.callback_id

)

select * from final
