{#-
    Customer-tier groupings, read from the rulebook (kefu/rulebook.yml vip_tiers and
    brand_groups, via the generated seed rulebook_tiers) — never typed in SQL.
-#}

{#- A subquery usable as `tier in {{ rulebook_vip_tiers() }}`: the VIP tiers (D-14). -#}
{% macro rulebook_vip_tiers() -%}
    (select rulebook_tiers.tier from {{ ref('rulebook_tiers') }} as rulebook_tiers where rulebook_tiers.is_vip)
{%- endmacro %}

{#- gotone_vip / gotone / other: the S1 brand group of a tier (D-30). -#}
{% macro rulebook_brand_group(tier) -%}
    coalesce((select rulebook_tiers.brand_group from {{ ref('rulebook_tiers') }} as rulebook_tiers
              where rulebook_tiers.tier = {{ tier }}), 'other')
{%- endmacro %}

{#- The whole query of a per-audience wide mart: the rules' rows of kpi_rule_results at the
    given grains, one row per month × grain × unit, one column group per rule
    (<rule>_numerator, _denominator, _value, _threshold, _passed) and the count of rules
    assessed / passed / failed. Thresholds and pass/fail stay decided in kpi_rule_results. -#}
{% macro rule_results_wide(rules, grains=['company', 'district']) -%}
with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

selected_rules as (

    select * from rule_results
    where grain in ({% for g in grains %}'{{ g }}'{{ "," if not loop.last }}{% endfor %})
        and measure_id in ({% for r in rules %}'{{ r }}'{{ "," if not loop.last }}{% endfor %})

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
    from selected_rules
    group by period_month, grain, unit_id

),

final as (

    select
        {{ dbt.concat(['grain', "'|'", 'unit_id', "'|'", 'period_month']) }} as unit_month_key,
        *
    from pivoted

)

select * from final
{%- endmacro %}
