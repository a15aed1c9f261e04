{%- set vip_measures = rulebook_family('V') -%}
-- VIP field service (D1: V1–V7) by month for the company (unit ALL) and every district: per
-- measure its numerator, denominator, value, threshold and pass flag, read from kpi_rule_results
-- so thresholds and pass/fail are decided in one place. A measure with nothing judged in the
-- month and unit is null.

with results as (

    select * from {{ ref('kpi_rule_results') }}
    where grain in ('company', 'district')
        and measure_id in ({% for m in vip_measures %}'{{ m }}'{{ ', ' if not loop.last }}{% endfor %})

),

final as (

    select
        -- ids
        period_month,
        grain,
        unit_id,
        -- summary
        cast(count(*) as {{ dbt.type_bigint() }}) as measures_judged,
        cast(sum(case when passed then 1 else 0 end) as {{ dbt.type_bigint() }}) as measures_passed,
        cast(sum(case when passed then 0 else 1 end) as {{ dbt.type_bigint() }}) as measures_failed,
        -- per measure
        -- sqlfluff cannot indent a Jinja loop of select targets
        -- noqa: disable=LT02
        {%- for m in vip_measures %}
        {%- set p = m | lower %}
        max(case when measure_id = '{{ m }}' then numerator end) as {{ p }}_numerator,
        max(case when measure_id = '{{ m }}' then denominator end) as {{ p }}_denominator,
        max(case when measure_id = '{{ m }}' then value end) as {{ p }}_value,
        max(case when measure_id = '{{ m }}' then threshold end) as {{ p }}_threshold,
        max(case when measure_id = '{{ m }}' then case when passed then 1 else 0 end end) = 1 as {{ p }}_passed{{ ',' if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from results
    group by period_month, grain, unit_id

)

select * from final
