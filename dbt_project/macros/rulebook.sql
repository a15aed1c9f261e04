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
        {{ rule_columns(rules) }},
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

{#- A subquery usable as `x in {{ rulebook_setting_values('P1', 'counted_purposes') }}`: the values of a
    measure's definition setting (kefu/rulebook.yml `settings:`, seed rulebook_settings, D-116..D-118). -#}
{% macro rulebook_setting_values(measure_id, setting) -%}
    (select rulebook_settings.setting_value from {{ ref('rulebook_settings') }} as rulebook_settings
     where rulebook_settings.measure_id = '{{ measure_id }}' and rulebook_settings.setting = '{{ setting }}')
{%- endmacro %}

{#- The judged measures of a rule family (rulebook `families:`), in rulebook order (D-145). -#}
{% macro rulebook_family(family) -%}
    {{ return(rulebook_lists()['families'][family]) }}
{%- endmacro %}

{#- The judged measures of a grain (rulebook `grains:` of each measure), in rulebook order. -#}
{% macro rulebook_grain_measures(grain) -%}
    {{ return(rulebook_lists()['grains'][grain]) }}
{%- endmacro %}

{#- The company unit of every company-grain row, as a SQL literal (rulebook `company_unit`). -#}
{% macro rulebook_company_unit() -%}
    '{{ rulebook_lists()['company_unit'] }}'
{%- endmacro %}

{#- The pass/fail verdict of a value against its threshold: decided here and only here (D-146). -#}
{% macro rulebook_passed(value, comparison, threshold) -%}
    case {{ comparison }}
        when '>=' then {{ value }} >= {{ threshold }}
        when '<=' then {{ value }} <= {{ threshold }}
        when '>' then {{ value }} > {{ threshold }}
        when '<' then {{ value }} < {{ threshold }}
    end
{%- endmacro %}

{#- The status colour of a verdict (rulebook `amber_margin`, D-146): green passed; amber failed
    within the margin of the threshold (relative; a zero threshold has none); red failed by more;
    none without a threshold. -#}
{% macro rulebook_status(value, threshold, passed) -%}
    case
        when {{ passed }} is null then 'none'
        when {{ passed }} then 'green'
        when abs({{ value }} - {{ threshold }}) <= {{ rulebook_lists()['amber_margin'] }} * abs({{ threshold }}) then 'amber'
        else 'red'
    end
{%- endmacro %}

{#- A list of measure ids as SQL literals for `in (...)`, quoted and comma-separated. -#}
{% macro rulebook_sql_list(ids) -%}
    {%- for i in ids %}'{{ i }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}

{#- The measures the ticket time-limit engine judges per ticket (rulebook ticket_clock_measures). -#}
{% macro rulebook_ticket_clock_measures() -%}
    {{ return(rulebook_lists()['ticket_clock']) }}
{%- endmacro %}
