{#- A run-time setting of the pipeline: the dbt var `name`, else env var KEFU_<NAME>, else ''.

    as_of_date   pin the build to 24:00 of that business date (D-07)
    history_as_of   rebuild as that night saw it, from the export history (D-71)

    The nightly pipeline passes them as environment variables, not --vars: dbt re-parses the whole
    project whenever --vars change (docs/benchmarks.md, D-71), while a changed env var only re-parses
    the few files that read it. `dbt build --vars '{as_of_date: ...}'` by hand works the same. -#}
{% macro run_var(name) -%}
    {{ return(var(name, '') or env_var('KEFU_' ~ (name | upper), '')) }}
{%- endmacro %}
