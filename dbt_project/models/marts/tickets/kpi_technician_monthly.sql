-- depends_on: {{ ref('rulebook_grains') }}
{#-
    The measures judged at technician grain, read from the rulebook (seed rulebook_grains) when the
    model runs, so a measure added to that grain in the rulebook gets its columns without a code
    change; the list below is only used while the seed is not loaded yet (parsing, compiling on an empty warehouse).
-#}
{%- set technician_measures = ['T1', 'T2', 'T3', 'T4', 'C1', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6', 'S3'] -%}
{%- set grains_relation = load_relation(ref('rulebook_grains')) if execute else none -%}
{%- if grains_relation is not none -%}
    {%- set found = run_query("select measure_id from " ~ grains_relation ~ " where grain = 'technician' order by measure_id") -%}
    {%- if found and found.rows | length > 0 -%}
        {%- set technician_measures = found.columns[0].values() | list -%}
    {%- endif -%}
{%- endif -%}
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
        {%- for m in technician_measures %}
        {%- set p = m | lower | replace('.', '_') %}
        max(case when rule_id = '{{ m }}' then numerator end) as {{ p }}_numerator,
        max(case when rule_id = '{{ m }}' then denominator end) as {{ p }}_denominator,
        max(case when rule_id = '{{ m }}' then value end) as {{ p }}_value,
        max(case when rule_id = '{{ m }}' then case when passed then 1 else 0 end end) = 1 as {{ p }}_passed{{ ',' if not loop.last }}
        {%- endfor %}
    -- noqa: enable=LT02
    from results
    group by unit_id, period_month

)

select * from final
