{#- dbt-spark refuses incremental_strategy='merge' unless file_format is delta, iceberg or hudi,
    even when the model is only being created. Creating it is plain `create table as` in every
    format, so the merge models (D-70) build on a Parquet-only Spark (the local session target,
    kefu.spark) whenever dbt creates the table: first build or --full-refresh. A later
    incremental run there still fails, as it must: MERGE needs a table format (docs/scaling.md:
    +file_format: delta on a cluster). Overrides dbt-spark's macro of the same name.
    The ticket engine's 'rejudge' strategy (macros/incremental_tickets.sql) is a DuckDB MERGE
    with a subquery in its WHEN NOT MATCHED BY SOURCE clause, which Delta does not take: on Spark
    it is dbt-spark's 'merge', after the pre-hook delete_rejudged_tickets(). -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'rejudge' -%}
        {%- set raw_strategy = 'merge' -%}
    {%- endif -%}
    {%- if raw_strategy == 'merge' and (should_full_refresh() or load_relation(this) is none) -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}
