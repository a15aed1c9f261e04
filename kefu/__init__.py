"""Kefu KPI warehouse (客服考核指标数据仓库): shared core of the project.

`kefu.contract` (the export data contract), `kefu.rulebook` (every rule and
threshold), `kefu.workcal` (the PRC working-day calendar) and the `kefu` CLI.
"""

__version__ = "0.1.0"
