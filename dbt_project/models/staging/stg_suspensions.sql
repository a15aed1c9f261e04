with source as (

    select * from {{ raw_source('suspensions') }}

),

renamed as (

    select
        suspension_id,
        customer_id,
        district_id,
        notice_at,
        suspended_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
