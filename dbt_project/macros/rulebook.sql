{#-
    Customer-tier groupings, read from the rulebook (kefu/rulebook.yml vip_tiers and
    brand_groups, via the generated seed rulebook_tiers) — never typed in SQL.
-#}

{#- A subquery usable as `tier in {{ rulebook_vip_tiers() }}`: the VIP tiers (D-14). -#}
{% macro rulebook_vip_tiers() -%}
    (select rulebook_tiers.tier from {{ ref('rulebook_tiers') }} as rulebook_tiers where rulebook_tiers.is_vip)
{%- endmacro %}

{#- gotone_vip / gotone / other: the S1 brand group of a tier (D-30). -#}
{% macro rulebook_brand_group(tier) -%}
    coalesce((select rulebook_tiers.brand_group from {{ ref('rulebook_tiers') }} as rulebook_tiers
              where rulebook_tiers.tier = {{ tier }}), 'other')
{%- endmacro %}
