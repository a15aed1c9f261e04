-- One row per district and month of district_households: the district with its area type
-- (urban 城区 / rural 镇乡) and the households it serves that month, with the yearly target.

with districts as (

    select * from {{ ref('stg_districts') }}

),

households as (

    select * from {{ ref('stg_district_households') }}

),

final as (

    select
        -- keys
        {{ dbt.concat(['districts.district_id', "'|'", 'households.month']) }} as district_month_key,
        districts.district_id,
        households.month as period_month,
        -- attributes
        districts.district_name,
        districts.area_type,
        -- figures
        households.households,
        households.households_target
    from districts
    inner join households on households.district_id = districts.district_id

)

select * from final
