-- Every version of every customer ever loaded (raw.customers_history: the current row and the
-- superseded ones), with the columns the month-end customers list reads (D-43). A customer
-- re-exported with a new tier or district has one row per export.

with source as (

    select * from {{ source('raw', 'customers_history') }}

),

renamed as (

    select
        customer_id,
        tier,
        district_id,
        is_project,
        project_delivery_date,
        _export_date as export_date,
        _file_id as file_id,
        _row_number as source_row_number
    from source

)

select * from renamed
