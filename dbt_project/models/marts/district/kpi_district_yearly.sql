-- A5 每月考核,年度汇总: yearly totals of the district assessment, one row per district and
-- year: months assessed, months passed per rule, the year-to-date complaint count and rate
-- (complaints ÷ household-months, comparable with A2's monthly threshold) and the
-- households at the latest month against the yearly target households_target (A6, D-52:
-- reported here, not judged monthly).

{%- set rules = rulebook_family('A') %}

with monthly as (

    select * from {{ ref('kpi_district_monthly') }}

),

by_year as (

    select
        *,
        substring(period_month, 1, 4) as period_year,
        row_number() over (
            partition by district_id, substring(period_month, 1, 4)
            order by period_month desc
        ) as recency_rank
    from monthly

),

yearly as (

    select
        district_id,
        period_year,
        min(period_month) as first_month,
        max(period_month) as last_month,
        cast(count(*) as {{ dbt.type_int() }}) as months_assessed,
        cast(sum(case when is_all_passed then 1 else 0 end) as {{ dbt.type_int() }}) as months_all_passed,
        {% for r in rules -%}
        {%- set c = r | lower -%}
        cast(sum(case when {{ c }}_passed is not null then 1 else 0 end) as {{ dbt.type_int() }}) as {{ c }}_months_assessed,
        cast(sum(case when {{ c }}_passed then 1 else 0 end) as {{ dbt.type_int() }}) as {{ c }}_months_passed,
        {% endfor -%}
        cast(sum(a2_numerator) as {{ dbt.type_bigint() }}) as complaints_ytd,
        cast(sum(a2_denominator) as {{ dbt.type_bigint() }}) as household_months_ytd,
        max(case when recency_rank = 1 then households end) as households_latest,
        max(case when recency_rank = 1 then households_target end) as households_target,
        max(case when recency_rank = 1 then area_type end) as area_type,
        max(case when recency_rank = 1 then district_name end) as district_name
    from by_year
    group by district_id, period_year

),

final as (

    select
        -- keys
        {{ dbt.concat(['district_id', "'|'", 'period_year']) }} as district_year_key,
        district_id,
        period_year,
        -- district
        district_name,
        area_type,
        -- months
        first_month,
        last_month,
        months_assessed,
        months_all_passed,
        {% for r in rules -%}
        {%- set c = r | lower -%}
        {{ c }}_months_assessed,
        {{ c }}_months_passed,
        {% endfor -%}
        -- complaints year to date
        complaints_ytd,
        household_months_ytd,
        case
            when household_months_ytd > 0 then cast(complaints_ytd as {{ dbt.type_float() }}) / household_months_ytd
        end as complaint_rate_ytd,
        -- customer base against the yearly target
        households_latest,
        households_target,
        case
            when households_target > 0 then cast(households_latest as {{ dbt.type_float() }}) / households_target
        end as households_target_ratio,
        households_latest >= households_target as is_households_target_reached
    from yearly

)

select * from final
