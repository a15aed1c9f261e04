-- Data coverage (数据覆盖) of the rules, one row per entity x source system x measure x grain (D-94):
-- whether the source's latest export feeds the measure at that grain, since which business date
-- without a break, and, when not, which needed columns the latest export lacked. A measurable
-- rule whose latest export lacked an optional column (rulebook optional_reads, D-119) has a note.

with files as (

    select * from {{ ref('stg_load_log') }}

),

source_columns as (

    select * from {{ ref('stg_source_columns') }}

),

needs as (

    select * from {{ ref('rulebook_needs') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

optional_reads as (

    select * from {{ ref('rulebook_optional_reads') }}

),

per_file as (

    -- a file without audit.source_columns rows (loaded before they were recorded) counts as complete
    select
        files.entity,
        files.source_system,
        files.file_id,
        files.business_date,
        needs.measure_id,
        needs.grain,
        max(case when source_columns.present = false then 1 else 0 end) as lacking,
        {{ dbt.listagg("case when source_columns.present = false then needs.entity || '.' || needs.column_name end",
                       "', '", 'order by needs.column_name') }} as missing_columns
    from files
    inner join needs on needs.entity = files.entity
    left join source_columns
        on source_columns.file_id = files.file_id
        and source_columns.column_name = needs.column_name
    group by files.entity, files.source_system, files.file_id, files.business_date, needs.measure_id, needs.grain

),

spans as (

    select
        entity,
        source_system,
        measure_id,
        grain,
        min(business_date) as first_date,
        max(business_date) as last_date,
        max(file_id) as last_file_id,
        max(case when lacking = 1 then business_date end) as last_lacking_date
    from per_file
    group by entity, source_system, measure_id, grain

),

latest as (

    select
        per_file.entity,
        per_file.source_system,
        per_file.measure_id,
        per_file.grain,
        max(per_file.lacking) as lacking,
        max(per_file.missing_columns) as missing_columns
    from per_file
    inner join spans
        on spans.entity = per_file.entity
        and spans.source_system = per_file.source_system
        and spans.measure_id = per_file.measure_id
        and spans.grain = per_file.grain
        and spans.last_date = per_file.business_date
    group by per_file.entity, per_file.source_system, per_file.measure_id, per_file.grain

),

since as (

    select
        per_file.entity,
        per_file.source_system,
        per_file.measure_id,
        per_file.grain,
        min(per_file.business_date) as measurable_since
    from per_file
    inner join spans
        on spans.entity = per_file.entity
        and spans.source_system = per_file.source_system
        and spans.measure_id = per_file.measure_id
        and spans.grain = per_file.grain
    where spans.last_lacking_date is null or per_file.business_date > spans.last_lacking_date
    group by per_file.entity, per_file.source_system, per_file.measure_id, per_file.grain

),

latest_optional_missing as (

    -- optional columns the source's latest export lacked
    select distinct
        spans.entity,
        spans.source_system,
        spans.measure_id,
        spans.grain,
        'column ' || optional_reads.entity || '.' || optional_reads.column_name || ' missing from '
        || spans.source_system || ': ' || optional_reads.note as note
    from spans
    inner join optional_reads
        on optional_reads.measure_id = spans.measure_id
        and optional_reads.entity = spans.entity
    inner join files
        on files.entity = spans.entity
        and files.source_system = spans.source_system
        and files.business_date = spans.last_date
    inner join source_columns
        on source_columns.file_id = files.file_id
        and source_columns.column_name = optional_reads.column_name
    where source_columns.present = false

),

latest_notes as (

    select
        entity,
        source_system,
        measure_id,
        grain,
        {{ dbt.listagg('note', "'; '", 'order by note') }} as note
    from latest_optional_missing
    group by entity, source_system, measure_id, grain

),

final as (

    select
        -- keys
        spans.entity,
        spans.source_system,
        spans.measure_id,
        spans.grain,
        -- attributes
        measures.rule_id,
        measures.name_zh,
        measures.name_en,
        -- coverage
        latest.lacking = 0 as measurable,
        since.measurable_since,
        spans.first_date,
        spans.last_date,
        latest.missing_columns,
        case
            when latest.lacking = 1
                then 'column ' || latest.missing_columns || ' missing from ' || spans.source_system
        end as reason,
        latest_notes.note
    from spans
    inner join latest
        on latest.entity = spans.entity
        and latest.source_system = spans.source_system
        and latest.measure_id = spans.measure_id
        and latest.grain = spans.grain
    inner join measures on measures.measure_id = spans.measure_id
    left join since
        on since.entity = spans.entity
        and since.source_system = spans.source_system
        and since.measure_id = spans.measure_id
        and since.grain = spans.grain
    left join latest_notes
        on latest_notes.entity = spans.entity
        and latest_notes.source_system = spans.source_system
        and latest_notes.measure_id = spans.measure_id
        and latest_notes.grain = spans.grain

)

select * from final
