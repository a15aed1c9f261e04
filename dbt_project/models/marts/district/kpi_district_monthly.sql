-- 客户服务承包制度: the district contract assessment, one row per district and month.
-- A1–A6 wide (one column group per rule: numerator, denominator, value, threshold, passed)
-- read from kpi_rule_results (thresholds and pass/fail are never recomputed here), and a
-- count of rules assessed / passed / failed. A5 (monthly assessment, yearly totals) is
-- this table with kpi_district_yearly; A3 and A4 come from the tickets and contacts families.

{%- set rules = rulebook_family('A') %}

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

assessed as (

    select * from rule_results
    where grain = 'district'
        and measure_id in ({% for r in rules %}'{{ r }}'{{ "," if not loop.last }}{% endfor %})

),

pivoted as (

    select
        unit_id as district_id,
        period_month,
        {{ rule_columns(rules) }},
        {% for r in rules -%}
        max(case when measure_id = '{{ r }}' then status end) as {{ r | lower }}_status,
        {% endfor -%}
        cast(count(*) as {{ dbt.type_int() }}) as rules_assessed,
        cast(sum(case when passed then 1 else 0 end) as {{ dbt.type_int() }}) as rules_passed,
        cast(sum(case when not passed then 1 else 0 end) as {{ dbt.type_int() }}) as rules_failed
    from assessed
    group by unit_id, period_month

),

final as (

    select
        -- keys
        {{ dbt.concat(['pivoted.district_id', "'|'", 'pivoted.period_month']) }} as district_month_key,
        pivoted.district_id,
        pivoted.period_month,
        -- district
        districts.district_name,
        districts.area_type,
        districts.households,
        districts.households_target,
        -- rules
        {% for r in rules -%}
        {%- set c = r | lower -%}
        pivoted.{{ c }}_numerator,
        pivoted.{{ c }}_denominator,
        pivoted.{{ c }}_value,
        pivoted.{{ c }}_threshold,
        pivoted.{{ c }}_passed,
        pivoted.{{ c }}_status,
        {% endfor -%}
        -- totals
        pivoted.rules_assessed,
        pivoted.rules_passed,
        pivoted.rules_failed,
        pivoted.rules_failed = 0 as is_all_passed,
        -- the month's district ranking (D-147): fewest failed rules first, then lowest complaint rate (A2)
        cast(rank() over (
            partition by pivoted.period_month
            order by pivoted.rules_failed, pivoted.a2_value, pivoted.district_id
        ) as {{ dbt.type_int() }}) as district_rank
    from pivoted
    left join districts
        on districts.district_id = pivoted.district_id
        and districts.period_month = pivoted.period_month

)

select * from final
