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
    where measure_id in ({{ rulebook_sql_list(rulebook_family('H')) }})

)

select * from final
