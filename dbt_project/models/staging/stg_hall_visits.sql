with source as (

    select * from {{ raw_source('hall_visits') }}

),

renamed as (

    select
        visit_id,
        hall_id,
        hall_name,
        district_id,
        customer_id,
        customer_tier,
        ticket_taken_at,
        served_at,
        vip_card_shown,
        received_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
