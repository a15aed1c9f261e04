-- One row per district and month of district_households (客户服务承包制度 figures):
-- households at month end and at the previous month's end (A6), technicians assigned to
-- the district on the month's last day (A1, D-51), valid complaint tickets (D-119) opened in the month
-- (A2, D-50), and the district's area_type (A1's per-unit target key).

with households as (

    select * from {{ ref('stg_district_households') }}

),

districts as (

    select * from {{ ref('stg_districts') }}

),

technicians as (

    select * from {{ ref('stg_technicians') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

calendar as (

    select * from {{ ref('util_calendar') }}

),

months as (

    select
        month_start,
        max(calendar_date) as month_end
    from calendar
    group by month_start

),

household_months as (

    select
        households.district_id,
        households.month as period_month,
        households.households,
        households.households_target,
        cast(months.month_start as date) as month_start,
        cast(months.month_end as date) as month_end,
        {{ month_text(dbt.dateadd('month', -1, 'months.month_start')) }} as previous_period_month
    from households
    inner join months
        on {{ month_text('months.month_start') }} = households.month

),

staffing as (

    select
        household_months.district_id,
        household_months.period_month,
        count(distinct technicians.technician_id) as technicians
    from household_months
    inner join technicians
        on technicians.district_id = household_months.district_id
        and technicians.valid_from <= household_months.month_end
        and (technicians.valid_to is null or technicians.valid_to >= household_months.month_end)
    group by household_months.district_id, household_months.period_month

),

complaints as (

    select
        district_id,
        {{ month_text('opened_at') }} as period_month,
        count(*) as complaints
    from tickets
    where ticket_type = 'complaint'
        -- A2 counts valid complaints (有效投诉, D-119): undecided, or no validity column, counts
        and coalesce(complaint_validity, 'valid') <> 'invalid'
        and district_id is not null
    group by district_id, {{ month_text('opened_at') }}

),

final as (

    select
        -- keys
        household_months.district_id,
        household_months.period_month,
        -- attributes
        districts.area_type,
        -- dates
        household_months.month_start,
        household_months.month_end,
        -- figures
        household_months.households,
        household_months.households_target,
        previous_month.households as previous_households,
        coalesce(staffing.technicians, 0) as technicians,
        coalesce(complaints.complaints, 0) as complaints
    from household_months
    left join districts on districts.district_id = household_months.district_id
    left join household_months as previous_month
        on previous_month.district_id = household_months.district_id
        and previous_month.period_month = household_months.previous_period_month
    left join staffing
        on staffing.district_id = household_months.district_id
        and staffing.period_month = household_months.period_month
    left join complaints
        on complaints.district_id = household_months.district_id
        and complaints.period_month = household_months.period_month

)

select * from final
