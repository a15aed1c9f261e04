-- Technician assignment history (one row per technician and assignment): which district a
-- technician served from valid_from to valid_to (open = still assigned). A1 counts the
-- technicians whose assignment covers the month's last day. Names and phones only hashed
-- or masked (D-60).

with technicians as (

    select * from {{ ref('stg_technicians') }}

),

months as (

    select max(as_of_date) as as_of_date from {{ ref('int_months_enumerated') }}

),

final as (

    select
        -- keys
        {{ dbt.concat(['technicians.technician_id', "'|'", 'cast(technicians.valid_from as ' ~ dbt.type_string() ~ ')']) }} as assignment_key,
        technicians.technician_id,
        technicians.district_id,
        -- pii (hashed / masked only)
        technicians.technician_name_hash,
        technicians.technician_name_masked,
        technicians.technician_phone_hash,
        technicians.technician_phone_masked,
        -- validity
        technicians.valid_from,
        technicians.valid_to,
        technicians.valid_from <= months.as_of_date
        and (technicians.valid_to is null or technicians.valid_to >= months.as_of_date) as is_current
    from technicians
    cross join months

)

select * from final
