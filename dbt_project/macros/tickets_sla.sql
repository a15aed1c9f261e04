{#- Small, portable helpers of the tickets family's time-limit engine (docs/decisions.md D-02..D-07). -#}

{#- Seconds from `start_expr` to `end_expr` (whole seconds; exports carry minute or second precision). -#}
{% macro tickets_seconds_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'second') }}
{%- endmacro %}

{#- A timestamp moved by a number of seconds. -#}
{% macro tickets_add_seconds(seconds_expr, ts_expr) -%}
    {{ dbt.dateadd('second', seconds_expr, ts_expr) }}
{%- endmacro %}

{#- 24:00 of the calendar date of a timestamp ("same day", D-03). -#}
{% macro tickets_midnight_after(ts_expr) -%}
    {{ dbt.dateadd('day', 1, 'cast(cast(' ~ ts_expr ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}

{#- Month ('YYYY-MM') a deadline or window end falls in: one at 24:00 belongs to the day it ends (D-06). -#}
{% macro tickets_deadline_month(ts_expr) -%}
    {{ month_text(dbt.dateadd('second', -1, ts_expr)) }}
{%- endmacro %}
