with source as (

    select * from {{ raw_source('districts') }}

),

renamed as (

    select
        district_id,
        district_name,
        area_type,
        head_id,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
