-- H1-H5 by month and unit, as judged in kpi_rule_results (thresholds and pass/fail come from there).

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

final as (

    select
        -- keys
        period_month,
        rule_id,
        grain,
        unit_id,
        -- names
        catalogue_rule_id,
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
    where rule_id in ({{ rulebook_sql_list(rulebook_family('H')) }})

)

select * from final
