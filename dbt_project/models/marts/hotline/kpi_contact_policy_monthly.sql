-- P1 do-not-disturb (D-44) by month and unit (company, tier group): customers called by phone,
-- those with no breaching call, and the phone calls behind them. Pass/fail from kpi_rule_results.

with rule_results as (

    select * from {{ ref('kpi_rule_results') }}

),

customer_months as (

    select * from {{ ref('int_outbound_customer_months') }}

),

calls_by_unit as (

    select
        period_month,
        'company' as grain,
        'ALL' as unit_id,
        sum(phone_calls) as phone_calls,
        sum(breaching_calls) as breaching_calls
    from customer_months
    group by period_month

    union all

    select
        period_month,
        'tier_group' as grain,
        tier_group as unit_id,
        sum(phone_calls) as phone_calls,
        sum(breaching_calls) as breaching_calls
    from customer_months
    group by period_month, tier_group

),

final as (

    select
        -- keys
        rule_results.period_month,
        rule_results.measure_id,
        rule_results.grain,
        rule_results.unit_id,
        -- names
        rule_results.name_zh,
        rule_results.name_en,
        -- figures
        rule_results.numerator as customers_undisturbed,
        rule_results.denominator as customers_called,
        calls_by_unit.phone_calls,
        calls_by_unit.breaching_calls,
        rule_results.value,
        rule_results.threshold,
        rule_results.comparison,
        rule_results.passed
    from rule_results
    left join calls_by_unit
        on calls_by_unit.period_month = rule_results.period_month
        and calls_by_unit.grain = rule_results.grain
        and calls_by_unit.unit_id = rule_results.unit_id
    where rule_results.measure_id = 'P1'

)

select * from final
