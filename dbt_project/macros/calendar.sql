{#-
    Time and calendar helpers shared by every family (docs/decisions.md D-02..D-07).
    Working days: util_calendar.workday_index counts working days, so the N-th working
    day after date d is the working day whose workday_index = workday_index(d) + N, and
    "within N wd" ends at 24:00 of it (see int_ticket_deadlines, int_work_notices_judged).
-#}

{#- Seconds from `start_expr` to `end_expr` (whole seconds; exports carry minute or second precision). -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'second') }}
{%- endmacro %}

{#- A timestamp moved by a number of seconds. -#}
{% macro add_seconds(seconds_expr, ts_expr) -%}
    {{ dbt.dateadd('second', seconds_expr, ts_expr) }}
{%- endmacro %}

{#- 24:00 of the calendar date of a timestamp: the end of "the same day" (D-03). -#}
{% macro midnight_after(ts_expr) -%}
    {{ dbt.dateadd('day', 1, 'cast(cast(' ~ ts_expr ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}

{#- Month ('YYYY-MM') a deadline or window end falls in: one at 24:00 belongs to the day it ends (D-06). -#}
{% macro deadline_month(ts_expr) -%}
    {{ month_text(dbt.dateadd('second', -1, ts_expr)) }}
{%- endmacro %}

{#- Incremental filter (D-70): rows exported since the model's latest export_date, minus a look-back
    (var incremental_lookback_days, default 3); everything when the model is empty. -#}
{% macro incremental_since_last_export(column='export_date') -%}
    {%- if is_incremental() %}
    where {{ column }} >= (select {{ incremental_cutoff_date() }} from {{ this }})
    {%- endif %}
{%- endmacro %}

{#- The cutoff date of that filter, as an aggregate over {{ this }} (for models that need it in a CTE). -#}
{% macro incremental_cutoff_date() -%}
    coalesce(
        cast({{ dbt.dateadd('day', -var('incremental_lookback_days', 3), 'max(export_date)') }} as date),
        cast('1900-01-01' as date)
    )
{%- endmacro %}
