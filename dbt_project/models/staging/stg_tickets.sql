with source as (

    select * from {{ raw_source('tickets') }}

),

renamed as (

    select
        ticket_id,
        ticket_type,
        product,
        severity,
        restoration_kind,
        needs_survey,
        customer_id,
        customer_tier,
        customer_kind,
        district_id,
        area_type,
        technician_id,
        channel,
        source_call_id,
        related_ticket_id,
        status,
        opened_at,
        formalities_complete_at,
        first_reply_at,
        dispatched_at,
        appointment_at,
        arrived_at,
        resolved_at,
        feedback_at,
        closed_at,
        updated_at,
        reopen_count,
        answered_on_spot,
        explanation_filed,
        entered_at,
        entry_accurate,
        approval_submitted_at,
        approval_done_at,
        complaint_validity,
        summary_hash,
        summary_masked,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
