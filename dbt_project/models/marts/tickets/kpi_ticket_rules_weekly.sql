-- R2 每周服务情况周报: the weekly summary of the ticket time limits (D-150), one row per meeting
-- Friday × rule. A week runs from the Friday before 00:00 to the meeting Friday 00:00 (R2: 每周五
-- 下午部门例会); an item counts in the week its outcome falls in (D-06: met at completion,
-- breached at the deadline). Judged against the company threshold of the rulebook seeds with the
-- one pass/fail decision (macro rulebook_passed) and status (rulebook_status) of kpi_rule_results.
-- The weekly report (kefu/reports/data.py load_week) reads it; it does not judge.

with sla_items as (

    select * from {{ ref('fct_ticket_sla') }}
    where is_judged

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

targets as (

    select * from {{ ref('rulebook_targets') }}

),

weekly_items as (

    select
        -- the Friday the item's week starts on (a week truncated to Monday, shifted by four days)
        cast({{ dbt.dateadd('day', 4, dbt.date_trunc('week', dbt.dateadd('day', -4, 'outcome_at'))) }} as date) as week_start,
        measure_id,
        name_zh,
        is_met
    from sla_items

),

counted as (

    select
        cast({{ dbt.dateadd('day', 7, 'week_start') }} as date) as meeting_date,
        week_start,
        measure_id,
        min(name_zh) as name_zh,
        cast(count(*) as {{ dbt.type_int() }}) as judged,
        cast(sum(case when is_met then 1 else 0 end) as {{ dbt.type_int() }}) as met,
        cast(sum(case when is_met then 0 else 1 end) as {{ dbt.type_int() }}) as not_met
    from weekly_items
    group by week_start, measure_id

),

valued as (

    select
        counted.*,
        cast(counted.met as double) / counted.judged as value,
        coalesce(company_target.target, single_target.target) as threshold,
        nullif(measures.comparison, '') as comparison,
        measures.value_kind
    from counted
    inner join measures on measures.measure_id = counted.measure_id
    left join targets as company_target
        on company_target.measure_id = counted.measure_id
        and company_target.target_key = {{ rulebook_company_unit() }}
    left join targets as single_target
        on single_target.measure_id = counted.measure_id
        and single_target.target_key = '*'

),

judged as (

    select
        *,
        {{ rulebook_passed('value', 'comparison', 'threshold') }} as passed
    from valued

),

final as (

    select
        {{ dbt.concat(['judged.measure_id', "'|'", 'cast(judged.meeting_date as ' ~ dbt.type_string() ~ ')']) }} as rule_week_key,
        judged.*,
        {{ rulebook_status('judged.value', 'judged.threshold', 'judged.passed') }} as status,
        previous.value as previous_value
    from judged
    left join judged as previous
        on previous.measure_id = judged.measure_id
        and previous.meeting_date = judged.week_start

)

select * from final
