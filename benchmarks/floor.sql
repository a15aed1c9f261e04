-- The floor: the core KPIs T9, A2, H1, S1 and C1 per month, computed by one hand-written DuckDB
-- query straight over the export files (no warehouse, no staging, no validation, no PII handling).
-- benchmarks/floor.py runs it; `duckdb` can too, after the same SET VARIABLEs.
--
-- Inputs (SET VARIABLE, set by floor.py):
--   tickets_csv, calls_csv, surveys_csv, callbacks_csv, households_csv  file globs
--     tickets are the exports themselves (UTF-8 with BOM); calls (GB18030), surveys (GBK),
--     callbacks and district households (XLSX with a title row) are UTF-8 CSV copies, because
--     DuckDB reads neither GBK nor XLSX without its encodings / excel extensions (see floor.py).
--   t9_limit_s, c1_limit_s, h1_limit_s, h1_short_abandon_s   limits in seconds, from kefu/rulebook.yml
--   brand_group   MAP customer-tier label -> S1 brand group, from kefu/rulebook.yml
-- Output: measure_id, period_month, grain, unit_id, numerator, denominator, value — the key and
-- figures of marts.kpi_rule_results. Definitions: docs/decisions.md D-06 to D-08, D-10, D-20,
-- D-30, D-40, D-50.

with tickets as (

    -- the newest version of every ticket (D-08): latest 最后更新时间, then the later export
    select
        工单编号 as ticket_id,
        工单类型 as ticket_type,
        所属片区 as district_id,
        strptime(受理时间, '%Y年%m月%d日 %H时%M分') as opened_at,
        strptime(首次回复时间, '%Y年%m月%d日 %H时%M分') as first_reply_at,
        strptime(处理完成时间, '%Y年%m月%d日 %H时%M分') as resolved_at
    from read_csv(getvariable('tickets_csv'), all_varchar = true, filename = true)
    qualify row_number() over (
        partition by 工单编号
        order by strptime(最后更新时间, '%Y年%m月%d日 %H时%M分') desc nulls last, filename desc) = 1

),

callbacks as (

    select 工单编号 as ticket_id, cast(回访时间 as timestamp) as callback_at, 回访结果 as outcome
    from read_csv(getvariable('callbacks_csv'), all_varchar = true, filename = true)
    qualify row_number() over (partition by 回访编号 order by filename desc) = 1

),

calls as (

    select
        所属片区 as district_id,
        队列 as queue,
        选择人工 = '是' as human_requested,
        coalesce(strptime(进入排队时间, '%Y/%m/%d %H:%M:%S'), strptime(呼入时间, '%Y/%m/%d %H:%M:%S')) as clock_start_at,
        strptime(接通时间, '%Y/%m/%d %H:%M:%S') as answered_at,
        strptime(挂机时间, '%Y/%m/%d %H:%M:%S') as ended_at,
        是否放弃 = '是' as abandoned
    from read_csv(getvariable('calls_csv'), all_varchar = true, filename = true)
    qualify row_number() over (partition by 流水号 order by filename desc) = 1

),

surveys as (

    select 调查类型 as channel, 客户级别 as tier, strptime(调查时间, '%Y/%m/%d %H:%M') as surveyed_at, 评价结果 as answer
    from read_csv(getvariable('surveys_csv'), all_varchar = true, filename = true)
    qualify row_number() over (partition by 调查编号 order by filename desc) = 1

),

households as (

    select 片区编号 as district_id, 月份 as period_month, cast(在网用户数 as bigint) as households
    from read_csv(getvariable('households_csv'), all_varchar = true, filename = true)
    qualify row_number() over (partition by 片区编号, 月份 order by filename desc) = 1

),

as_of as (

    -- 24:00 of the last export day (D-07), from the file names
    select max(strptime(regexp_extract(file, '_(\d{8})\.', 1), '%Y%m%d')) + interval 1 day as as_of_at
    from (
        select file from glob(getvariable('tickets_csv'))
        union all
        select file from glob(getvariable('callbacks_csv'))
        union all
        select file from glob(getvariable('surveys_csv'))
    )

),

deadline_items as (

    -- T9: opened -> first reply within the limit; C1: resolved -> first reaching callback at or after it
    select 'T9' as measure_id, district_id, first_reply_at as done_at,
        opened_at + to_seconds(getvariable('t9_limit_s')) as deadline_at
    from tickets

    union all

    select 'C1', t.district_id, min(c.callback_at),
        any_value(t.resolved_at) + to_seconds(getvariable('c1_limit_s'))
    from tickets t
    left join callbacks c
        on c.ticket_id = t.ticket_id and c.outcome in ('已回访', '发现问题') and c.callback_at >= t.resolved_at
    where t.resolved_at is not null and t.ticket_type in ('新装', '报修', '投诉')
    group by t.ticket_id, t.district_id

),

judged_items as (

    -- met in the month it was done; breached (late or still open past the deadline) in the month
    -- of deadline - 1 s; open within the limit at the as-of time: not judged (D-06)
    select measure_id, district_id,
        done_at <= deadline_at as hit,
        case
            when done_at <= deadline_at then strftime(done_at, '%Y-%m')
            when done_at is not null or deadline_at < as_of_at then strftime(deadline_at - interval 1 second, '%Y-%m')
        end as period_month
    from deadline_items, as_of

),

items as (

    select measure_id, period_month, district_id as unit, hit from judged_items where period_month is not null

    union all

    -- H1 (D-20): VIP-queue calls that asked for a human, abandons included, month of the queue clock
    select 'H1', strftime(clock_start_at, '%Y-%m'), district_id,
        coalesce(answered_at <= clock_start_at + to_seconds(getvariable('h1_limit_s')), false)
    from calls
    where queue = 'VIP队列' and human_requested
        and not (answered_at is null and abandoned
                 and ended_at < clock_start_at + to_seconds(getvariable('h1_short_abandon_s')))

    union all

    -- S1 (D-30): valid hotline answers by brand group
    select 'S1', strftime(surveyed_at, '%Y-%m'), coalesce(getvariable('brand_group')[tier], 'other'),
        answer in ('5', '4', '满意', '基本满意')
    from surveys
    where channel = '热线满意度' and answer not in ('未接通', '拒访')

),

item_results as (

    select measure_id, period_month,
        case when measure_id = 'S1' then 'brand_group' else 'district' end as grain,
        unit as unit_id, count(*) filter (where hit) as numerator, count(*) as denominator
    from items
    where unit is not null
    group by all

    union all

    select measure_id, period_month, 'company', 'ALL', count(*) filter (where hit), count(*)
    from items
    where measure_id <> 'S1'
    group by all

),

complaints as (

    select district_id, strftime(opened_at, '%Y-%m') as period_month, count(*) as complaints
    from tickets
    where ticket_type = '投诉'
    group by all

),

a2_results as (

    -- A2 (D-50): complaints opened in the month / the district's households
    select 'A2' as measure_id, h.period_month, 'district' as grain, h.district_id as unit_id,
        coalesce(c.complaints, 0) as numerator, h.households as denominator
    from households h
    left join complaints c using (district_id, period_month)

    union all

    select 'A2', h.period_month, 'company', 'ALL',
        (select coalesce(sum(complaints), 0) from complaints c where c.period_month = h.period_month),
        sum(h.households)
    from households h
    group by h.period_month

)

select measure_id, period_month, grain, unit_id, numerator, denominator, numerator / denominator as value
from (select * from item_results union all select * from a2_results)
where denominator > 0
order by all
