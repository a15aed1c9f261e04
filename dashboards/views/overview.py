"""总览: every rule this month at the filters' scope — value, threshold, status, change from last month,
the regulation's wording on demand."""

from dashboards import ui

ui.rule_family("考核总览 · Overview", None, "overview", cards=False)
