{#- The raw table a staging model reads (docs/decisions.md D-71).

    Normally the current version of every row: source('raw', entity).
    With var history_as_of = 'YYYY-MM-DD' (set by the pipeline when a past business date is
    rerun), the warehouse is rebuilt as that night saw it: every version loaded with an export
    date up to that day, newest per key by the same precedence ingest uses for raw.<entity>
    (latest version column, then later export, then later file). The key and version column
    come from the source's meta in _sources.yml, which a test keeps equal to kefu/contract.yml. -#}
{% macro raw_source(entity) -%}
    {%- set current = source('raw', entity) -%}
    {%- set history = source('raw', entity ~ '_history') -%}
    {%- set as_of = run_var('history_as_of') -%}
    {%- if as_of and execute -%}
        {%- set meta = graph.sources['source.kefu.raw.' ~ entity].meta -%}
        {%- set version = meta.get('version_column') -%}
    (
        select *
        from (
            select
                versions.*,
                row_number() over (
                    partition by {{ meta['key'] | join(', ') }}
                    order by
                        {% if version %}{{ version }} desc nulls last, {% endif -%}
                        _export_date desc nulls last,
                        _file_id desc,
                        _row_number desc
                ) as _version_rank
            from {{ history }} as versions
            where _export_date <= cast('{{ as_of }}' as date)
        ) as ranked
        where _version_rank = 1
    )
    {%- else -%}
    {{ current }}
    {%- endif -%}
{%- endmacro %}
