-- One row per business-hall visit with its wait, the limit of its tier and the B1 / B2 flags (D-45).
-- Incremental (D-70): the visits exported since the last run (lookback on export_date); merged on visit_id.

{{ config(materialized='incremental', unique_key='visit_id', incremental_strategy='merge', on_schema_change='fail') }}

with visits as (

    select * from {{ ref('int_hall_visits_judged') }}
    {{ incremental_since_last_export() }}

),

final as (

    select
        -- ids
        visit_id,
        hall_id,
        district_id,
        customer_id,
        -- dimensions
        customer_tier,
        wait_limit_key,
        is_vip_card_shown,
        -- timestamps
        ticket_taken_at,
        served_at,
        received_at,
        period_month,
        -- waits and limits
        wait_seconds,
        wait_limit_seconds,
        reception_seconds,
        reception_limit_seconds,
        -- flags
        is_served_within_limit,
        case when is_vip_card_shown then is_received_within_limit end as is_received_within_limit,
        -- lineage
        export_date
    from visits

)

select * from final
