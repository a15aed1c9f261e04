with source as (

    select * from {{ raw_source('customers') }}

),

renamed as (

    select
        customer_id,
        customer_name_hash,
        customer_name_masked,
        phone_hash,
        phone_masked,
        address_hash,
        address_masked,
        id_number_hash,
        id_number_masked,
        tier,
        vip_level,
        district_id,
        customer_kind,
        is_project,
        project_delivery_date,
        opened_date,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
