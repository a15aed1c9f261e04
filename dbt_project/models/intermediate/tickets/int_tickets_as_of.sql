-- The as-of time of every ticket clock (docs/decisions.md D-07): 24:00 of the last business
-- date loaded. The var as_of_date (YYYY-MM-DD) pins it; empty = the latest export date of
-- the ticket-system and hotline exports.

with tickets as (

    select * from {{ ref('stg_tickets') }}

),

ticket_pauses as (

    select * from {{ ref('stg_ticket_pauses') }}

),

callbacks as (

    select * from {{ ref('stg_callbacks') }}

),

files as (

    select * from {{ ref('stg_load_log') }}

),

surveys as (

    select * from {{ ref('stg_surveys') }}

),

export_dates as (

    select max(cast(export_date as date)) as export_date from tickets
    union all
    select max(cast(export_date as date)) from ticket_pauses
    union all
    select max(cast(export_date as date)) from callbacks
    union all
    select max(cast(export_date as date)) from surveys

),

last_business_date as (

    select
            {%- if run_var('as_of_date') %}
        max(cast('{{ run_var('as_of_date') }}' as date)) as as_of_date
        {%- else %}
        coalesce(max(export_date), (select max(files.business_date) from files)) as as_of_date
        {%- endif %}
    from export_dates

),

final as (

    select
        as_of_date,
        {{ dbt.dateadd('day', 1, 'cast(as_of_date as ' ~ dbt.type_timestamp() ~ ')') }} as as_of_at
    from last_business_date

)

select * from final
