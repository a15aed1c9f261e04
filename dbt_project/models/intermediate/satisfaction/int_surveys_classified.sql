-- One row per survey answer, mapped to valid / satisfied (D-30): unreachable and refused are
-- not valid answers; 4-5 on the 1-5 scale and 满意 / 基本满意 on the verbal scale are satisfied.
-- Incremental (D-70): the answers exported since the last run (lookback on export_date); merged on survey_id.

{{ config(materialized='incremental', unique_key='survey_id', incremental_strategy='merge', on_schema_change='fail') }}

with surveys as (

    select * from {{ ref('stg_surveys') }}
    {{ incremental_since_last_export() }}

),

classified as (

    select
        -- ids
        survey_id,
        ticket_id,
        call_id,
        customer_id,
        district_id,
        -- dimensions
        channel,
        customer_tier,
        {{ contacts_brand_group('customer_tier') }} as brand_group,
        answer,
        -- period
        surveyed_at,
        {{ month_text('surveyed_at') }} as period_month,
        -- flags
        answer not in ('unreachable', 'refused') as is_valid,
        answer in ('score_5', 'score_4', 'satisfied', 'basically_satisfied') as is_satisfied,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        export_date
    from surveys

),

final as (

    select * from classified

)

select * from final
