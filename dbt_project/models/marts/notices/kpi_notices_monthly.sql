-- Notice duties N1 (suspension for arrears, 24 h) and N2 (engineering / line works, 48 h)
-- per month at the company and district grains, wide: a pivot of kpi_rule_results.

{%- set rules = rulebook_family('N') %}

{{ rule_results_wide(rules) }}
