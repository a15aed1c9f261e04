-- One row per survey answer with its validity and satisfaction (D-30).

with surveys as (

    select * from {{ ref('int_surveys_classified') }}

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
        is_satisfied
    from surveys

)

select * from final
