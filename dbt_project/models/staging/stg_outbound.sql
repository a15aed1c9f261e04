with source as (

    select * from {{ raw_source('outbound') }}

),

renamed as (

    select
        contact_id,
        customer_id,
        customer_tier,
        purpose,
        channel,
        contacted_at,
        agent_id,
        answered,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
