with source as (

    select * from {{ raw_source('ticket_pauses') }}

),

renamed as (

    select
        pause_id,
        ticket_id,
        reason,
        paused_at,
        resumed_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
