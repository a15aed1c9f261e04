-- One row per measure x grain x month: can the loaded exports measure it? (docs/decisions.md D-90, D-91)
-- A measure needs, at a grain, the contract columns rulebook_needs lists (its `reads`, less the
-- columns only another grain needs: district_id, technician_id). A column is missing for a month
-- when an export of its entity loaded for that month lacked it (audit.source_columns); a month
-- with no export of the entity keeps the columns of the last export before it. A measure with a
-- missing column is not measurable: kpi_rule_results holds no figure for it, and the reason says
-- which column is missing from which source. A missing *optional* column (rulebook optional_reads,
-- e.g. A2's tickets.complaint_validity, D-119) keeps the measure measurable and gives a note saying
-- how it is computed without the column.

with files as (

    select * from {{ ref('stg_load_log') }}

),

source_columns as (

    select * from {{ ref('stg_source_columns') }}

),

months as (

    select period_month, month_start, month_end from {{ ref('dim_month') }}

),

needs as (

    select * from {{ ref('rulebook_needs') }}

),

optional_reads as (

    select * from {{ ref('rulebook_optional_reads') }}

),

grains as (

    select * from {{ ref('rulebook_grains') }}

),

measures as (

    select * from {{ ref('rulebook_measures') }}

),

files_in_month as (

    select
        months.period_month,
        files.entity,
        files.file_id
    from files
    inner join months
        on files.business_date between months.month_start and months.month_end

),

entity_months as (

    select distinct period_month, entity from files_in_month

),

last_before as (

    select
        months.period_month,
        files.entity,
        max(files.business_date) as business_date
    from months
    inner join files on files.business_date < months.month_start
    group by months.period_month, files.entity

),

files_carried as (

    -- a month without an export of the entity: the last export before it still describes it
    select
        last_before.period_month,
        files.entity,
        files.file_id
    from last_before
    inner join files
        on files.entity = last_before.entity
        and files.business_date = last_before.business_date
    left join entity_months
        on entity_months.entity = last_before.entity
        and entity_months.period_month = last_before.period_month
    where entity_months.entity is null

),

effective_files as (

    select * from files_in_month
    union all
    select * from files_carried

),

absent_by_source as (

    select distinct
        effective_files.period_month,
        source_columns.entity,
        source_columns.column_name,
        source_columns.source_system
    from effective_files
    inner join source_columns on source_columns.file_id = effective_files.file_id
    where not source_columns.present

),

absent as (

    select
        period_month,
        entity,
        column_name,
        {{ dbt.listagg('source_system', "', '", 'order by source_system') }} as source_systems
    from absent_by_source
    group by period_month, entity, column_name

),

missing as (

    select
        needs.measure_id,
        needs.grain,
        absent.period_month,
        'column ' || needs.entity || '.' || needs.column_name || ' missing from ' || absent.source_systems as reason
    from needs
    inner join absent
        on absent.entity = needs.entity
        and absent.column_name = needs.column_name

),

optional_missing as (

    select
        optional_reads.measure_id,
        absent.period_month,
        'column ' || optional_reads.entity || '.' || optional_reads.column_name || ' missing from '
        || absent.source_systems || ': ' || optional_reads.note as note
    from optional_reads
    inner join absent
        on absent.entity = optional_reads.entity
        and absent.column_name = optional_reads.column_name

),

notes_by_measure as (

    select
        measure_id,
        period_month,
        {{ dbt.listagg('note', "'; '", 'order by note') }} as note
    from optional_missing
    group by measure_id, period_month

),

missing_by_measure as (

    select
        measure_id,
        grain,
        period_month,
        count(*) as missing_columns,
        {{ dbt.listagg('reason', "'; '", 'order by reason') }} as reason
    from missing
    group by measure_id, grain, period_month

),

final as (

    select
        -- keys
        grains.measure_id,
        grains.grain,
        months.period_month,
        -- attributes
        measures.rule_id,
        measures.name_zh,
        measures.name_en,
        measures.kind,
        -- measurability
        coalesce(missing_by_measure.missing_columns, 0) = 0 as measurable,
        cast(coalesce(missing_by_measure.missing_columns, 0) as {{ dbt.type_int() }}) as missing_columns,
        missing_by_measure.reason,
        notes_by_measure.note
    from grains
    cross join months
    inner join measures on measures.measure_id = grains.measure_id
    left join missing_by_measure
        on missing_by_measure.measure_id = grains.measure_id
        and missing_by_measure.grain = grains.grain
        and missing_by_measure.period_month = months.period_month
    left join notes_by_measure
        on notes_by_measure.measure_id = grains.measure_id
        and notes_by_measure.period_month = months.period_month

)

select * from final
