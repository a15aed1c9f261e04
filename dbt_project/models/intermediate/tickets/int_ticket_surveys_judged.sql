-- S3 (docs/decisions.md D-30): valid answers of ticket surveys of VIP customers about installs and
-- repairs, one row per survey, credited to the ticket's district and technician, judged in the
-- month of surveyed_at. The VIP tier is the survey's (the tier when it happened, D-14).

with surveys as (

    select * from {{ ref('stg_surveys') }}

),

tickets as (

    select * from {{ ref('stg_tickets') }}

),

final as (

    select
        -- ids
        surveys.survey_id,
        surveys.ticket_id,
        tickets.district_id,
        tickets.technician_id,
        -- facts
        surveys.answer,
        surveys.answer in ('score_5', 'score_4', 'satisfied', 'basically_satisfied') as is_satisfied,
        -- timestamps
        surveys.surveyed_at,
        {{ month_text('surveys.surveyed_at') }} as period_month
    from surveys
    inner join tickets on tickets.ticket_id = surveys.ticket_id
    where surveys.channel = 'ticket'
        and surveys.customer_tier in {{ rulebook_vip_tiers() }}
        and surveys.answer not in ('unreachable', 'refused')
        and tickets.ticket_type in ('new_install', 'fault')

)

select * from final
