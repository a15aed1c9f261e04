-- 考核得分明细: every scored measure of every scored unit and month, with what it cost
-- (docs/decisions.md D-135). The score itself is kpi_score_monthly; both come from
-- macros/score.sql, applicable to any relation of kpi_rule_results' shape.

{{ score_lines(ref('kpi_rule_results')) }}
