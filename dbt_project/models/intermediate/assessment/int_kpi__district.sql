-- Numerator and denominator of every measure of the district / callbacks / notices family
-- (N1, N2, C3, C4, C5, C6, C7, C8, A1, A2, A6) per month, grain and unit, in the shape
-- kpi_rule_results unions. Grains come from the rulebook seed; company unit from the rulebook.
-- A1's target_key is the district's area_type; every other measure has one target ('*').

with grains as (

    select * from {{ ref('rulebook_grains') }}

),

suspensions as (

    select * from {{ ref('int_suspensions_judged') }}

),

notices as (

    select * from {{ ref('int_work_notices_judged') }}

),

problems as (

    select * from {{ ref('int_callbacks_problems_judged') }}

),

repeat_faults as (

    select * from {{ ref('int_repeat_faults_identified') }}

),

red_vips as (

    select * from {{ ref('int_red_vips_reached') }}

),

projects as (

    select * from {{ ref('int_project_customers_judged') }}

),

vips as (

    select * from {{ ref('int_vip_customers_cared') }}

),

district_months as (

    select * from {{ ref('int_district_months_assessed') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

-- one row per judged item: measure, month, district (may be null), met
items as (

    select 'N1' as measure_id, period_month, district_id, is_notified_in_time as is_met
    from suspensions

    union all

    select 'N2' as measure_id, n2_period_month as period_month, district_id, is_notified_in_time as is_met
    from notices

    union all

    select 'C5' as measure_id, c5_period_month as period_month, district_id, is_called_back_in_time as is_met
    from notices
    where is_cutover and is_called_back_in_time is not null

    union all

    select 'C4' as measure_id, period_month, district_id, is_handled_same_day as is_met
    from problems

    union all

    select 'C3' as measure_id, period_month, district_id, is_called_last_week as is_met
    from repeat_faults

    union all

    select 'C6' as measure_id, period_month, district_id, is_reached_ytd as is_met
    from red_vips

    union all

    select 'C7' as measure_id, period_month, district_id, is_called_back as is_met
    from projects

    union all

    select 'C8' as measure_id, period_month, district_id, is_cared_in_quarter as is_met
    from vips

),

items_by_grain as (

    select
        items.measure_id,
        items.period_month,
        grains.grain,
        case grains.grain
            when 'company' then {{ rulebook_company_unit() }}
            when 'district' then items.district_id
        end as unit_id,
        items.is_met
    from items
    inner join grains on grains.measure_id = items.measure_id

),

item_measures as (

    select
        measure_id,
        period_month,
        grain,
        unit_id,
        sum(case when is_met then 1 else 0 end) as numerator,
        count(*) as denominator,
        '*' as target_key
    from items_by_grain
    where unit_id is not null
    group by measure_id, period_month, grain, unit_id

),

company_complaints as (

    select
        {{ month_text('opened_at') }} as period_month,
        count(*) as complaints
    from tickets
    where ticket_type = 'complaint'
        and coalesce(complaint_validity, 'valid') <> 'invalid'  -- valid complaints (D-119)
    group by {{ month_text('opened_at') }}

),

company_months as (

    select
        district_months.period_month,
        sum(district_months.households) as households,
        max(district_months.month_start) as month_start
    from district_months
    group by district_months.period_month

),

company_figures as (

    select
        company_months.period_month,
        company_months.households,
        previous_month.households as previous_households,
        coalesce(company_complaints.complaints, 0) as complaints
    from company_months
    left join company_months as previous_month
        on previous_month.period_month = {{ month_text(dbt.dateadd('month', -1, 'company_months.month_start')) }}
    left join company_complaints on company_complaints.period_month = company_months.period_month

),

-- district assessment: one figure per district (or company) and month, not item counts
assessed as (

    select
        'A1' as measure_id, period_month, 'district' as grain, district_id as unit_id,
        households as numerator, technicians as denominator, area_type as target_key
    from district_months
    where technicians > 0

    union all

    select
        'A2' as measure_id, period_month, 'district' as grain, district_id as unit_id,
        complaints as numerator, households as denominator, '*' as target_key
    from district_months

    union all

    select
        'A6' as measure_id, period_month, 'district' as grain, district_id as unit_id,
        households as numerator, previous_households as denominator, '*' as target_key
    from district_months
    where previous_households > 0

    union all

    select
        'A2' as measure_id, period_month, 'company' as grain, {{ rulebook_company_unit() }} as unit_id,
        complaints as numerator, households as denominator, '*' as target_key
    from company_figures

    union all

    select
        'A6' as measure_id, period_month, 'company' as grain, {{ rulebook_company_unit() }} as unit_id,
        households as numerator, previous_households as denominator, '*' as target_key
    from company_figures
    where previous_households > 0

),

assessed_at_grains as (

    select assessed.*
    from assessed
    inner join grains
        on grains.measure_id = assessed.measure_id
        and grains.grain = assessed.grain

),

unioned as (

    select measure_id, period_month, grain, unit_id, numerator, denominator, target_key
    from item_measures

    union all

    select measure_id, period_month, grain, unit_id, numerator, denominator, target_key
    from assessed_at_grains

),

final as (

    select
        cast(measure_id as {{ dbt.type_string() }}) as measure_id,
        cast(period_month as {{ dbt.type_string() }}) as period_month,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(unit_id as {{ dbt.type_string() }}) as unit_id,
        cast(numerator as {{ dbt.type_bigint() }}) as numerator,
        cast(denominator as {{ dbt.type_bigint() }}) as denominator,
        cast(target_key as {{ dbt.type_string() }}) as target_key
    from unioned
    where denominator > 0

)

select * from final
