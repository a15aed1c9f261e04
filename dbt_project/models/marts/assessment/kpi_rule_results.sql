-- One row per measure × month × grain × unit: the number every rule is judged by.
-- Key columns equal the generator's answer key (expected/kpi_expected.csv), so a
-- plain join compares them. Thresholds come from the rulebook seeds, never from SQL.
-- A measure x grain x month whose inputs an export lacked (kpi_rule_measurability) has no row
-- here: never a value computed from NULLs, the reason is in kpi_rule_measurability (D-90).

with results as (

    select * from {{ ref('int_kpi__tickets') }}
    union all
    select * from {{ ref('int_kpi__contacts') }}
    union all
    select * from {{ ref('int_kpi__district') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

targets as (

    select * from {{ ref('rulebook_targets') }}

),

measurability as (

    select * from {{ ref('kpi_rule_measurability') }}

),

calendar_months as (

    select * from {{ ref('dim_month') }}

),

valued as (

    select
        -- keys
        results.measure_id,
        results.period_month,
        results.grain,
        results.unit_id,
        -- figures
        results.numerator,
        results.denominator,
        cast(results.numerator as double) / results.denominator as value,
        -- threshold: per-unit target where the rulebook has one, else the measure's single target;
        -- a measure on a linear pace (C6) must reach month/12 of it by each month
        coalesce(unit_target.target, single_target.target)
        * case
            when measures.pace = 'linear'
                then cast(substring(results.period_month, 6, 2) as double) / 12
            else 1.0
        end as threshold,
        measures.comparison,
        measures.rule_id,
        measures.name_zh,
        measures.name_en
    from results
    inner join measures on measures.measure_id = results.measure_id
    left join targets as unit_target
        on unit_target.measure_id = results.measure_id
        and unit_target.target_key = results.target_key
    left join targets as single_target
        on single_target.measure_id = results.measure_id
        and single_target.target_key = '*'
    left join measurability
        on measurability.measure_id = results.measure_id
        and measurability.grain = results.grain
        and measurability.period_month = results.period_month
    where results.denominator > 0
        and coalesce(measurability.measurable, true)

),

judged as (

    select
        *,
        {{ rulebook_passed('value', 'comparison', 'threshold') }} as passed
    from valued

),

statused as (

    select
        *,
        {{ rulebook_status('value', 'threshold', 'passed') }} as status
    from judged

),

final as (

    select
        statused.*,
        -- the same unit's figure the month before (D-149)
        previous.value as previous_value,
        previous.passed as previous_passed,
        statused.value - previous.value as change
    from statused
    left join calendar_months
        on calendar_months.period_month = statused.period_month
    left join statused as previous
        on previous.measure_id = statused.measure_id
        and previous.grain = statused.grain
        and previous.unit_id = statused.unit_id
        and previous.period_month = calendar_months.previous_month

)

select * from final
