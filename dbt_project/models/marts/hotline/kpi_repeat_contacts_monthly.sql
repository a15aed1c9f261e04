-- R3 repeat contacts (首问负责, D-53) by month and unit. Measured only: the rulebook sets no
-- threshold, so threshold and passed stay empty.

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
        numerator as repeat_calls,
        denominator as identified_calls,
        value as repeat_rate,
        threshold,
        passed
    from rule_results
    where measure_id = 'R3'

)

select * from final
