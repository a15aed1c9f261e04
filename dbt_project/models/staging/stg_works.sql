with source as (

    select * from {{ raw_source('works') }}

),

renamed as (

    select
        work_id,
        work_kind,
        district_id,
        start_at,
        end_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
