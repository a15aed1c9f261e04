{#- Generic test: the column has a value in every row, except the rows of an export that lacked
    the column altogether (audit.source_columns.present = false). A rule input an export does not
    have loads as NULL and makes its rules not measurable (docs/decisions.md D-90); a NULL in an
    export that has the column is still an error. Identity columns keep the plain not_null. -#}
{% test not_null_unless_absent(model, column_name) %}

{%- set contract_column = column_name | replace('_hash', '') -%}

select rows_.*
from {{ model }} as rows_
where rows_.{{ column_name }} is null
    and not exists (
        select 1
        from {{ source('audit', 'source_columns') }} as absent
        where absent.file_id = rows_.file_id
            and absent.column_name = '{{ contract_column }}'
            and not absent.present
    )

{% endtest %}
