-- 考核得分年度累计: the score year to date, one row per scored unit and month from its first
-- scored month of the year on: the months scored so far this year, their total and average score, the deductions and
-- failed measures so far, and the rank by average within grain and month (A5 每月考核,年度汇总;
-- docs/decisions.md D-137). A month whose score was not measurable counts in no total.

with monthly as (

    select * from {{ ref('kpi_score_monthly') }}

),

by_year as (

    select
        *,
        substring(period_month, 1, 4) as period_year
    from monthly

),

-- every month of the year from a unit's first scored month on, so that the year to date of a unit
-- without a row that month (nothing judged) still stands and is ranked
unit_first_months as (

    select grain, unit_id, period_year, min(period_month) as first_month
    from by_year
    group by grain, unit_id, period_year

),

grain_months as (

    select distinct grain, period_year, period_month
    from by_year

),

unit_months as (

    select
        unit_first_months.grain,
        unit_first_months.unit_id,
        unit_first_months.period_year,
        grain_months.period_month
    from unit_first_months
    inner join grain_months
        on grain_months.grain = unit_first_months.grain
        and grain_months.period_year = unit_first_months.period_year
        and grain_months.period_month >= unit_first_months.first_month

),

filled as (

    select
        unit_months.*,
        by_year.score,
        by_year.deductions_applied,
        by_year.measures_failed
    from unit_months
    left join by_year
        on by_year.grain = unit_months.grain
        and by_year.unit_id = unit_months.unit_id
        and by_year.period_month = unit_months.period_month

),

running as (

    select
        grain,
        unit_id,
        period_year,
        period_month,
        score as month_score,
        count(score) over ytd as months_scored_ytd,
        sum(score) over ytd as score_total_ytd,
        sum(deductions_applied) over ytd as deductions_ytd,
        sum(case when score is not null then measures_failed else 0 end) over ytd as measures_failed_ytd
    from filled
    window ytd as (
        partition by grain, unit_id, period_year
        order by period_month
        rows between unbounded preceding and current row
    )

),

averaged as (

    select
        *,
        case when months_scored_ytd > 0 then score_total_ytd / months_scored_ytd end as score_average_ytd
    from running

),

ranked as (

    select
        *,
        case
            when score_average_ytd is not null
                then rank() over (
                        partition by grain, period_month, score_average_ytd is null
                        order by score_average_ytd desc
                    )
        end as rank_ytd
    from averaged

),

final as (

    select
        -- keys
        {{ dbt.concat(['grain', "'|'", 'unit_id', "'|'", 'period_month']) }} as unit_month_key,
        grain,
        unit_id,
        period_year,
        period_month,
        -- year to date through period_month
        month_score,
        cast(months_scored_ytd as {{ dbt.type_int() }}) as months_scored_ytd,
        score_total_ytd,
        score_average_ytd,
        cast(rank_ytd as {{ dbt.type_int() }}) as rank_ytd,
        deductions_ytd,
        cast(measures_failed_ytd as {{ dbt.type_int() }}) as measures_failed_ytd
    from ranked

)

select * from final
