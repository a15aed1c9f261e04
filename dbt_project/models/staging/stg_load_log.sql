-- Every file ingest loaded (audit.load_log, status loaded): its entity, source, business date and
-- row counts. Rebuilding a past night (var history_as_of, D-71) sees only the files up to that day.

{%- set as_of = run_var('history_as_of') %}

with source as (

    select * from {{ source('audit', 'load_log') }}

),

renamed as (

    select
        -- ids
        file_id,
        file_name,
        -- attributes
        entity,
        source as source_system,
        mapping,
        export_date as business_date,
        -- counts
        rows_read,
        rows_loaded,
        rows_quarantined
    from source
    where status = 'loaded'
    {%- if as_of %}
        and export_date <= cast('{{ as_of }}' as date)
        {%- endif %}

)

select * from renamed
