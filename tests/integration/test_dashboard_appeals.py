"""The dashboard's 申诉 page (dashboards/views/appeals.py, Streamlit AppTest) on a hand-written frozen
draft: a district head files an appeal against a failed ticket of their district, the manager
approves it and signs; a district head cannot see another district's failed tickets."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kefu import appeals
from kefu.access import Access
from kefu.home import Home

PAGE = Path(__file__).resolve().parents[2] / "dashboards" / "views" / "appeals.py"
MONTH = "2026-01"
HEAD = Access("head.d01@example.com", "district_head", districts=("D01",))
MANAGER = Access("wang.fang@example.com", "manager")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch) -> Home:
    h = Home(tmp_path / "home")
    folder = h.assessment_dir(MONTH)
    folder.mkdir(parents=True)
    results = pd.DataFrame(
        [
            {
                "measure_id": "T1",
                "period_month": MONTH,
                "grain": g,
                "unit_id": u,
                "numerator": 1,
                "denominator": 2,
                "value": 0.5,
                "threshold": 0.9,
                "comparison": ">=",
                "rule_id": "T1",
                "name_zh": "名称",
                "name_en": "name",
                "passed": False,
            }
            for g, u in (("company", "ALL"), ("district", "D01"), ("district", "D02"))
        ]
    )
    sla = pd.DataFrame(
        [
            {
                "measure_id": "T1",
                "ticket_id": t,
                "district_id": d,
                "technician_id": "W01",
                "is_judged": True,
                "is_met": False,
                "state": "breached",
                "deadline_at": pd.Timestamp("2026-01-20 18:00"),
                "period_month": MONTH,
            }
            for t, d in (("t1", "D01"), ("t2", "D02"))
        ]
    )
    con = duckdb.connect()
    for name, frame in (("kpi_rule_results", results), ("fct_ticket_sla", sla)):
        con.register("f", frame)
        con.execute(f"copy f to '{folder / (name + '.parquet')}' (format parquet)")
        con.unregister("f")
    con.close()
    appeals.record_draft(h, MONTH)
    monkeypatch.setenv("KEFU_HOME", str(h.root))
    return h


def page(who: Access) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["access"] = who
    return at.run()


def test_a_district_head_files_and_the_manager_approves_and_signs(home):
    at = page(HEAD)
    assert not at.exception
    assert "草稿 draft" in at.warning[0].value
    options = at.selectbox(key="appeal_item").options
    assert len(options) == 2 and all("D02" not in o and "t2" not in o for o in options)  # t1 and D01's result
    at.selectbox(key="appeal_item").set_value(0)
    at.text_area(key="appeal_reason").input("停电未登记 outage not recorded")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and "已提交" in at.success[0].value
    [a] = appeals.appeals(home, MONTH)
    assert (a.item.item_id, a.filed_by, a.state) == ("t1", HEAD.user, "pending")

    at = page(MANAGER)
    assert at.dataframe[0].value["结果"].tolist() == ["待审核"]
    at.selectbox(key="decide_which").set_value(a.appeal_id)
    at.radio(key="decide_decision").set_value("approved")
    at.text_area(key="decide_comment").input("停电已核实 confirmed")
    next(b for b in at.button if b.label == "提交审核 Decide").click().run()
    assert not at.exception
    assert appeals.appeals(home, MONTH)[0].state == "approved"
    at = page(MANAGER)
    at.button(key="sign_month").click().run()
    assert not at.exception and appeals.status(home, MONTH).state == "final"
    assert "已签发" in page(HEAD).success[0].value
