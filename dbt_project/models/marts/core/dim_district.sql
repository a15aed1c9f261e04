-- One row per district and month: every district of the reference list for every month the
-- warehouse covers (int_months_enumerated) or the households report names, with its area type
-- (urban 城区 / rural 镇乡) and, once the monthly households report (片区在网用户数月报) has
-- arrived, the households it served that month and the yearly target. Before that report
-- arrives (it is exported at month end) households are null: the district still exists.

with districts as (

    select * from {{ ref('stg_districts') }}

),

households as (

    select * from {{ ref('stg_district_households') }}

),

months as (

    select period_month from {{ ref('int_months_enumerated') }}
    union
    select month as period_month from households

),

final as (

    select
        -- keys
        {{ dbt.concat(['districts.district_id', "'|'", 'months.period_month']) }} as district_month_key,
        districts.district_id,
        months.period_month,
        -- attributes
        districts.district_name,
        districts.area_type,
        districts.head_id,
        -- figures
        households.households,
        households.households_target
    from districts
    cross join months
    left join households
        on households.district_id = districts.district_id
        and households.month = months.period_month

)

select * from final
