-- Paused intervals (挂起) of each ticket with overlapping or touching pauses merged, so that no
-- second is removed twice (docs/decisions.md D-05). One row per ticket × merged interval.

with ticket_pauses as (

    select * from {{ ref('stg_ticket_pauses') }}

),

valid_pauses as (

    -- a pause that does not end after it starts stops no clock
    select
        ticket_id,
        pause_id,
        reason,
        paused_at,
        resumed_at
    from ticket_pauses
    where resumed_at > paused_at

),

ordered as (

    select
        *,
        max(resumed_at) over (
            partition by ticket_id
            order by paused_at, resumed_at, pause_id
            rows between unbounded preceding and 1 preceding
        ) as previous_resumed_at
    from valid_pauses

),

flagged as (

    select
        *,
        case
            when previous_resumed_at is null or paused_at > previous_resumed_at then 1
            else 0
        end as starts_interval
    from ordered

),

numbered as (

    select
        *,
        sum(starts_interval) over (
            partition by ticket_id
            order by paused_at, resumed_at, pause_id
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged

),

final as (

    select
        -- ids
        {{ dbt.concat(['ticket_id', "'#'", 'cast(interval_number as ' ~ dbt.type_string() ~ ')']) }} as pause_interval_id,
        ticket_id,
        interval_number,
        -- timestamps
        min(paused_at) as paused_at,
        max(resumed_at) as resumed_at,
        -- facts
        count(*) as pauses_merged,
        max(case when reason = 'customer_unreachable' then 1 else 0 end) = 1 as has_customer_unreachable,
        max(case when reason = 'force_majeure' then 1 else 0 end) = 1 as has_force_majeure,
        max(case when reason = 'formalities_incomplete' then 1 else 0 end) = 1 as has_formalities_incomplete
    from numbered
    group by ticket_id, interval_number

)

select * from final
