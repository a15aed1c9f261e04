-- One row per notice duty: every suspension for arrears (N1, notice_at before
-- suspended_at) and every customer affected by a work (N2, notified_at before the work's
-- start_at), with the lead time, the rulebook's required lead time and the flag.

with suspensions as (

    select * from {{ ref('int_suspensions_judged') }}

),

work_notices as (

    select * from {{ ref('int_work_notices_judged') }}

),

suspension_notices as (

    select
        -- keys
        {{ dbt.concat(["'suspension|'", 'suspension_id']) }} as notice_key,
        'N1' as measure_id,
        'suspension' as notice_kind,
        -- ids
        suspension_id,
        cast(null as {{ dbt.type_string() }}) as work_id,
        cast(null as {{ dbt.type_string() }}) as work_kind,
        customer_id,
        district_id,
        -- timestamps
        notice_at,
        suspended_at as event_at,
        -- figures
        notice_lead_seconds,
        required_lead_seconds,
        -- judgement
        period_month,
        is_notified_in_time
    from suspensions

),

affected_notices as (

    select
        -- keys
        {{ dbt.concat(["'work|'", 'work_id', "'|'", 'customer_id']) }} as notice_key,
        'N2' as measure_id,
        'work' as notice_kind,
        -- ids
        cast(null as {{ dbt.type_string() }}) as suspension_id,
        work_id,
        work_kind,
        customer_id,
        district_id,
        -- timestamps
        notified_at as notice_at,
        start_at as event_at,
        -- figures
        notice_lead_seconds,
        required_lead_seconds,
        -- judgement
        n2_period_month as period_month,
        is_notified_in_time
    from work_notices

),

final as (

    select * from suspension_notices
    union all
    select * from affected_notices

)

select * from final
