{#- Helpers of the district / callbacks / notices models. -#}

{#- Callback outcomes that reached the customer (D-40). -#}
{% macro district_reached_outcomes() -%}
    'reached', 'problem_found'
{%- endmacro %}
