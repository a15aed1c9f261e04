"""`kefu mapping suggest` and `kefu mapping check` (issue 17 item 3) on an export written here by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import mapping, mapping_tools
from kefu import cli, rulebook

# A call-centre ticket export nobody here wrote: tabs, its own header words, a spaced label,
# one type no rule can guess, no product / customer / updated columns.
EXPORT = (
    "工单号\t创建时间\t首次响应时间\t完成时间\t类型\t状态\t片区\t坐席备注\n"
    "G1\t2026-03-05 08:00:00\t2026-03-05 08:30:00\t2026-03-05 10:00:00\t投诉\t已办结\tD01\tx\n"
    "G2\t2026-03-05 09:30:00\t2026-03-05 09:31:00\t\t咨 询\t处理中\tD02\t\n"
    "G3\t2026-03-05 23:10:00\t\t2026-03-06 09:00:00\t乱七八糟\t已办结\tD01\t\n"
)

# what a person adds after reading the suggestion: the columns the export lacks
EDIT = """\
    constants: {product: broadband, customer_tier: ordinary, customer_kind: individual, area_type: urban,
                channel: hotline, reopen_count: 0}
    derive:
      updated_at: {header: 创建时间}
      customer_id: {header: 工单号}
"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    day = tmp_path / "2026-03-05"
    day.mkdir()
    p = day / "坐席工单_20260305.tsv"
    p.write_text(EXPORT, encoding="utf-8")
    return p


def test_suggest_matches_synonyms_detects_the_delimiter_and_proposes_enum_values(export, tmp_path):
    text = mapping_tools.suggest(export)
    out = tmp_path / "suggested.yml"
    out.write_text(text, encoding="utf-8")
    rule = mapping.load_file(out)[0]  # the suggestion is itself a valid mapping
    assert rule.entity == "tickets" and rule.pattern == "坐席工单_{date}.tsv"
    assert rule.reader.delimiter == "\t" and "# encoding detected: utf-8" in text
    assert {
        h: rule.column_for(h) for h in ["工单号", "创建时间", "首次响应时间", "完成时间", "类型", "状态", "片区"]
    } == {
        "工单号": "ticket_id",
        "创建时间": "opened_at",
        "首次响应时间": "first_reply_at",
        "完成时间": "resolved_at",
        "类型": "ticket_type",
        "状态": "status",
        "片区": "district_id",
    }
    assert rule.column_for("坐席备注") is None
    assert "%Y-%m-%d %H:%M:%S" in rule.timestamp_formats
    # 投诉 / 处理中 are contract labels (no line); 咨 询 and 已办结 are proposed; 乱七八糟 is left to the reader
    assert rule.resolve_value("ticket_type", "咨 询") == "consultation"
    assert rule.resolve_value("status", "已办结") == "closed"
    assert rule.resolve_value("ticket_type", "乱七八糟") is None
    assert '# "乱七八糟": ?   # could not decide' in text
    for col in ("product", "customer_tier", "updated_at", "reopen_count"):
        assert f"#   {col}: ?" in text  # required and absent: a constant to decide


def test_suggest_edit_check_shows_rows_quarantine_and_which_rules_are_measurable(export, tmp_path, capsys):
    m = tmp_path / "m.yml"
    m.write_text(mapping_tools.suggest(export) + EDIT, encoding="utf-8")
    res = mapping_tools.check(export, m)
    assert (res.status, res.entity, res.rows_read, res.rows_loaded, res.rows_quarantined) == (
        "loaded",
        "tickets",
        3,
        2,
        1,
    )
    assert [q[:3] for q in res.quarantined] == [(4, "ticket_type", "bad_enum")]
    assert "'乱七八糟'" in res.quarantined[0][3]
    # T9 (24-hour reply) reads ticket_id, opened_at, first_reply_at, district_id: all present
    assert res.measures["T9"] == (True, "")
    ok, why = res.measures["T1"]
    assert not ok and "tickets.severity" in why and "tickets.formalities_complete_at" in why and "故障等级" in why
    # the CLI prints the same, in Chinese and English, and exits 0
    assert cli.main(["mapping", "check", str(export), "--mapping", str(m)]) == 0
    shown = capsys.readouterr().out
    assert "would load 2" in shown and "可入库 2 行" in shown
    assert "T9       yes / 可计算" in shown and "T1       no / 不可计算" in shown
    assert export.exists()  # a dry run: the file stays where it is


def test_check_of_a_file_the_mapping_cannot_load_says_why_and_exits_1(export, tmp_path, capsys):
    m = tmp_path / "m.yml"
    # the opened time is an identity column: without it a ticket means nothing, the file is refused
    m.write_text(mapping_tools.suggest(export).replace('      "创建时间": opened_at\n', ""), encoding="utf-8")
    assert cli.main(["mapping", "check", str(export), "--mapping", str(m)]) == 1
    shown = capsys.readouterr().out
    assert "rejected" in shown and "identity column(s) missing for tickets: opened_at" in shown


def test_an_unedited_suggestion_loads_and_names_what_is_not_measurable(export, tmp_path):
    m = tmp_path / "m.yml"
    m.write_text(mapping_tools.suggest(export), encoding="utf-8")  # product, customer … absent: rule inputs
    res = mapping_tools.check(export, m)
    assert (res.status, res.rows_read, res.rows_loaded + res.rows_quarantined) == ("loaded", 3, 3)
    assert res.measures["T9"][0] is True
    assert res.measures["T1"] == (False, res.measures["T1"][1]) and "tickets.product" in res.measures["T1"][1]


def test_suggest_writes_a_file_and_finds_a_date_and_time_split(tmp_path):
    p = tmp_path / "complaints.tsv"
    p.write_text(
        "Ref\tDate\tTime\tCategory\n1\t13/03/2026\t3.53.50 PM\tComplaint\n2\t05/03/2026\t9.01.00 AM\tRepair\n",
        encoding="utf-8",
    )
    out = tmp_path / "m.yml"
    assert cli.main(["mapping", "suggest", str(p), "--out", str(out)]) == 0
    rule = mapping.load_file(out)[0]
    d = rule.derived["opened_at"]
    assert d.kind == "date_time" and d.headers == ("Date", "Time")
    assert "%d/%m/%Y %I.%M.%S %p" in d.formats and not any("%m/%d" in f for f in d.formats)  # 13/03: day first
    assert rule.resolve_value("ticket_type", "Repair") == "fault"


def test_check_words_which_measures_the_columns_make_measurable_and_at_which_grain():
    from ingest.mapping_tools import measures_of

    got = measures_of("tickets", {"ticket_id", "ticket_type", "opened_at", "first_reply_at"})
    assert got["T9"] == (True, "district grain not measurable: tickets.district_id missing / 无数据：缺少 所属片区")
    # T8 reads tickets.source_call_id, opened_at, district_id and calls: source_call_id is missing here
    assert got["T8"] == (False, "not measurable: tickets.source_call_id missing / 无数据：缺少 来电流水号")
    assert "H1" not in got  # a measure that reads no ticket column is not this source's business
    every = {
        c.split(".")[1]
        for m in rulebook.load().values()
        for c in (*m.reads, *m.optional_reads)
        if c.startswith("tickets.")
    }
    assert all(ok and not why for ok, why in measures_of("tickets", every).values())
    # an optional column missing (D-119): still measurable, and the check says how it is computed
    assert measures_of("tickets", every - {"complaint_validity"})["A2"] == (
        True,
        "note: tickets.complaint_validity missing: every complaint counts as valid (有效投诉未导出,全部投诉计入)",
    )


def test_suggest_on_a_workbook_with_a_title_block_names_the_sheet_and_the_header_row(tmp_path):
    import xlsxwriter

    p = tmp_path / "片区清单.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("清单")
    for i, row in enumerate(
        [
            ["某市广电片区清单"],
            [],
            ["片区代码", "名称", "城乡"],
            ["D1", "城东", "城市"],
            ["D2", "桥头", "农村"],
            ["合计", 2],
        ]
    ):
        ws.write_row(i, 0, row)
    wb.close()
    out = tmp_path / "m.yml"
    out.write_text(mapping_tools.suggest(p), encoding="utf-8")
    rule = mapping.load_file(out)[0]
    assert rule.entity == "districts"
    assert rule.reader.sheets == ("清单",) and rule.reader.header_row == 3
    assert rule.column_for("片区代码") == "district_id" and rule.column_for("城乡") == "area_type"
    assert (rule.resolve_value("area_type", "城市"), rule.resolve_value("area_type", "农村")) == ("urban", "rural")
    res = mapping_tools.check(p, out)
    assert (res.status, res.rows_read, res.rows_loaded) == ("loaded", 2, 2), res


def test_suggest_on_a_gbk_semicolon_call_export_proposes_an_hms_duration(tmp_path):
    p = tmp_path / "calls_20260305.csv"
    p.write_bytes(
        (
            "话务详单\n流水号;主叫号码;呼入时间;挂机时间;通话时长;是否放弃\n"
            "C1;13800000001;2026/3/5 08:00:00;2026/3/5 08:05:00;0:05:00;否\n合计;1;;;;\n"
        ).encode("gbk")
    )
    text = mapping_tools.suggest(p)
    out = tmp_path / "m.yml"
    out.write_text(text, encoding="utf-8")
    rule = mapping.load_file(out)[0]
    assert rule.entity == "calls" and rule.reader.delimiter == ";" and rule.reader.header_row == 2
    assert "# encoding detected: gb18030" in text
    assert rule.derived["talk_seconds"].kind == "duration" and rule.derived["talk_seconds"].unit == "hms"
    assert "%Y/%m/%d %H:%M:%S" in rule.timestamp_formats
