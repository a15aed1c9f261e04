-- Callback duties C1–C9 per month at the company and district grains, wide (one column
-- group per rule: numerator, denominator, value, threshold, passed): a pivot of
-- kpi_rule_results (C6's threshold is its year-to-date pace, M/12). C1 is also judged per
-- technician in kpi_rule_results; that grain is not pivoted here.

{%- set rules = rulebook_family('C') %}

{{ rule_results_wide(rules) }}
