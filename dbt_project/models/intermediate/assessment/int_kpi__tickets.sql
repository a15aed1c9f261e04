{#-
    The tickets family's contribution to kpi_rule_results: one row per measure × month × grain × unit
    for T1-T9, C1, C2, C9, V1-V7, S3 and A3 (= T9 at district grain, rulebook same_as). Every judged
    ticket × measure of int_ticket_clock (and every valid S3 answer) is listed once with its units,
    then expanded to the grains the rulebook lists for its measure (seed rulebook_grains); an item
    without a unit for a grain (a ticket with no technician) counts at its other grains only.
-#}

with clock as (

    select * from {{ ref('int_ticket_clock') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

s3_surveys as (

    select * from {{ ref('int_ticket_surveys_judged') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

grains as (

    select * from {{ ref('rulebook_grains') }}

),

ticket_items as (

    select
        clock.measure_id,
        clock.period_month,
        tickets.district_id,
        tickets.technician_id,
        case when clock.is_met then 1 else 0 end as met_count
    from clock
    inner join tickets on tickets.ticket_id = clock.ticket_id
    where clock.is_judged

),

survey_items as (

    select
        'S3' as measure_id,
        period_month,
        district_id,
        technician_id,
        case when is_satisfied then 1 else 0 end as met_count
    from s3_surveys

),

items as (

    -- counted once per measure, month and unit before the expansion to measures and grains
    -- below, which then handles a few thousand rows instead of one per judged ticket
    select
        measure_id,
        period_month,
        district_id,
        technician_id,
        sum(met_count) as met_count,
        count(*) as items
    from (
        select * from ticket_items
        union all
        select * from survey_items
    ) as judged
    group by measure_id, period_month, district_id, technician_id

),

measure_items as (

    -- a measure defined as another (A3 = T9) counts the same items
    select
        measures.measure_id,
        items.period_month,
        items.district_id,
        items.technician_id,
        items.met_count,
        items.items
    from items
    inner join measures
        on measures.measure_id = items.measure_id
        or measures.same_as = items.measure_id

),

units as (

    select
        measure_items.measure_id,
        measure_items.period_month,
        grains.grain,
        case grains.grain
            when 'company' then {{ rulebook_company_unit() }}
            when 'district' then measure_items.district_id
            when 'technician' then measure_items.technician_id
        end as unit_id,
        measure_items.met_count,
        measure_items.items
    from measure_items
    inner join grains on grains.measure_id = measure_items.measure_id

),

final as (

    select
        cast(measure_id as {{ dbt.type_string() }}) as measure_id,
        cast(period_month as {{ dbt.type_string() }}) as period_month,
        cast(grain as {{ dbt.type_string() }}) as grain,
        cast(unit_id as {{ dbt.type_string() }}) as unit_id,
        cast(sum(met_count) as {{ dbt.type_bigint() }}) as numerator,
        cast(sum(items) as {{ dbt.type_bigint() }}) as denominator,
        cast('*' as {{ dbt.type_string() }}) as target_key
    from units
    where unit_id is not null
    group by measure_id, period_month, grain, unit_id

)

select * from final
