-- One row per customer (current version): tier and tier group (vip / ordinary, D-14, from the rulebook seed rulebook_tiers),
-- district, project flags. Personal data only hashed or masked (D-60).

with customers as (

    select * from {{ ref('stg_customers') }}

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
