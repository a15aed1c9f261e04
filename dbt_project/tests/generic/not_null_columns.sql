{#
  The model's columns that must never be empty, checked in one scan (docs/decisions.md D-223): one row
  per listed column that holds NULLs, with how many. dbt's own not_null is one test, one query and
  one node per column; a build ran 241 of them.
#}
{% test not_null_columns(model, columns) %}
with null_counts as (
    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
)
{% for column in columns %}
select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows from null_counts where nulls_{{ loop.index }} > 0
{{ "union all" if not loop.last }}
{% endfor %}
{% endtest %}
