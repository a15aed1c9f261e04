-- B1 (wait by tier) and B2 (VIP card holder received) by month and unit (company, hall),
-- as judged in kpi_rule_results.

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
        name_zh,
        name_en,
        -- figures
        numerator as visits_within_limit,
        denominator as visits_judged,
        value,
        threshold,
        comparison,
        passed
    from rule_results
    where measure_id in ('B1', 'B2')

)

select * from final
