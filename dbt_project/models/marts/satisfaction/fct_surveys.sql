-- One row per survey answer with its validity and satisfaction (D-30).
-- Incremental (D-70): the answers exported since the last run (lookback on export_date); merged on survey_id.

{{ config(materialized='incremental', unique_key='survey_id', incremental_strategy='merge', on_schema_change='fail') }}

with surveys as (

    select * from {{ ref('int_surveys_classified') }}
    {{ incremental_since_last_export() }}

),

final as (

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
        brand_group,
        answer,
        -- timestamps
        surveyed_at,
        period_month,
        -- flags
        is_valid,
        is_satisfied,
        -- lineage
        export_date
    from surveys

)

select * from final
