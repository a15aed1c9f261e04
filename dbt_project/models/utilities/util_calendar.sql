-- The PRC working-day calendar (docs/decisions.md D-01, D-02).
-- Official days come from the chinese-calendar package (seed calendar_official),
-- hand overrides win (seed workday_overrides). In a year that only the overrides
-- know, days not listed follow Monday–Friday. workday_index counts working days
-- up to and including the date, so "the N-th working day after d" is the working
-- day whose index is workday_index(d) + N.

with digits as (

    select 0 as d
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

spine as (

    select
        {{ dbt.dateadd('day', 'a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d', "cast('2004-01-01' as date)") }} as calendar_date
    from digits as a
    cross join digits as b
    cross join digits as c
    cross join digits as e
    cross join digits as f

),

official as (

    select * from {{ ref('calendar_official') }}

),

overrides as (

    select * from {{ ref('workday_overrides') }}

),

override_years as (

    select distinct {{ dbt.date_trunc('year', 'date') }} as year_start from overrides

),

days as (

    select
        cast(spine.calendar_date as date) as calendar_date,
        -- 0 = Monday ... 6 = Sunday (2004-01-05 was a Monday)
        mod({{ dbt.datediff("cast('2004-01-05' as date)", 'spine.calendar_date', 'day') }} + 7 * 1000, 7) as weekday_index,
        official.is_workday as official_is_workday,
        overrides.is_workday as override_is_workday,
        override_years.year_start is not null as year_in_overrides
    from spine
    left join official on official.calendar_date = cast(spine.calendar_date as date)
    left join overrides on overrides.date = cast(spine.calendar_date as date)
    left join override_years
        on override_years.year_start = {{ dbt.date_trunc('year', 'spine.calendar_date') }}

),

resolved as (

    select
        calendar_date,
        weekday_index,
        coalesce(
            override_is_workday,
            official_is_workday,
            case when year_in_overrides then weekday_index < 5 end
        ) as is_workday
    from days
    where official_is_workday is not null or override_is_workday is not null or year_in_overrides

),

final as (

    select
        calendar_date,
        weekday_index,
        is_workday,
        sum(case when is_workday then 1 else 0 end) over (order by calendar_date rows between unbounded preceding and current row) as workday_index,
        {{ dbt.date_trunc('month', 'calendar_date') }} as month_start
    from resolved

)

select * from final
