-- One row per outbound contact (phone, SMS, visit). Phone calls of a counted purpose carry the P1
-- do-not-disturb window count and breach flag (D-44, D-118); other channels and purposes leave them empty.
-- Incremental (D-70): the contacts exported since the last run (lookback on export_date) and the
-- later phone calls to the same customers (their P1 window may change); merged on contact_id.

{{ config(materialized='incremental', unique_key='contact_id', incremental_strategy='merge', on_schema_change='fail') }}

with all_outbound as (

    select * from {{ ref('stg_outbound') }}

),

{% if is_incremental() -%}
cutoff as (

    select
        {{ incremental_cutoff_date() }} as cutoff_date
    from {{ this }}

),

new_contacts as (

    select all_outbound.*
    from all_outbound
    cross join cutoff
    where all_outbound.export_date >= cutoff.cutoff_date

),

new_customers as (

    select
        customer_id,
        min(contacted_at) as first_new_contacted_at
    from new_contacts
    where channel = 'phone'
    group by customer_id

),

outbound as (

    select * from new_contacts
    union
    select all_outbound.*
    from all_outbound
    inner join new_customers
        on new_customers.customer_id = all_outbound.customer_id
        and all_outbound.contacted_at >= new_customers.first_new_contacted_at

),
{%- else -%}
outbound as (

    select * from all_outbound

),
{%- endif %}

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
        phone_calls.is_breach,
        -- lineage: the export that delivered the current version (incremental lookback, D-70)
        outbound.export_date
    from outbound
    left join phone_calls
        on phone_calls.contact_id = outbound.contact_id

)

select * from final
