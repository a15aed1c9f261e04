-- One row per inbound hotline call with its waits and the flags the hotline rules judge (H1-H5, R3).

with calls as (

    select * from {{ ref('int_calls_judged') }}

),

final as (

    select
        -- ids
        call_id,
        customer_id,
        district_id,
        -- dimensions
        customer_tier,
        queue,
        call_type,
        transfer_type,
        transfer_outcome,
        -- timestamps
        arrived_at,
        clock_start_at,
        answered_at,
        ended_at,
        transfer_queued_at,
        transfer_answered_at,
        -- periods
        arrived_month,
        queued_month,
        queued_hour_start,
        extract(hour from queued_hour_start) as queued_hour_of_day,
        -- waits
        wait_seconds,
        transfer_wait_seconds,
        -- flags
        is_human_requested,
        is_answered,
        is_abandoned,
        is_transfer_requested,
        is_h1_in_scope,
        is_answered_within_service_level,
        is_transfer_within_service_level,
        is_transfer_misrouted,
        is_transfer_success,
        is_unrequested_transfer,
        is_fault_human_call,
        is_identified,
        is_repeat_contact
    from calls

)

select * from final
