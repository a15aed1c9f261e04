{#- The ticket engine is incremental by ticket (docs/decisions.md D-70): every night the tickets
    listed by int_tickets_rejudged are judged afresh and the rest keep their rows.

    previous_build(name): the table the previous build left for model `name` (read before this
    build replaces it), or none on a first build or --full-refresh. Read without ref(): the models
    int_tickets_rejudged reads this way run after it, which is the point.

    only_rejudged_tickets(keyword='where', column='ticket_id'): the filter each engine model puts on
    its inputs on an incremental run (nothing on a full build); keyword='and' adds it to a where
    clause (or, with column='dest.ticket_id', to the rejudge merge's delete clause).

    The engine models use incremental_strategy='rejudge' (get_incremental_rejudge_sql). A
    re-judged ticket's rows are replaced as a whole, so that a measure or part that no longer
    applies (a ticket reopened loses its callback and follow-up measures) leaves no stale row,
    while a row that came out the same is left alone:
      - DuckDB: one MERGE on the key that updates a row only when some column differs, inserts
        the new rows and deletes the re-judged tickets' rows the run no longer produces. Most
        re-judged tickets come out unchanged; deleting and re-inserting their rows left deletions
        in every row group of these tables, which DuckDB's checkpoint then vacuums (the merge
        costs less: docs/benchmarks.md, D-70). Its source is read in the target's row
        order (in_target_order, macros/merge_in_target_order.sql).
      - engines whose MERGE takes no subquery in a WHEN NOT MATCHED BY SOURCE condition (Spark
        with Delta): the pre-hook delete_rejudged_tickets() deletes the re-judged tickets' rows
        and the adapter's own merge inserts the new ones (the strategy is 'merge' there,
        macros/spark_incremental.sql). -#}
{% macro previous_build(name) %}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ name] -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}

{% macro only_rejudged_tickets(keyword='where', column='ticket_id') %}
    {%- if is_incremental() -%}
    {{ keyword }} {{ column }} in (select ticket_id from {{ ref('int_tickets_rejudged') }})
    {%- endif -%}
{% endmacro %}

{% macro delete_rejudged_tickets() %}
    {{- return(adapter.dispatch('delete_rejudged_tickets')()) -}}
{% endmacro %}

{% macro default__delete_rejudged_tickets() %}
    {%- if is_incremental() -%}
    delete from {{ this }} {{ only_rejudged_tickets() }}
    {%- endif -%}
{% endmacro %}

{% macro duckdb__delete_rejudged_tickets() %}
    {#- nothing: the rejudge merge deletes the rows that are no longer produced -#}
{% endmacro %}

{% macro get_incremental_rejudge_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = [] -%}
    {%- for column in arg_dict['dest_columns'] -%}
        {%- do columns.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set before, ordered, after = in_target_order(arg_dict['temp_relation'], target, key) -%}
    {{ before }}
    merge into {{ target }} as dest
    using {{ ordered }} as src
    on (dest.{{ key }} = src.{{ key }})
    when matched and (
        ({% for c in columns %}dest.{{ c }}{{ ", " if not loop.last }}{% endfor %})
        is distinct from
        ({% for c in columns %}src.{{ c }}{{ ", " if not loop.last }}{% endfor %})
    ) then update by name
    when not matched then insert by name
    when not matched by source {{ only_rejudged_tickets('and', 'dest.ticket_id') }} then delete
    {{- after }}
{% endmacro %}
