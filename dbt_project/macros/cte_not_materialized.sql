{#- An import CTE that several steps of a model read, inlined into each of them (docs/decisions.md
    D-195): `with calls as {{ cte_not_materialized() }} (select * from ...)`.

    DuckDB materializes a CTE that a query references more than once: for an import CTE over a whole
    table that is a copy of every row and column of it, held in memory, although each step reads only
    a filtered part (the night's rows, the customers they touch). Inlined, each step scans the table
    with its own filters and only the columns it reads. Other engines: nothing (Spark inlines CTEs). -#}
{% macro cte_not_materialized() -%}
    {{- return(adapter.dispatch('cte_not_materialized')()) -}}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_not_materialized() -%}
    not materialized
{%- endmacro %}
