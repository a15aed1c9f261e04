-- S1 (hotline by brand group), S2 / A4 (districts, ticket surveys) and S3 (VIP installs and repairs)
-- by month and unit, as judged in kpi_rule_results.

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

final as (

    select
        -- keys
        period_month,
        measure_id,
        grain,
        unit_id,
        -- names
        rule_id,
        name_zh,
        name_en,
        -- figures
        numerator as satisfied_answers,
        denominator as valid_answers,
        value as satisfaction_rate,
        threshold,
        comparison,
        passed
    from rule_results
    where measure_id in ('S1', 'S2', 'S3', 'A4')

)

select * from final
