with source as (

    select * from {{ raw_source('technicians') }}

),

renamed as (

    select
        technician_id,
        technician_name_hash,
        technician_name_masked,
        technician_phone_hash,
        technician_phone_masked,
        district_id,
        valid_from,
        valid_to,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
