with source as (

    select * from {{ raw_source('callbacks') }}

),

renamed as (

    select
        callback_id,
        ticket_id,
        work_id,
        customer_id,
        district_id,
        reason,
        channel,
        callback_at,
        outcome,
        repair_needed,
        problem_handled_at,
        repair_dispatched_at,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
