{#-
    Tier groupings of the contacts family (docs/decisions.md D-14, D-30, D-44, D-45).
    The VIP tiers are the rulebook's `vip_tiers` (kefu/rulebook.yml); the rulebook has no
    seed for them yet, so they are listed once here and every contacts model uses these macros.
-#}

{% macro contacts_vip_tiers() -%}
    ('red_vip', 'vip', 'gotone_vip')
{%- endmacro %}

{#- vip / ordinary: P1 limit key and tier_group grain (D-44). -#}
{% macro contacts_tier_group(tier) -%}
    case when {{ tier }} in {{ contacts_vip_tiers() }} then 'vip' else 'ordinary' end
{%- endmacro %}

{#- gotone_vip / gotone / other: S1 brand group (D-30). -#}
{% macro contacts_brand_group(tier) -%}
    case when {{ tier }} in ('gotone_vip', 'gotone') then {{ tier }} else 'other' end
{%- endmacro %}

{#- vip / gotone / other: B1 limit key (D-45). -#}
{% macro contacts_hall_limit_key(tier) -%}
    case
        when {{ tier }} in {{ contacts_vip_tiers() }} then 'vip'
        when {{ tier }} = 'gotone' then 'gotone'
        else 'other'
    end
{%- endmacro %}

{#- true when the timestamp `done` is no later than `start` + `seconds` (a limit met at exactly the limit). -#}
{% macro contacts_within(start, done, seconds) -%}
    ({{ done }} is not null and {{ start }} is not null
        and {{ done }} <= {{ dbt.dateadd('second', seconds, start) }})
{%- endmacro %}
