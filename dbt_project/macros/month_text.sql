{#- 'YYYY-MM' of a date or timestamp, portably (period_month of the KPI tables). -#}
{% macro month_text(expr) -%}
    substring(cast({{ dbt.date_trunc('month', expr) }} as {{ dbt.type_string() }}), 1, 7)
{%- endmacro %}
