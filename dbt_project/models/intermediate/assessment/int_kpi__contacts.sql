{#-
    The contacts family's contribution to kpi_rule_results: one row per measure × month × grain × unit
    for H1-H5, R3, S1, S2, A4, P1, B1 and B2. Each judged item is counted once per set of units, then
    expanded to the grains the rulebook lists for its measure (seed rulebook_grains); an item without a
    unit for a grain (a call with no district) counts at its other grains only (docs/decisions.md).
    The company unit is the rulebook's company_unit (macro rulebook_company_unit).
-#}
{%- set grain_units = [
    ('company', rulebook_company_unit()),
    ('district', 'district_id'),
    ('queue', 'queue'),
    ('brand_group', 'brand_group'),
    ('tier_group', 'tier_group'),
    ('hall', 'hall_id'),
] -%}

with calls as (

    select * from {{ ref('int_calls_judged') }}

),

fault_hours as (

    select * from {{ ref('int_fault_hours_covered') }}

),

surveys as (

    select * from {{ ref('int_surveys_classified') }}

),

customer_months as (

    select * from {{ ref('int_outbound_customer_months') }}

),

hall_visits as (

    select * from {{ ref('int_hall_visits_judged') }}

),

grains as (

    select * from {{ ref('rulebook_grains') }}

),

call_items as (

    -- H1 (D-20): month and clock of queued_at
    select
        'H1' as measure_id, queued_month as period_month, district_id, queue,
        is_answered_within_service_level as is_met
    from calls
    where is_h1_in_scope

    union all

    -- H2.1 / H2.2: expert transfers (D-22)
    select 'H2.1', arrived_month, district_id, queue, is_transfer_within_service_level
    from calls
    where transfer_type = 'expert'

    union all

    select 'H2.2', arrived_month, district_id, queue, is_transfer_misrouted
    from calls
    where transfer_type = 'expert'

    union all

    -- H3.1 / H3.2: self-service transfers
    select 'H3.1', arrived_month, district_id, queue, is_transfer_success
    from calls
    where transfer_type = 'self_service'

    union all

    select 'H3.2', arrived_month, district_id, queue, is_transfer_misrouted
    from calls
    where transfer_type = 'self_service'

    union all

    -- H3.3: answered calls transferred to self-service
    select 'H3.3', arrived_month, district_id, queue, transfer_type = 'self_service'
    from calls
    where is_answered

    union all

    -- H4: answered VIP-queue calls transferred without being asked
    select 'H4', arrived_month, district_id, queue, is_unrequested_transfer
    from calls
    where is_answered and queue = 'vip'

    union all

    -- R3 (D-53): calls of identified customers that repeat a contact of the last 7 days
    select 'R3', arrived_month, district_id, queue, is_repeat_contact
    from calls
    where is_identified

),

fault_hours_company as (

    select
        hour_start,
        period_month,
        sum(fault_calls_answered) as fault_calls_answered
    from fault_hours
    group by hour_start, period_month

),

items as (

    select
        measure_id,
        period_month,
        cast(null as {{ dbt.type_string() }}) as only_grain,
        district_id,
        queue,
        cast(null as {{ dbt.type_string() }}) as brand_group,
        cast(null as {{ dbt.type_string() }}) as tier_group,
        cast(null as {{ dbt.type_string() }}) as hall_id,
        '*' as target_key,
        is_met
    from call_items

    union all

    -- H5 (D-21): an uncovered clock hour per queue, and per hour over both queues for the company
    select 'H5', period_month, 'queue', null, queue, null, null, null, '*', is_uncovered
    from fault_hours

    union all

    select 'H5', period_month, 'company', null, null, null, null, null, '*', fault_calls_answered = 0
    from fault_hours_company

    union all

    -- S1: hotline surveys by brand group, whose target depends on the group
    select 'S1', period_month, null, null, null, brand_group, null, null, brand_group, is_satisfied  -- noqa: AL08
    from surveys
    where channel = 'hotline' and is_valid

    union all

    -- S2 / A4: ticket surveys by district
    select 'S2', period_month, null, district_id, null, null, null, null, '*', is_satisfied
    from surveys
    where channel = 'ticket' and is_valid

    union all

    select 'A4', period_month, null, district_id, null, null, null, null, '*', is_satisfied
    from surveys
    where channel = 'ticket' and is_valid

    union all

    -- P1 (D-44): customers called by phone in the month
    select 'P1', period_month, null, null, null, null, tier_group, null, '*', is_undisturbed
    from customer_months

    union all

    -- B1 / B2 (D-45)
    select 'B1', period_month, null, null, null, null, null, hall_id, '*', is_served_within_limit
    from hall_visits

    union all

    select 'B2', period_month, null, null, null, null, null, hall_id, '*', is_received_within_limit
    from hall_visits
    where is_vip_card_shown

),

counted_items as (

    -- counted once per rule, month and unit set before the expansion to grains below, which
    -- then reads a few thousand rows six times instead of every judged call
    select
        measure_id,
        period_month,
        only_grain,
        district_id,
        queue,
        brand_group,
        tier_group,
        hall_id,
        target_key,
        sum(case when is_met then 1 else 0 end) as met_count,
        count(*) as items
    from items
    group by measure_id, period_month, only_grain, district_id, queue, brand_group, tier_group, hall_id, target_key

),

unit_items as (

    {% for grain, unit in grain_units -%}
    select
        measure_id,
        period_month,
        '{{ grain }}' as grain,
        cast({{ unit }} as {{ dbt.type_string() }}) as unit_id,
        target_key,
        met_count,
        items
    from counted_items
    where (only_grain is null or only_grain = '{{ grain }}')
        {%- if grain != 'company' %}
        and {{ unit }} is not null
        {%- endif %}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

judged_grains as (

    select unit_items.*
    from unit_items
    inner join grains
        on grains.measure_id = unit_items.measure_id
        and grains.grain = unit_items.grain

),

aggregated as (

    select
        measure_id,
        period_month,
        grain,
        unit_id,
        cast(sum(met_count) as {{ dbt.type_bigint() }}) as numerator,
        cast(sum(items) as {{ dbt.type_bigint() }}) as denominator,
        target_key
    from judged_grains
    group by measure_id, period_month, grain, unit_id, target_key

),

final as (

    select
        cast(measure_id as {{ dbt.type_string() }}) as measure_id,
        cast(period_month as {{ dbt.type_string() }}) as period_month,
        cast(grain as {{ dbt.type_string() }}) as grain,
        unit_id,
        numerator,
        denominator,
        cast(target_key as {{ dbt.type_string() }}) as target_key
    from aggregated

)

select * from final
