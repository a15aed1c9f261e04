{#- Every DuckDB MERGE of this project reads its source in the target's row order (D-70).

    DuckDB updates a matched row by fetching and decompressing, per column, the 2048-row vector
    that holds it; it batches updates only while consecutive row ids fall in the same vector
    (duckdb/duckdb#11275, back since 1.5). A MERGE whose source comes in any other order pays that
    fetch once per updated row: a catch-up build is many times slower than in the target's row
    order. The order costs one join and one sort of the batch (figures: docs/benchmarks.md,
    "Figures behind the decisions", D-70).

    in_target_order(temp_relation, target_relation, unique_key) returns (before, source, after):
    `before` copies the batch dbt built (temp_relation) into a temporary table sorted by the row
    id of its matching target row (new rows last), `source` is that table and `after` drops it.
    Used by the 'merge' strategy below and by the ticket engine's 'rejudge'
    (macros/incremental_tickets.sql).

    duckdb__get_incremental_merge_sql overrides dbt-duckdb's macro of the same name (the root
    project comes first in dbt's dispatch): the same merge, from the ordered batch. On Spark the
    adapter's own merge runs unchanged (its cost there is not measured). -#}
{% macro in_target_order(temp_relation, target_relation, unique_key) %}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set ordered = api.Relation.create(identifier=temp_relation.identifier ~ '__in_target_order',
                                          type='table') -%}
    {%- set sql -%}
    create or replace temporary table {{ ordered }} as
    select src.*
    from {{ temp_relation }} as src
    left join {{ target_relation }} as dest
        on {% for k in keys %}dest.{{ k }} = src.{{ k }}{{ " and " if not loop.last }}{% endfor %}
    order by dest.rowid nulls last;
    {%- endset -%}
    {{ return((sql, ordered, ';\ndrop table ' ~ ordered)) }}
{% endmacro %}

{% macro duckdb__get_incremental_merge_sql(args_dict) %}
    {%- set target = args_dict['target_relation'] -%}
    {%- set before, ordered, after = in_target_order(args_dict['temp_relation'], target, args_dict['unique_key']) -%}
    {%- set predicates = normalize_incremental_predicates(args_dict.get('incremental_predicates')) -%}
    {{ before }}
    {{ duckdb__get_merge_sql(target, ordered, args_dict['unique_key'], args_dict['dest_columns'], predicates) }}
    {{- after }}
{% endmacro %}
