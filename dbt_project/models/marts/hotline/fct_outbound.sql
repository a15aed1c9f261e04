-- One row per outbound contact (phone, SMS, visit). Phone calls carry the P1 do-not-disturb
-- window count and breach flag (D-44); other channels are not calls and leave them empty.

with outbound as (

    select * from {{ ref('stg_outbound') }}

),

phone_calls as (

    select * from {{ ref('int_outbound_windowed') }}

),

final as (

    select
        -- ids
        outbound.contact_id,
        outbound.customer_id,
        outbound.agent_id,
        -- dimensions
        outbound.customer_tier,
        {{ contacts_tier_group('outbound.customer_tier') }} as tier_group,
        outbound.purpose,
        outbound.channel,
        outbound.answered,
        -- timestamps
        outbound.contacted_at,
        {{ month_text('outbound.contacted_at') }} as period_month,
        -- P1
        phone_calls.calls_in_window,
        phone_calls.calls_allowed,
        phone_calls.is_breach
    from outbound
    left join phone_calls
        on phone_calls.contact_id = outbound.contact_id

)

select * from final
