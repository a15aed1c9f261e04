"""The generated rule index (docs/rule-index.md, kefu/rule_index.py): current, its links resolve,
and the way it recognises a rule's name in a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kefu import rule_index, rulebook
from kefu.cli import main

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "docs" / "rule-index.md"


@pytest.fixture(scope="module")
def index() -> str:
    return rule_index.render()


def section(index: str, measure_id: str) -> str:
    start = index.index(f'<a id="{rule_index.anchor(measure_id)}"></a>')
    end = index.find('<a id="', start + 1)
    return index[start : end if end > 0 else None]


def test_the_committed_rule_index_is_current(index):
    assert INDEX.read_text(encoding="utf-8") == index, "stale: run `kefu docs rule-index` and commit docs/rule-index.md"


def test_check_fails_on_a_stale_index_and_passes_on_a_fresh_one(tmp_path, capsys):
    stale = tmp_path / "rule-index.md"
    stale.write_text(INDEX.read_text(encoding="utf-8").replace("## T9 ", "## T9 (edited by hand) "), encoding="utf-8")
    assert main(["docs", "rule-index", "--check", "--file", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert main(["docs", "rule-index", "--file", str(stale)]) == 0
    assert main(["docs", "rule-index", "--check", "--file", str(stale)]) == 0


def test_every_rule_has_a_section_and_a_row_linking_to_it(index):
    for m in rulebook.load().values():
        assert f"| [{m.id}](#{rule_index.anchor(m.id)}) |" in index
        assert f"## {m.id} {m.name_zh} · {m.name_en}" in section(index, m.id)


def test_every_link_of_the_index_points_at_an_existing_file_and_line(index):
    links = re.findall(r"\]\(\.\./([^)#]+)(?:#L(\d+))?\)", index)
    assert len(links) > 500
    for path, line in set(links):
        target = ROOT / path
        assert target.is_file(), path
        if line:
            assert 1 <= int(line) <= len(target.read_text(encoding="utf-8").splitlines()), f"{path}#L{line}"


def test_t9_leads_to_its_one_sql_line_its_suite_page_and_the_weekly_report(index):
    t9 = section(index, "T9")
    sql = ROOT / "dbt_project/models/intermediate/tickets/int_ticket_sla_parts.sql"
    # its first mention there: the comment above the union branch that adds T9 ('T9' as measure_id)
    lines = sql.read_text(encoding="utf-8").splitlines()
    line = next(i for i, s in enumerate(lines, 1) if "T9" in s)
    assert lines[line - 1].lstrip().startswith("--")  # a comment, the branch's select within two lines
    assert any("'T9' as measure_id" in s for s in lines[line : line + 2])
    assert f"[int_ticket_sla_parts](../dbt_project/models/intermediate/tickets/int_ticket_sla_parts.sql#L{line})" in t9
    rb_line = next(
        i for i, s in enumerate(rulebook.RULEBOOK_FILE.read_text(encoding="utf-8").splitlines(), 1) if s == "  - id: T9"
    )
    assert f"[kefu/rulebook.yml](../kefu/rulebook.yml#L{rb_line})" in t9
    assert "[thresholds.T](../expectations/suites/thresholds.T.json#L" in t9
    assert "[总览 `/`](../dashboards/views/overview.py)" in t9
    assert "weekly R2 [一、工单时限]" in t9
    assert "kpi_rule_results" in t9
    # a callback duty is on its family's page and not in the weekly summary (no ticket time limit)
    c5 = section(index, "C5")
    assert "[回访与免打扰 `/callbacks`](../dashboards/views/callbacks.py)" in c5 and "weekly R2" not in c5


def test_a_duty_without_a_number_says_so(index):
    r1 = section(index, "R1")
    assert "- **Expectation**: none (no threshold to check)" in r1
    assert "- **Dashboard**: — (a report duty: see Reports)" in r1
    assert "templates/monthly.html.j2" in r1


@pytest.mark.parametrize(
    "text, measure_id, expected",
    [
        ("select 'T1' as measure_id", "T1", True),
        ("rule T10 is not T1's sibling", "T1", True),
        ("rule T10 only", "T1", False),
        ("for T1–T9 and C1", "T5", True),  # a range names every rule inside it
        ("for T1-T4", "T5", False),
        ("V1…V7", "V7", True),
        ("H2.1 only", "H2.2", False),
        ("H2 (both thresholds)", "H2.2", True),  # the catalogue rule names its measures
        ("H2.10", "H2.1", False),
        ("a1_value, a2_passed", "A2", True),
        ("ta1_value", "A1", False),
        ("customer C5A", "C5", False),
    ],
)
def test_a_rule_is_named_by_its_id_a_range_or_a_wide_column(text, measure_id, expected):
    assert rule_index.names(text, rulebook.load()[measure_id]) is expected


@pytest.mark.parametrize(
    "source, expected",
    [
        ('rules = ["C5", "C6"]', True),
        ("frame[frame.measure_id == 'C5']", True),
        ('{"measure_id": "C5", "value": 1}', True),
        ('{"call_id": "C5", "ended_at": "2026/3/2"}', False),  # a call id that happens to read C5
        ("ticket(ticket_id='C5')", False),
        ('"C55"', False),
    ],
)
def test_a_python_test_names_a_rule_by_quoting_it_not_as_another_id(source, expected):
    assert rule_index.quotes(source, "C5") is expected


def test_each_rules_page_names_it_in_its_view():
    """The rulebook's `page:` (read by the index) agrees with the rule lists the views hold today."""
    views = ROOT / "dashboards" / "views"
    pages = {p.stem for p in views.glob("*.py")}
    for m in rulebook.load().values():
        page = m.spec.get("page")
        assert page is None or page in pages, f"{m.id}: page {page!r} is not a view"
        if page not in (None, "overview"):
            assert rule_index.names((views / f"{page}.py").read_text(encoding="utf-8"), m), f"{m.id} not on {page}"
    assert {m.id for m in rulebook.load().values() if m.spec.get("page") is None} == {"R1", "R2"}
