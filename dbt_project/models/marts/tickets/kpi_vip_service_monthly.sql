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
        {{ rule_columns(vip_measures) }}
    -- noqa: enable=LT02
    from results
    group by period_month, grain, unit_id

)

select * from final
