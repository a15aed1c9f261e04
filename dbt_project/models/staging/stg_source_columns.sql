-- Per loaded file, every contract column of its entity and whether the export had it
-- (audit.source_columns, D-90). Rebuilding a past night sees only the files up to that day.

{%- set as_of = run_var('history_as_of') %}

with source as (

    select * from {{ source('audit', 'source_columns') }}

),

renamed as (

    select
        -- ids
        file_id,
        file_name,
        -- attributes
        entity,
        source as source_system,
        business_date,
        column_name,
        present
    from source
    {%- if as_of %}
    where business_date <= cast('{{ as_of }}' as date)
    {%- endif %}

)

select * from renamed
