-- C3 (D-41): a VIP customer is due in month M when they opened >= 2 fault tickets in M, or
-- >= 1 in M and >= 1 in M-1 (VIP = the tier on the fault tickets). District: that of their
-- last VIP fault ticket opened in M. Met by a reaching `repeat_fault` callback in the last
-- week (7 calendar days) of M. Complete months only.

with tickets as (

    select * from {{ ref('stg_tickets') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

months as (

    select * from {{ ref('int_months_enumerated') }}

),

vip_faults as (

    select
        ticket_id,
        customer_id,
        district_id,
        opened_at,
        {{ month_text('opened_at') }} as period_month,
        row_number() over (
            partition by customer_id, {{ month_text('opened_at') }}
            order by opened_at desc, ticket_id desc
        ) as recency_rank
    from tickets
    where ticket_type = 'fault'
        and customer_tier in {{ rulebook_vip_tiers() }}
        and customer_id is not null

),

faults_per_month as (

    select
        customer_id,
        period_month,
        count(*) as fault_count,
        max(case when recency_rank = 1 then district_id end) as district_id
    from vip_faults
    group by customer_id, period_month

),

with_previous as (

    select
        this_month.customer_id,
        this_month.period_month,
        this_month.district_id,
        this_month.fault_count,
        coalesce(previous_month.fault_count, 0) as previous_month_fault_count
    from faults_per_month as this_month
    inner join months on months.period_month = this_month.period_month
    left join faults_per_month as previous_month
        on previous_month.customer_id = this_month.customer_id
        and previous_month.period_month = {{ month_text('months.previous_month_start') }}
    where months.is_complete

),

last_week_callbacks as (

    select distinct
        callbacks.customer_id,
        months.period_month
    from callbacks
    inner join months
        on cast(callbacks.callback_at as date) <= months.month_end
        and cast(callbacks.callback_at as date) > cast({{ dbt.dateadd('week', -1, 'months.month_end') }} as date)
    where callbacks.reason = 'repeat_fault'
        and callbacks.outcome in ({{ district_reached_outcomes() }})

),

final as (

    select
        -- keys
        with_previous.customer_id,
        with_previous.period_month,
        with_previous.district_id,
        -- figures
        with_previous.fault_count,
        with_previous.previous_month_fault_count,
        -- judgement
        last_week_callbacks.customer_id is not null as is_called_last_week
    from with_previous
    left join last_week_callbacks
        on last_week_callbacks.customer_id = with_previous.customer_id
        and last_week_callbacks.period_month = with_previous.period_month
    where with_previous.fault_count >= 2
        or with_previous.previous_month_fault_count >= 1

)

select * from final
