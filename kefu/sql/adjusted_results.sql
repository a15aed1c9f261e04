-- 核减后考核结果 — the month's rule results after the approved appeals (kefu/appeals_adjust.py,
-- docs/decisions.md D-128). Reads the frozen draft (raw_results, ticket_sla: the month's Parquet
-- of kpi_rule_results and fct_ticket_sla) and the exemptions (one row per approved appeal).
-- A ticket item leaves the numerator (if it counted there) and the denominator of every unit it was
-- counted at (company, its district, its technician: the units of int_kpi__tickets); a unit item's
-- verdict is waived (passed = true). A unit left with nothing judged has value and passed null here
-- and no row in kpi_rule_results_final (denominator > 0, as in kpi_rule_results). The value and verdict are recomputed with the row's own
-- threshold and comparison, so no threshold is read here.
-- Output: kpi_rule_results' columns, then raw_numerator, raw_denominator, raw_value, raw_passed,
-- exempted_items, verdict_waived.

with raw_results as (

    select * from read_parquet($raw_results)

),

ticket_sla as (

    select * from read_parquet($ticket_sla)

),

exemptions as (

    select * from exemption_rows

),

exempted_tickets as (

    select
        ticket_sla.measure_id,
        ticket_sla.district_id,
        ticket_sla.technician_id,
        case when ticket_sla.is_met then 1 else 0 end as hits
    from exemptions
    inner join ticket_sla
        on ticket_sla.measure_id = exemptions.measure_id
        and ticket_sla.ticket_id = exemptions.item_id
        and ticket_sla.period_month = $month
        and ticket_sla.is_judged
    where exemptions.item_kind = 'ticket'

),

exempted_units as (

    select measure_id, 'company' as grain, $company_unit as unit_id, hits from exempted_tickets
    union all
    select measure_id, 'district' as grain, district_id as unit_id, hits from exempted_tickets
    where district_id is not null
    union all
    select measure_id, 'technician' as grain, technician_id as unit_id, hits from exempted_tickets
    where technician_id is not null

),

removed as (

    select measure_id, grain, unit_id, cast(sum(hits) as bigint) as hits, count(*) as items
    from exempted_units
    group by measure_id, grain, unit_id

),

waived as (

    select distinct measure_id, grain, unit_id
    from exemptions
    where item_kind = 'unit'

),

recounted as (

    select
        raw_results.* replace (
            raw_results.numerator - coalesce(removed.hits, 0) as numerator,
            raw_results.denominator - coalesce(removed.items, 0) as denominator
        ),
        raw_results.numerator as raw_numerator,
        raw_results.denominator as raw_denominator,
        raw_results.value as raw_value,
        raw_results.passed as raw_passed,
        coalesce(removed.items, 0) as exempted_items,
        waived.measure_id is not null as verdict_waived
    from raw_results
    left join removed
        on removed.measure_id = raw_results.measure_id
        and removed.grain = raw_results.grain
        and removed.unit_id = raw_results.unit_id
    left join waived
        on waived.measure_id = raw_results.measure_id
        and waived.grain = raw_results.grain
        and waived.unit_id = raw_results.unit_id
    where raw_results.period_month = $month

),

revalued as (

    -- a unit left with nothing judged keeps its row here (value null); the final results drop it
    select * replace (case when denominator > 0 then cast(numerator as double) / denominator end as value)
    from recounted

),

final as (

    select * replace (
        case
            when threshold is null or denominator = 0 then null
            when verdict_waived then true
            when comparison = '>=' then value >= threshold
            when comparison = '<=' then value <= threshold
            when comparison = '>' then value > threshold
            when comparison = '<' then value < threshold
        end as passed
    )
    from revalued

)

select * from final
