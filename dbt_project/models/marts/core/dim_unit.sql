-- Every unit a rule is judged at, with its display name (D-152): one row per grain × unit_id.
-- Districts by their latest name, technicians by their latest masked name (no clear personal
-- data), halls by the name the hall-queue export gives, and the groups (company, queues, brand
-- groups, tier groups) by the labels of the rulebook and the data contract (seed
-- rulebook_group_units). The dashboard and the reports name units from here.

with districts as (

    select * from {{ ref('dim_district') }}

),

technicians as (

    select * from {{ ref('dim_technician') }}

),

hall_visits as (

    select * from {{ ref('stg_hall_visits') }}

),

group_units as (

    select * from {{ ref('rulebook_group_units') }}

),

district_names as (

    select
        'district' as grain,
        district_id as unit_id,
        district_name as unit_name,
        row_number() over (partition by district_id order by period_month desc) as recency_rank
    from districts

),

technician_names as (

    select
        'technician' as grain,
        technician_id as unit_id,
        technician_name_masked as unit_name,
        row_number() over (partition by technician_id order by valid_from desc) as recency_rank
    from technicians

),

hall_names as (

    select
        'hall' as grain,
        hall_id as unit_id,
        max(hall_name) as unit_name
    from hall_visits
    group by hall_id

),

units as (

    select grain, unit_id, unit_name from district_names
    where recency_rank = 1
    union all
    select grain, unit_id, unit_name from technician_names
    where recency_rank = 1
    union all
    select grain, unit_id, unit_name from hall_names
    union all
    select grain, unit_id, unit_name from group_units

),

final as (

    select
        {{ dbt.concat(['grain', "'|'", 'unit_id']) }} as unit_key,
        grain,
        unit_id,
        unit_name
    from units

)

select * from final
