{#- Every wide mart (district, callbacks, notices, VIP service, technician scorecard) pivots
    kpi_rule_results with this one macro (docs/style.md). -#}

{#- THE pivot of kpi_rule_results (issue 20: one pivot for every wide mart): one column group per measure
    (<rule>_numerator, _denominator, _value, _threshold, _passed), from a relation with
    measure_id, numerator, denominator, value, threshold, passed, grouped by the caller. -#}
{% macro rule_columns(rule_ids) -%}
    {%- for rule in rule_ids %}
        {%- set col = rule | lower | replace('.', '_') %}
        max(case when measure_id = '{{ rule }}' then numerator end) as {{ col }}_numerator,
        max(case when measure_id = '{{ rule }}' then denominator end) as {{ col }}_denominator,
        max(case when measure_id = '{{ rule }}' then value end) as {{ col }}_value,
        max(case when measure_id = '{{ rule }}' then threshold end) as {{ col }}_threshold,
        {{ dbt.bool_or("case when measure_id = '" ~ rule ~ "' then passed end") }} as {{ col }}_passed{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
