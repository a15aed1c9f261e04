-- One row per business-hall visit judged against B1 (wait by tier) and B2 (VIP card received).
-- A visitor who left unserved, or a card holder never received, is a breach (D-45).
-- Incremental (D-70): the visits exported since the last run (lookback on export_date); merged on visit_id.

{{ config(materialized='incremental', unique_key='visit_id', incremental_strategy='merge', on_schema_change='fail') }}

with visits as (

    select * from {{ ref('stg_hall_visits') }}
    {{ incremental_since_last_export() }}

),

limits as (

    select * from {{ ref('rulebook_limits') }}

),

keyed as (

    select
        visits.*,
        {{ contacts_hall_limit_key('visits.customer_tier') }} as wait_limit_key
    from visits

),

judged as (

    select
        -- ids
        keyed.visit_id,
        keyed.hall_id,
        keyed.district_id,
        keyed.customer_id,
        -- dimensions
        keyed.customer_tier,
        keyed.wait_limit_key,
        coalesce(keyed.vip_card_shown, false) as is_vip_card_shown,
        -- timestamps
        keyed.ticket_taken_at,
        keyed.served_at,
        keyed.received_at,
        {{ month_text('keyed.ticket_taken_at') }} as period_month,
        -- waits
        case
            when keyed.served_at is not null
                then {{ dbt.datediff('keyed.ticket_taken_at', 'keyed.served_at', 'second') }}
        end as wait_seconds,
        case
            when keyed.received_at is not null
                then {{ dbt.datediff('keyed.ticket_taken_at', 'keyed.received_at', 'second') }}
        end as reception_seconds,
        b1_limit.limit_seconds as wait_limit_seconds,
        b2_limit.limit_seconds as reception_limit_seconds,
        -- B1 / B2
        {{ contacts_within('keyed.ticket_taken_at', 'keyed.served_at', 'b1_limit.limit_seconds') }}
            as is_served_within_limit,
        {{ contacts_within('keyed.ticket_taken_at', 'keyed.received_at', 'b2_limit.limit_seconds') }}
            as is_received_within_limit,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        keyed.export_date
    from keyed
    inner join limits as b1_limit
        on b1_limit.measure_id = 'B1'
        and b1_limit.limit_key = keyed.wait_limit_key
    inner join limits as b2_limit
        on b2_limit.measure_id = 'B2'
        and b2_limit.limit_key = 'all'

),

final as (

    select * from judged

)

select * from final
