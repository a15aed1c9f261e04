"""The queries of the score page (考核得分, views/score.py): the monthly score, rank and year to date
of each scored unit, and the lines behind a unit's score (marts.kpi_score_monthly / _lines /
_yearly, docs/decisions.md D-135..D-139). Every query goes through dashboards.data.query, so it is
scoped by the viewer's role (kefu/access.py, kind "score"). Nothing here computes a point."""

from __future__ import annotations

import pandas as pd

from dashboards import data
from kefu import rulebook

GRAINS = {"district": "片区", "district_head": "片区负责人", "technician": "维修人员"}

# Chinese headers of the score tables and their downloads (dashboards/ui.py LABELS takes them in)
LABELS = {
    "score_rank": "排名",
    "score": "考核得分",
    "units_ranked": "参加排名单位数",
    "measurable_label": "可计算考核项",
    "deductions_applied": "扣分",
    "deductions_uncapped": "扣分（封顶前）",
    "is_capped": "已封顶",
    "measures_measurable": "可计算项数",
    "measures_scored": "考核项总数",
    "measures_passed": "达标项数",
    "score_average_ytd": "年累计平均分",
    "score_total_ytd": "年累计得分",
    "rank_ytd": "年累计排名",
    "months_scored_ytd": "年累计考核月数",
    "deductions_ytd": "年累计扣分",
    "measures_failed_ytd": "年累计未达标项",
    "month_score": "当月得分",
    "member_id": "所属片区",
    "measure_id": "考核项",
    "deduction": "扣分值",
    "deduction_if_failed": "未达标扣分",
    "not_measurable_reason": "无法计算原因",
    "score_status": "得分状态",
    "members": "负责片区数",
}


def scheme_text() -> str:
    """The formula of the rulebook's score section in one line, for the page and the reports."""
    s = rulebook.score_scheme()
    heavy = "、".join(f"{k} {v:g} 分" for k, v in s.deductions.items())
    return (
        f"每个单位每月基础分 {s.base:g} 分，每项未达标考核项扣分（默认 {s.default_deduction:g} 分；{heavy}），"
        f"每月最多扣 {s.cap:g} 分；无法计算的考核项不计入、不扣分；片区负责人按所负责片区的平均扣分计。"
        f" · score = {s.base:g} − min({s.cap:g}, deductions of failed measures); "
        "not-measurable measures are left out (rulebook score:)."
    )


def monthly(path, month: str, grain: str, district: str | None = None, technician: str | None = None) -> pd.DataFrame:
    """The month's scores of one grain, best first, with the year to date; a district filter keeps
    that district, its technicians and its head, a technician filter that technician."""
    return data.query(
        path,
        """
        with names as (
            select 'district' as grain, district_id as unit_id, arg_max(district_name, period_month) as unit_name
            from marts.dim_district group by all
            union all
            select 'technician', technician_id, arg_max(technician_name_masked, valid_from)
            from marts.dim_technician group by all
        ),
        tech_district as (
            select technician_id, arg_max(district_id, valid_from) as district_id
            from marts.dim_technician group by all
        )
        select s.score_rank, s.unit_id, coalesce(n.unit_name, s.unit_id) as unit_name, s.score,
               s.measurable_label, s.measures_measurable, s.measures_scored, s.measures_failed, s.deductions_applied, s.is_capped, s.units_ranked,
               s.score_status, y.score_average_ytd, y.rank_ytd, y.months_scored_ytd, y.score_total_ytd
        from marts.kpi_score_monthly as s
        left join marts.kpi_score_yearly as y
            on y.grain = s.grain and y.unit_id = s.unit_id and y.period_month = s.period_month
        left join names as n on n.grain = s.grain and n.unit_id = s.unit_id
        left join tech_district as t on s.grain = 'technician' and t.technician_id = s.unit_id
        where s.period_month = ? and s.grain = ?
            and (? is null
                 or (s.grain = 'district' and s.unit_id = ?) or (s.grain = 'technician' and t.district_id = ?)
                 or (s.grain = 'district_head'
                     and s.unit_id in (select head_id from marts.dim_district where district_id = ?)))
            and (? is null or s.grain <> 'technician' or s.unit_id = ?)
        order by s.score_rank nulls last, s.unit_id""",
        [month, grain, district, district, district, district, technician, technician],
    )


def measurable_zh(measurable, scored) -> str:
    """ "31 / 36 项可计算": the scored measures with a verdict of all scored (not measurable ones count nothing)."""
    return f"{int(measurable)} / {int(scored)} 项可计算"


def lines(path, month: str, grain: str, unit_id: str) -> pd.DataFrame:
    """The lines of one unit's score: failed first (by points), then not measurable, then passed."""
    return data.query(
        path,
        """
        select measure_id, name_zh, member_id, status, value, threshold, deduction, deduction_if_failed,
               not_measurable_reason
        from marts.kpi_score_lines
        where period_month = ? and grain = ? and unit_id = ?
        order by case status when 'failed' then 0 when 'not_measurable' then 1 else 2 end,
                 deduction desc, measure_id, member_id""",
        [month, grain, unit_id],
    )


def deductions_by_measure(path, month: str, grain: str, unit_id: str) -> pd.DataFrame:
    """Points lost per measure (a head: summed over their districts, divided by their number)."""
    return data.query(
        path,
        """
        select l.measure_id, any_value(l.name_zh) as name_zh,
               sum(l.deduction) / any_value(s.members) as deduction,
               count(*) filter (where l.status = 'failed') as measures_failed
        from marts.kpi_score_lines as l
        join marts.kpi_score_monthly as s
            on s.grain = l.grain and s.unit_id = l.unit_id and s.period_month = l.period_month
        where l.period_month = ? and l.grain = ? and l.unit_id = ? and l.status = 'failed'
        group by l.measure_id order by deduction desc, l.measure_id""",
        [month, grain, unit_id],
    )


def year(path, month: str, grain: str, unit_id: str) -> pd.DataFrame:
    """The unit's year to date, month by month, through `month`."""
    return data.query(
        path,
        """
        select period_month, month_score, months_scored_ytd, score_total_ytd, score_average_ytd, rank_ytd,
               deductions_ytd, measures_failed_ytd
        from marts.kpi_score_yearly
        where grain = ? and unit_id = ? and period_year = ? and period_month <= ?
        order by period_month""",
        [grain, unit_id, month[:4], month],
    )
