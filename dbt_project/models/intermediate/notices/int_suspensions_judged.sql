-- N1: every suspension for arrears judged in the month of suspended_at (event):
-- met when notice_at is at least the rulebook limit before suspended_at; no notice = breach.

with suspensions as (

    select * from {{ ref('stg_suspensions') }}

),

limits as (

    select limit_seconds from {{ ref('rulebook_limits') }}
    where measure_id = 'N1' and limit_key = 'all'

),

final as (

    select
        -- ids
        suspensions.suspension_id,
        suspensions.customer_id,
        suspensions.district_id,
        -- timestamps
        suspensions.notice_at,
        suspensions.suspended_at,
        -- figures
        {{ seconds_between('suspensions.notice_at', 'suspensions.suspended_at') }} as notice_lead_seconds,
        limits.limit_seconds as required_lead_seconds,
        -- judgement
        {{ month_text('suspensions.suspended_at') }} as period_month,
        coalesce(
            {{ seconds_between('suspensions.notice_at', 'suspensions.suspended_at') }} >= limits.limit_seconds,
            false
        ) as is_notified_in_time
    from suspensions
    cross join limits

)

select * from final
