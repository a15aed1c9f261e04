-- The year-to-date tally of every judged rule (A5 每月考核,年度汇总; D-148): one row per month ×
-- rule × grain × unit of the year, counting the unit's months judged / passed / failed from January
-- through that month. A unit judged in some month keeps a row in every later month of the year (its
-- tally carries on). Counts the verdicts of kpi_rule_results, never re-judges them. The month close
-- (kefu.pipeline.close_month), the monthly report and the dashboard read it.

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}
    where threshold is not null

),

months as (

    select distinct period_month from {{ ref('kpi_rule_results') }}

),

unit_years as (

    select
        measure_id,
        rule_id,
        grain,
        unit_id,
        substring(period_month, 1, 4) as period_year,
        min(period_month) as first_month
    from rule_results
    group by measure_id, rule_id, grain, unit_id, substring(period_month, 1, 4)

),

through_months as (

    select
        unit_years.*,
        months.period_month
    from unit_years
    inner join months
        on substring(months.period_month, 1, 4) = unit_years.period_year
        and months.period_month >= unit_years.first_month

),

tallied as (

    select
        through_months.period_month,
        through_months.period_year,
        through_months.measure_id,
        through_months.rule_id,
        through_months.grain,
        through_months.unit_id,
        cast(count(rule_results.measure_id) as {{ dbt.type_bigint() }}) as months_judged,
        cast(count(case when rule_results.passed then 1 end) as {{ dbt.type_bigint() }}) as months_passed,
        cast(count(case when not rule_results.passed then 1 end) as {{ dbt.type_bigint() }}) as months_failed,
        min(rule_results.period_month) as first_month,
        max(rule_results.period_month) as last_month
    from through_months
    left join rule_results
        on rule_results.measure_id = through_months.measure_id
        and rule_results.grain = through_months.grain
        and rule_results.unit_id = through_months.unit_id
        and substring(rule_results.period_month, 1, 4) = through_months.period_year
        and rule_results.period_month <= through_months.period_month
    group by
        through_months.period_month, through_months.period_year, through_months.measure_id,
        through_months.rule_id, through_months.grain, through_months.unit_id

),

final as (

    select
        {{ dbt.concat(['measure_id', "'|'", 'period_month', "'|'", 'grain', "'|'", 'unit_id']) }} as ytd_key,
        *
    from tallied

)

select * from final
