{#- Spark only (kefu.spark): register Parquet files as the tables the project reads, under the
    same schema.table names the DuckDB warehouse has (raw sources, rulebook seeds).
    tables: {"schema.table": "absolute path of a Parquet folder"}. Run with
    `dbt run-operation spark_register_parquet --args '{tables: {...}}' --target spark`. -#}
{% macro spark_register_parquet(tables) %}
    {%- for name, path in tables.items() %}
        {%- do run_query('create schema if not exists ' ~ name.split('.')[0]) %}
        {%- do run_query('drop table if exists ' ~ name) %}
        {%- do run_query('create table ' ~ name ~ " using parquet location '" ~ path ~ "'") %}
    {%- endfor %}
{% endmacro %}
