with source as (

    select * from {{ raw_source('work_notices') }}

),

renamed as (

    select
        work_id,
        customer_id,
        notified_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
