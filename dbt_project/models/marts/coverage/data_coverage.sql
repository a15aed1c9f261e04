-- Data coverage (数据覆盖), one row per entity x source system x business date (D-94): the files
-- and rows that arrived, the contract columns they lacked, and the dates whose export never
-- arrived. Event entities are expected on every business date from their source's first export to
-- the last business date loaded; a reference list (districts, customers, ...) only on the dates it
-- was sent, so it has no missing dates.

with files as (

    select * from {{ ref('stg_load_log') }}

),

source_columns as (

    select * from {{ ref('stg_source_columns') }}

),

entities as (

    select * from {{ ref('contract_entities') }}

),

calendar as (

    select calendar_date from {{ ref('util_calendar') }}

),

bounds as (

    select max(business_date) as last_date from files

),

sources as (

    select
        files.entity,
        files.source_system,
        min(files.business_date) as first_date
    from files
    group by files.entity, files.source_system

),

expected_dates as (

    select
        sources.entity,
        sources.source_system,
        calendar.calendar_date as business_date
    from sources
    inner join entities on entities.entity = sources.entity
    cross join bounds
    inner join calendar
        on calendar.calendar_date between sources.first_date and bounds.last_date
    where entities.kind = 'event'

),

arrived_dates as (

    select distinct entity, source_system, business_date from files

),

dates as (

    select * from expected_dates
    union
    select * from arrived_dates

),

daily as (

    select
        entity,
        source_system,
        business_date,
        count(*) as files,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined
    from files
    group by entity, source_system, business_date

),

absent_columns as (

    select distinct
        files.entity,
        files.source_system,
        files.business_date,
        source_columns.column_name
    from files
    inner join source_columns on source_columns.file_id = files.file_id
    where not source_columns.present

),

absent as (

    select
        entity,
        source_system,
        business_date,
        {{ dbt.listagg('column_name', "', '", 'order by column_name') }} as absent_columns
    from absent_columns
    group by entity, source_system, business_date

),

final as (

    select
        -- keys
        dates.entity,
        dates.source_system,
        dates.business_date,
        -- attributes
        entities.name_zh as entity_zh,
        entities.kind as entity_kind,
        daily.files is not null as arrived,
        -- counts (NULL when the export never arrived)
        daily.files,
        daily.rows_read,
        daily.rows_loaded,
        daily.rows_quarantined,
        -- contract columns the day's export(s) lacked (loaded as NULL)
        absent.absent_columns
    from dates
    inner join entities on entities.entity = dates.entity
    left join daily
        on daily.entity = dates.entity
        and daily.source_system = dates.source_system
        and daily.business_date = dates.business_date
    left join absent
        on absent.entity = dates.entity
        and absent.source_system = dates.source_system
        and absent.business_date = dates.business_date

)

select * from final
