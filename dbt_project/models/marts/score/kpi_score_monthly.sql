-- 考核得分: one row per scored unit (district, district head, technician) and month: base minus
-- the capped deductions of its failed measures, how many measures were measurable, and the rank
-- within grain and month (docs/decisions.md D-135..D-137; the scheme is the rulebook's `score:`).

{{ score_units(ref('kpi_score_lines')) }}
