{#-
    The score 考核得分 (docs/decisions.md D-135..D-139; the scheme is the rulebook's `score:`
    section, reaching dbt as the seeds rulebook_score_measures and rulebook_score_settings).

    Two steps, each applied to a relation:
      score_lines(results)  - one line per scored unit x month x scored measure (x member district
                              for a district head): passed / failed / not_measurable and the points
                              it costs. `results` has kpi_rule_results' columns (measure_id,
                              period_month, grain, unit_id, numerator, denominator, value,
                              threshold, passed): the assessment itself, or adjusted
                              (post-exemption) results of the same shape.
      score_units(lines)    - one row per unit x month: base - min(cap, deductions), N of M
                              measures measurable, rank within grain and month.
    score_monthly(results) is both in one: the score of any results relation.
-#}

{% macro score_lines(results) -%}
with results as (

    select * from {{ results }}

),

scored_measures as (

    select * from {{ ref('rulebook_score_measures') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

measurability as (

    select * from {{ ref('kpi_rule_measurability') }}

),

districts as (

    select * from {{ ref('dim_district') }}

),

-- the units of a scored grain with a result in the month
result_units as (

    select distinct grain, unit_id, period_month
    from results
    where grain in ('district', 'technician')
        and unit_id is not null

),

-- and every district of the reference list in a month the results judge: a district without any
-- result is scored "0 of M measurable" (no score), not left out; a technician without a judged
-- item that month (on leave, no tickets) has nothing to be scored on
reference_districts as (

    select
        'district' as grain,
        districts.district_id as unit_id,
        districts.period_month
    from districts
    where districts.period_month in (select results.period_month from results)

),

unit_months as (

    select * from result_units
    union
    select * from reference_districts

),

-- district and technician: the unit answers for its own results
unit_lines as (

    select
        unit_months.grain,
        unit_months.unit_id,
        unit_months.period_month,
        unit_months.unit_id as member_id,
        unit_months.grain as judged_grain,
        scored_measures.measure_id,
        scored_measures.deduction as deduction_if_failed
    from unit_months
    inner join scored_measures on scored_measures.grain = unit_months.grain

),

-- a district head (districts.head_id) answers for the district results of their districts
head_lines as (

    select
        'district_head' as grain,
        districts.head_id as unit_id,
        unit_months.period_month,
        unit_months.unit_id as member_id,
        'district' as judged_grain,
        scored_measures.measure_id,
        scored_measures.deduction as deduction_if_failed
    from unit_months
    inner join districts
        on districts.district_id = unit_months.unit_id
        and districts.period_month = unit_months.period_month
    inner join scored_measures on scored_measures.grain = 'district_head'
    where unit_months.grain = 'district'
        and districts.head_id is not null

),

lines as (

    select * from unit_lines
    union all
    select * from head_lines

),

judged as (

    select
        lines.*,
        results.numerator,
        results.denominator,
        results.value,
        results.threshold,
        results.passed,
        measurability.reason as measurability_reason
    from lines
    left join results
        on results.measure_id = lines.measure_id
        and results.grain = lines.judged_grain
        and results.unit_id = lines.member_id
        and results.period_month = lines.period_month
    left join measurability
        on measurability.measure_id = lines.measure_id
        and measurability.grain = lines.judged_grain
        and measurability.period_month = lines.period_month
        and not measurability.measurable

),

statused as (

    select
        *,
        case
            when passed then 'passed'
            when not passed then 'failed'
            else 'not_measurable'
        end as status
    from judged

),

final as (

    select
        -- keys
        {{ dbt.concat(['statused.grain', "'|'", 'statused.unit_id', "'|'", 'statused.period_month', "'|'",
                       'statused.member_id', "'|'", 'statused.measure_id']) }} as score_line_key,
        statused.grain,
        statused.unit_id,
        statused.period_month,
        statused.member_id,
        statused.measure_id,
        -- labels
        measures.rule_id,
        measures.name_zh,
        measures.name_en,
        -- the result scored
        statused.numerator,
        statused.denominator,
        statused.value,
        statused.threshold,
        statused.status,
        case
            when statused.status = 'not_measurable'
                then coalesce(statused.measurability_reason, 'nothing to judge at this unit in this month')
        end as not_measurable_reason,
        -- points
        statused.deduction_if_failed,
        case when statused.status = 'failed' then statused.deduction_if_failed else 0.0 end as deduction
    from statused
    left join measures on measures.measure_id = statused.measure_id

)

select * from final
{%- endmacro %}


{% macro score_units(lines) -%}
with lines as (

    select * from {{ lines }}

),

settings as (

    select * from {{ ref('rulebook_score_settings') }}

),

per_unit as (

    select
        grain,
        unit_id,
        period_month,
        cast(count(distinct member_id) as {{ dbt.type_int() }}) as members,
        cast(count(*) as {{ dbt.type_int() }}) as measures_scored,
        cast(sum(case when status <> 'not_measurable' then 1 else 0 end) as {{ dbt.type_int() }}) as measures_measurable,
        cast(sum(case when status = 'passed' then 1 else 0 end) as {{ dbt.type_int() }}) as measures_passed,
        cast(sum(case when status = 'failed' then 1 else 0 end) as {{ dbt.type_int() }}) as measures_failed,
        sum(deduction) as deductions_sum
    from lines
    group by grain, unit_id, period_month

),

scored as (

    select
        per_unit.*,
        settings.base,
        settings.cap,
        -- a district head: the average district's deductions
        per_unit.deductions_sum / per_unit.members as deductions_uncapped,
        case
            when per_unit.measures_measurable > 0
                then least(settings.cap, per_unit.deductions_sum / per_unit.members)
        end as deductions_applied,
        case
            when per_unit.measures_measurable > 0
                then settings.base - least(settings.cap, per_unit.deductions_sum / per_unit.members)
        end as score
    from per_unit
    cross join settings

),

ranked as (

    select
        *,
        case
            when score is not null
                then rank() over (partition by grain, period_month, score is null order by score desc)
        end as score_rank,
        count(score) over (partition by grain, period_month) as units_ranked
    from scored

),

final as (

    select
        -- keys
        {{ dbt.concat(['grain', "'|'", 'unit_id', "'|'", 'period_month']) }} as unit_month_key,
        grain,
        unit_id,
        period_month,
        -- the score
        score,
        cast(score_rank as {{ dbt.type_int() }}) as score_rank,
        cast(units_ranked as {{ dbt.type_int() }}) as units_ranked,
        case when score is null then 'not_measurable' else 'scored' end as score_status,
        cast(measures_measurable as {{ dbt.type_string() }}) || ' of ' || cast(measures_scored as {{ dbt.type_string() }})
            || ' measures measurable' as measurable_label,
        -- how it is made
        base,
        cap,
        deductions_uncapped,
        deductions_applied,
        deductions_uncapped > cap as is_capped,
        members,
        measures_scored,
        measures_measurable,
        measures_passed,
        measures_failed
    from ranked

)

select * from final
{%- endmacro %}


{% macro score_monthly(results) -%}
{{ score_units('(' ~ score_lines(results) ~ ')') }}
{%- endmacro %}
