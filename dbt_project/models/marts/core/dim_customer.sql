-- One row per customer (current version): tier and tier group (vip / ordinary, D-14, from the rulebook seed rulebook_tiers),
-- district, project flags. Personal data only hashed or masked (D-60).
-- Incremental (D-70): the customers exported since the last run (lookback on export_date); merged
-- on customer_id, so a re-exported customer replaces its row. The list only grows: a night touches
-- the day's new and changed customers, not the millions already loaded.

{{ config(materialized='incremental', unique_key='customer_id', incremental_strategy='merge', on_schema_change='fail') }}

with customers as (

    select * from {{ ref('stg_customers') }}
    {{ incremental_since_last_export() }}

),

tiers as (

    select * from {{ ref('rulebook_tiers') }}

),

final as (

    select
        -- ids
        customers.customer_id,
        customers.district_id,
        -- attributes
        customers.tier,
        coalesce(tiers.tier_group, 'ordinary') as tier_group,
        customers.vip_level,
        customers.customer_kind,
        coalesce(customers.is_project, false) as is_project,
        customers.project_delivery_date,
        customers.opened_date,
        -- pii (hashed / masked only)
        customers.customer_name_hash,
        customers.customer_name_masked,
        customers.phone_hash,
        customers.phone_masked,
        customers.address_hash,
        customers.address_masked,
        -- lineage
        customers.export_date
    from customers
    left join tiers on tiers.tier = customers.tier

)

select * from final
