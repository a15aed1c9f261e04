with source as (

    select * from {{ raw_source('surveys') }}

),

renamed as (

    select
        survey_id,
        channel,
        call_id,
        ticket_id,
        customer_id,
        customer_tier,
        district_id,
        surveyed_at,
        answer,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
