"""The pandas baseline: core KPIs T9, A2, H1, S1, C1 as a capable analyst would compute them.

    python -m benchmarks.baseline_pandas LANDING [--csv OUT]

Reads every daily export it needs with pandas (read_csv with the file's encoding and only the
needed columns, read_excel with the calamine engine for the workbooks: the compiled reader the
warehouse and the floor use, which pandas offers as `engine="calamine"`), keeps the newest version of each row, and
computes the same rows as marts.kpi_rule_results for these rules (measure_id, period_month, grain,
unit_id, numerator, denominator, value). Limits and brand groups come from kefu/rulebook.yml
(through benchmarks.floor.variables, shared with the floor). Definitions: docs/decisions.md.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pandas as pd

from benchmarks.floor import variables

TICKET_TS = "%Y年%m月%d日 %H时%M分"
CALL_TS = "%Y/%m/%d %H:%M:%S"
SURVEY_TS = "%Y/%m/%d %H:%M"


def read_all(landing: Path, pattern: str, **kw) -> pd.DataFrame:
    files = sorted(landing.glob(f"*/{pattern}"))
    reader = partial(pd.read_excel, engine="calamine") if pattern.endswith(".xlsx") else pd.read_csv
    return pd.concat([reader(f, **kw).assign(_file=f.name) for f in files], ignore_index=True)


def newest(df: pd.DataFrame, key: list[str], order: list[str] | None = None) -> pd.DataFrame:
    """The newest version per key: by `order` (missing first), then the later export file."""
    return df.sort_values((order or []) + ["_file"], na_position="first").drop_duplicates(key, keep="last")


def month(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m")


def judged(rule: str, items: pd.DataFrame, as_of_at: pd.Timestamp) -> pd.DataFrame:
    """Deadline items (columns district_id, done_at, deadline_at) -> judged rows (D-06): met in the
    month done, breached in the month of deadline - 1 s, open within the limit not judged."""
    hit = items["done_at"] <= items["deadline_at"]
    breached = ~hit & (items["done_at"].notna() | (items["deadline_at"] < as_of_at))
    period = month(items["done_at"]).where(hit, month(items["deadline_at"] - pd.Timedelta(seconds=1)))
    out = pd.DataFrame({"measure_id": rule, "period_month": period, "unit": items["district_id"], "hit": hit})
    return out[hit | breached]


def compute(landing: Path) -> pd.DataFrame:
    landing = Path(landing)
    v = variables()
    sec = lambda n: pd.Timedelta(seconds=n)  # noqa: E731

    t = read_all(
        landing,
        "工单明细_*.csv",
        encoding="utf-8-sig",
        dtype=str,
        usecols=[
            "工单编号",
            "工单类型",
            "投诉有效性",
            "所属片区",
            "受理时间",
            "首次回复时间",
            "处理完成时间",
            "最后更新时间",
        ],
    )
    for c in ["受理时间", "首次回复时间", "处理完成时间", "最后更新时间"]:
        t[c] = pd.to_datetime(t[c], format=TICKET_TS)
    t = newest(t, ["工单编号"], ["最后更新时间"])

    cb = read_all(landing, "回访记录_*.xlsx", header=2, usecols=["回访编号", "工单编号", "回访时间", "回访结果"])
    cb = newest(cb, ["回访编号"])

    calls = read_all(
        landing,
        "话务详单_*.csv",
        encoding="gb18030",
        dtype=str,
        usecols=[
            "流水号",
            "所属片区",
            "队列",
            "客户级别",
            "呼入时间",
            "选择人工",
            "进入排队时间",
            "接通时间",
            "挂机时间",
            "是否放弃",
        ],
    )
    calls = newest(calls, ["流水号"])

    sv = read_all(
        landing,
        "满意度调查_*.csv",
        encoding="gbk",
        dtype=str,
        usecols=["调查编号", "调查类型", "客户级别", "调查时间", "评价结果"],
    )
    sv = newest(sv, ["调查编号"])

    hh = read_all(landing, "片区用户数_*.xlsx", header=2, dtype={"片区编号": str, "月份": str})
    hh = newest(hh, ["片区编号", "月份"])

    # 24:00 of the last export day (D-07)
    as_of_at = max(
        pd.to_datetime(df["_file"].str.extract(r"_(\d{8})\.")[0], format="%Y%m%d").max() for df in (t, cb, sv)
    ) + pd.Timedelta(days=1)

    # T9 (D-10): opened -> first reply
    t9 = judged(
        "T9",
        pd.DataFrame(
            {
                "district_id": t["所属片区"],
                "done_at": t["首次回复时间"],
                "deadline_at": t["受理时间"] + sec(v["t9_limit_s"]),
            }
        ),
        as_of_at,
    )

    # C1 (D-40): resolved installs, repairs, complaints -> first reaching callback at or after resolved
    r = t[t["处理完成时间"].notna() & t["工单类型"].isin(["新装", "报修", "投诉"])]
    reach = cb[cb["回访结果"].isin(["已回访", "发现问题"])]
    j = r.merge(reach, on="工单编号", how="left")
    j = j[j["回访时间"] >= j["处理完成时间"]]
    first_cb = j.groupby("工单编号")["回访时间"].min()
    c1 = judged(
        "C1",
        pd.DataFrame(
            {
                "district_id": r["所属片区"],
                "done_at": r["工单编号"].map(first_cb),
                "deadline_at": r["处理完成时间"] + sec(v["c1_limit_s"]),
            }
        ),
        as_of_at,
    )

    # H1 (D-20, D-116): VIP callers' calls that asked for a human, abandons included
    for c in ["呼入时间", "进入排队时间", "接通时间", "挂机时间"]:
        calls[c] = pd.to_datetime(calls[c], format=CALL_TS)
    start = calls["进入排队时间"].fillna(calls["呼入时间"])
    short_abandon = (
        calls["接通时间"].isna()
        & (calls["是否放弃"] == "是")
        & (calls["挂机时间"] < start + sec(v["h1_short_abandon_s"]))
    )
    vip = calls["客户级别"].isin(v["h1_vip_labels"]) if v["h1_by_tier"] else calls["队列"] == "VIP队列"
    scope = vip & (calls["选择人工"] == "是") & ~short_abandon
    h1 = pd.DataFrame(
        {
            "measure_id": "H1",
            "period_month": month(start),
            "unit": calls["所属片区"],
            "hit": calls["接通时间"] <= start + sec(v["h1_limit_s"]),
        }
    )[scope]

    # S1 (D-30): valid hotline answers by brand group
    sv = sv[(sv["调查类型"] == "热线满意度") & ~sv["评价结果"].isin(["未接通", "拒访"])]
    s1 = pd.DataFrame(
        {
            "measure_id": "S1",
            "period_month": month(pd.to_datetime(sv["调查时间"], format=SURVEY_TS)),
            "unit": sv["客户级别"].map(v["brand_group"]).fillna("other"),
            "hit": sv["评价结果"].isin(["5", "4", "满意", "基本满意"]),
        }
    )

    items = pd.concat([t9, c1, h1, s1], ignore_index=True)
    by_unit = items.dropna(subset=["unit"]).groupby(["measure_id", "period_month", "unit"])["hit"].agg(["sum", "count"])
    by_unit = by_unit.reset_index().rename(columns={"unit": "unit_id"})
    by_unit["grain"] = by_unit["measure_id"].map({"S1": "brand_group"}).fillna("district")
    company = items[items["measure_id"] != "S1"].groupby(["measure_id", "period_month"])["hit"].agg(["sum", "count"])
    company = company.reset_index().assign(grain="company", unit_id="ALL")

    # A2 (D-50, D-119): valid complaints opened in the month / households
    comp = t[(t["工单类型"] == "投诉") & (t["投诉有效性"] != v["invalid_complaint_label"])].assign(
        period_month=lambda d: month(d["受理时间"])
    )
    by_district = comp.groupby(["所属片区", "period_month"]).size().rename("sum")
    a2 = hh.rename(columns={"片区编号": "所属片区", "月份": "period_month", "在网用户数": "count"})
    a2 = a2.join(by_district, on=["所属片区", "period_month"]).fillna({"sum": 0})
    a2_district = a2.assign(measure_id="A2", grain="district", unit_id=a2["所属片区"])
    a2_company = a2.groupby("period_month")["count"].sum().reset_index()
    a2_company["sum"] = a2_company["period_month"].map(comp.groupby("period_month").size()).fillna(0)
    a2_company = a2_company.assign(measure_id="A2", grain="company", unit_id="ALL")

    cols = ["measure_id", "period_month", "grain", "unit_id", "sum", "count"]
    out = pd.concat([df[cols] for df in (by_unit, company, a2_district, a2_company)], ignore_index=True)
    out = out.rename(columns={"sum": "numerator", "count": "denominator"}).astype(
        {"numerator": "int64", "denominator": "int64"}
    )
    out = out[out["denominator"] > 0]
    out["value"] = out["numerator"] / out["denominator"]
    return out.sort_values(["measure_id", "period_month", "grain", "unit_id"], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("landing", type=Path)
    ap.add_argument("--csv", type=Path, help="write the KPI rows here")
    args = ap.parse_args(argv)
    df = compute(args.landing)
    if args.csv:
        df.to_csv(args.csv, index=False)
    print(df.groupby(["measure_id", "grain"]).size().to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
