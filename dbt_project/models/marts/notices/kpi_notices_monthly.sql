-- Notice duties N1 (suspension for arrears, 24 h) and N2 (engineering / line works, 48 h)
-- per month at the company and district grains, wide: a pivot of kpi_rule_results.

{%- set rules = ['N1', 'N2'] %}

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

notice_rules as (

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
    from notice_rules
    group by period_month, grain, unit_id

),

final as (

    select
        {{ dbt.concat(['grain', "'|'", 'unit_id', "'|'", 'period_month']) }} as unit_month_key,
        *
    from pivoted

)

select * from final
