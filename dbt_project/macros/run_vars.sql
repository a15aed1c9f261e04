{#- A run-time setting of the pipeline: the dbt var `name`, else env var KEFU_<NAME>, else ''.

    as_of_date   pin the build to 24:00 of that business date (D-07)
    history_as_of   rebuild as that night saw it, from the export history (D-71)

    The nightly pipeline passes them as environment variables, not --vars: dbt re-parses the whole
    project whenever --vars change (docs/benchmarks.md, D-71). They are read only when dbt runs a
    node (`execute`), never while it parses one: dbt re-parses every file that read an env var at
    parse time once its value changes, so a night with a new date re-parses nothing (D-193). What a
    model refers to (ref, source) must therefore not depend on them. `dbt build --vars
    '{as_of_date: ...}'` by hand works the same. -#}
{% macro run_var(name) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(var(name, '') or env_var('KEFU_' ~ (name | upper), '')) }}
{%- endmacro %}
