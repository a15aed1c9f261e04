-- Callback duties C1–C9 per month at the company and district grains, wide (one column
-- group per rule: numerator, denominator, value, threshold, passed): a pivot of
-- kpi_rule_results (C6's threshold is its year-to-date pace, M/12). C1 is also judged per
-- technician in kpi_rule_results; that grain is not pivoted here.

{%- set rules = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9'] %}

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

callback_rules as (

    select * from rule_results
    where grain in ('company', 'district')
        and rule_id in ({% for r in rules %}'{{ r }}'{{ "," if not loop.last }}{% endfor %})

),

pivoted as (

    select
        period_month,
        grain,
        unit_id,
        {{ district_rule_columns(rules) }},
        cast(count(*) as {{ dbt.type_int() }}) as rules_assessed,
        cast(sum(case when passed then 1 else 0 end) as {{ dbt.type_int() }}) as rules_passed,
        cast(sum(case when not passed then 1 else 0 end) as {{ dbt.type_int() }}) as rules_failed
    from callback_rules
    group by period_month, grain, unit_id

),

final as (

    select
        {{ dbt.concat(['grain', "'|'", 'unit_id', "'|'", 'period_month']) }} as unit_month_key,
        *
    from pivoted

)

select * from final
