{#-
    Tier groupings of the contacts family (docs/decisions.md D-14, D-30, D-44, D-45).
    The VIP tiers and brand groups come from the rulebook (macros/rulebook.sql).
-#}

{#- vip / ordinary: P1 limit key and tier_group grain (D-44). -#}
{% macro contacts_tier_group(tier) -%}
    case when {{ tier }} in {{ rulebook_vip_tiers() }} then 'vip' else 'ordinary' end
{%- endmacro %}

{#- gotone_vip / gotone / other: S1 brand group (D-30). -#}
{% macro contacts_brand_group(tier) -%}
    {{ rulebook_brand_group(tier) }}
{%- endmacro %}

{#- vip / gotone / other: B1 limit key (D-45). -#}
{% macro contacts_hall_limit_key(tier) -%}
    case
        when {{ tier }} in {{ rulebook_vip_tiers() }} then 'vip'
        when {{ tier }} = 'gotone' then 'gotone'
        else 'other'
    end
{%- endmacro %}

{#- true when the timestamp `done` is no later than `start` + `seconds` (a limit met at exactly the limit). -#}
{% macro contacts_within(start, done, seconds) -%}
    ({{ done }} is not null and {{ start }} is not null
        and {{ done }} <= {{ dbt.dateadd('second', seconds, start) }})
{%- endmacro %}
