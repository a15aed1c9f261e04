-- H1-H5 by month and unit, as judged in kpi_rule_results (thresholds and pass/fail come from there).

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
        numerator,
        denominator,
        value,
        threshold,
        comparison,
        passed
    from rule_results
    where measure_id in ('H1', 'H2.1', 'H2.2', 'H3.1', 'H3.2', 'H3.3', 'H4', 'H5')

)

select * from final
