with source as (

    select * from {{ raw_source('calls') }}

),

renamed as (

    select
        call_id,
        caller_phone_hash,
        caller_phone_masked,
        customer_id,
        customer_tier,
        district_id,
        queue,
        call_type,
        arrived_at,
        human_requested,
        queued_at,
        answered_at,
        ended_at,
        talk_seconds,
        abandoned,
        agent_id,
        transfer_type,
        transfer_requested,
        transfer_queued_at,
        transfer_answered_at,
        transfer_outcome,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
