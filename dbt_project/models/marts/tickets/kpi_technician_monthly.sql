{#-
    The measures judged at technician grain, in rulebook order, from the rulebook (generated macro
    rulebook_lists, D-145): a measure added to that grain in the rulebook gets its columns without
    a code change.
-#}
{%- set technician_measures = rulebook_grain_measures('technician') -%}
-- Technician monthly scorecard: one row per technician × month with, per measure judged at the
-- technician grain, its numerator, denominator, value and pass flag. Read from kpi_rule_results
-- (grain technician), so thresholds and pass/fail are decided in one place. Credit goes to the
-- technician on the ticket, who did the work (docs/decisions.md, Units and grains).

with results as (

    select * from {{ ref('kpi_rule_results') }}
    where grain = 'technician'

),

final as (

    select
        -- ids
        unit_id as technician_id,
        period_month,
        -- summary
        cast(count(*) as {{ dbt.type_bigint() }}) as measures_judged,
        cast(sum(case when passed then 1 else 0 end) as {{ dbt.type_bigint() }}) as measures_passed,
        cast(sum(case when passed then 0 else 1 end) as {{ dbt.type_bigint() }}) as measures_failed,
        -- per measure
        -- sqlfluff cannot indent a Jinja loop of select targets
        -- noqa: disable=LT02
        {{ rule_columns(technician_measures) }}
    -- noqa: enable=LT02
    from results
    group by unit_id, period_month

)

select * from final
