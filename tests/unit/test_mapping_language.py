"""The mapping language (issue 17 item 1): every feature on a small export written here by hand.

Each test writes an export the way some real system writes it (tabs, semicolons, a title block,
a 合计 footer, date and time in two columns, 12-hour `3.53.50 PM` times, day-first dates, Excel
serials, Unix epochs, durations, a district code in the file name, free-text types), a mapping
for it, loads it with `kefu ingest`, and compares the raw table with values worked out by hand.
"""

from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from ingest import config, mapping
from ingest.loader import ingest

DAY = "2026-03-05"


def _setup(tmp_path: Path, mapping_yaml: str, files: dict[str, bytes | str]) -> tuple[Path, Path, config.IngestConfig]:
    maps = tmp_path / "mappings"
    maps.mkdir()
    (maps / "m.yml").write_text(textwrap.dedent(mapping_yaml), encoding="utf-8")
    cfg_file = tmp_path / "ingest.yml"
    cfg_file.write_text("mappings: [mappings]\n", encoding="utf-8")
    day = tmp_path / "landing" / DAY
    day.mkdir(parents=True)
    for name, data in files.items():
        (day / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return tmp_path / "landing", tmp_path / "w.duckdb", config.load(cfg_file, demo_key=True)


def _load(tmp_path, mapping_yaml, files):
    landing, wh, cfg = _setup(tmp_path, mapping_yaml, files)
    summary = ingest(landing, wh, cfg, progress=False)
    return summary, wh


def _q(wh: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _reconciles(wh: Path) -> None:
    for name, read, loaded, bad in _q(
        wh, "SELECT file_name, rows_read, rows_loaded, rows_quarantined FROM audit.load_log WHERE status = 'loaded'"
    ):
        assert read == loaded + bad, name
        assert (
            bad == _q(wh, f"SELECT count(DISTINCT row_number) FROM audit.quarantine WHERE file_name = '{name}'")[0][0]
        )


COMPLAINTS_TSV = (
    "投诉明细表（2026年3月）\n"  # title block: 2 lines above the header
    "导出时间\t2026-03-06\n"
    "Ref\tDate\tTime\tCategory\tState\tRemark\n"
    "K-1\t05/03/2026\t3.53.50 PM\t宽带投诉\t已办结\tslow\n"  # contains 投诉 -> complaint
    "K-2\t05/03/2026\t9.05.00 AM\tＦＡＵＬＴ\tOpen\t\n"  # full-width FAULT -> fault (NFKC + case)
    "K-3\t12/03/2026\t12.00.01 AM\tsomething else\t已 办 结\t\n"  # unlisted -> default complaint; 已 办 结 -> closed
    "K-4\t31/02/2026\t1.00.00 PM\t咨询\tOpen\t\n"  # no 31 February: quarantined
    "合计\t4\t\t\t\t\n"  # footer: dropped
    "共 4 条\n"
)

COMPLAINTS_MAPPING = """\
    name: tsv_complaints
    files:
      - pattern: "complaints_*_{date}.tsv"
        entity: tickets
        reader: {skip_rows: 2}           # delimiter sniffed (tab)
        headers: {Ref: ticket_id, Remark: related_ticket_id, Category: ticket_type, State: status}
        constants: {product: broadband, customer_tier: ordinary, customer_kind: individual, area_type: urban,
                    channel: hotline, reopen_count: 0}
        derive:
          opened_at: {date: Date, time: Time, date_formats: [dd/MM/yyyy], time_formats: ["%I.%M.%S %p"]}
          updated_at: {date: Date, time: Time, date_formats: ["%d/%m/%Y"], time_formats: ["%I.%M.%S %p"]}
          district_id: {file_name: "complaints_(D\\\\d+)_"}
          customer_id: {header: Ref}
        values:
          ticket_type:
            normalise: [case, spaces, width]
            map: {fault: fault}
            match: [{contains: 投诉, value: complaint}, {regex: "^咨询", value: consultation}]
            default: complaint
          status:
            normalise: [case, spaces]
            map: {已办结: closed, open: open}
    """


def test_a_tsv_with_title_block_date_time_columns_and_footer_loads_through_a_mapping_alone(tmp_path):
    s, wh = _load(tmp_path, COMPLAINTS_MAPPING, {f"complaints_D07_{DAY}.tsv": COMPLAINTS_TSV})
    assert s.count("loaded") == 1, s
    rows = _q(
        wh,
        "SELECT ticket_id, ticket_type, status, opened_at, updated_at, district_id, customer_id, product, "
        "customer_tier, reopen_count, related_ticket_id FROM raw.tickets ORDER BY ticket_id",
    )
    assert rows == [
        (
            "K-1",
            "complaint",
            "closed",
            datetime(2026, 3, 5, 15, 53, 50),
            datetime(2026, 3, 5, 15, 53, 50),
            "D07",
            "K-1",
            "broadband",
            "ordinary",
            0,
            "slow",
        ),
        (
            "K-2",
            "fault",
            "open",
            datetime(2026, 3, 5, 9, 5),
            datetime(2026, 3, 5, 9, 5),
            "D07",
            "K-2",
            "broadband",
            "ordinary",
            0,
            None,
        ),
        (
            "K-3",
            "complaint",
            "closed",
            datetime(2026, 3, 12, 0, 0, 1),
            datetime(2026, 3, 12, 0, 0, 1),
            "D07",
            "K-3",
            "broadband",
            "ordinary",
            0,
            None,
        ),
    ]
    # 4 data rows read (title and footer lines are not rows): 3 loaded, K-4 quarantined with its reason
    assert _q(wh, "SELECT rows_read, rows_loaded, rows_quarantined, message FROM audit.load_log")[0][:3] == (4, 3, 1)
    msg = _q(wh, "SELECT message FROM audit.load_log")[0][0]
    assert "delimiter sniffed" in msg and "dropped 2 footer line(s)" in msg
    q = _q(wh, "SELECT row_number, column_name, reason, message FROM audit.quarantine ORDER BY ALL")
    assert [r[:3] for r in q] == [(7, "opened_at", "bad_timestamp"), (7, "updated_at", "bad_timestamp")]
    assert "Date + Time" in q[0][3] and "31/02/2026 1.00.00 PM" in q[0][3] and "%d/%m/%Y %I.%M.%S %p" in q[0][3]
    _reconciles(wh)


SEMICOLON_CALLS = (
    "Id;Phone;Start;Queued;End;Talk;Wait min;Dropped\r\n"
    # epoch 1772697600 = 2026-03-05 08:00:00 UTC = 16:00:00 Asia/Shanghai
    # Excel serial 46086.6875 = 46086 days after 1899-12-30 = 2026-03-05, + 0.6875 day (59,400 s) = 16:30
    "1;13800000001;1772697600;46086.6875;20260305163930;0:09:30;1.5;N\r\n"
    '2;"13800000002";1772701200;;20260305181000;"1:00:00";0;N\r\n'
    "3;13800000003;1772704800;;20260305180000;9:99:00;;Y\r\n"  # 99 minutes: not a duration
)

CALLS_MAPPING = """\
    files:
      - pattern: "calls_{date}.txt"
        entity: calls
        reader: {delimiter: semicolon}
        booleans: {true: ["Y"], false: ["N"]}
        headers: {Id: call_id, Phone: caller_phone, Dropped: abandoned}
        constants: {customer_tier: ordinary, queue: 普通队列, call_type: consultation, human_requested: "是",
                    transfer_type: none}
        derive:
          arrived_at: {header: Start, formats: [epoch_seconds]}
          queued_at: {header: Queued, formats: ["%Y-%m-%d %H:%M:%S"]}   # Excel serials are always accepted
          ended_at: {header: End, formats: [yyyyMMddHHmmss]}
          talk_seconds: {duration: Talk, unit: hms}
    """


def test_semicolons_epochs_excel_serials_compact_stamps_and_hms_durations(tmp_path):
    s, wh = _load(tmp_path, CALLS_MAPPING, {f"calls_{DAY}.txt": SEMICOLON_CALLS})
    assert s.count("loaded") == 1, s
    rows = _q(
        wh,
        "SELECT call_id, arrived_at, queued_at, ended_at, talk_seconds, abandoned, queue, call_type "
        "FROM raw.calls ORDER BY call_id",
    )
    assert rows == [
        (
            "1",
            datetime(2026, 3, 5, 16, 0),
            datetime(2026, 3, 5, 16, 30),
            datetime(2026, 3, 5, 16, 39, 30),
            9 * 60 + 30,
            False,
            "ordinary",
            "consultation",
        ),
        ("2", datetime(2026, 3, 5, 17, 0), None, datetime(2026, 3, 5, 18, 10), 3600, False, "ordinary", "consultation"),
    ]
    q = _q(wh, "SELECT row_number, column_name, reason, message FROM audit.quarantine")
    assert [r[:3] for r in q] == [(4, "talk_seconds", "bad_number")]
    assert "a duration h:mm:ss" in q[0][3] and "'9:99:00'" in q[0][3]
    _reconciles(wh)


@pytest.mark.parametrize(
    "unit,cells,expected", [("minutes", ["2.5", "7"], [150, 420]), ("seconds", ["150", "7.4"], [150, 7])]
)
def test_a_duration_in_minutes_or_seconds(tmp_path, unit, cells, expected):
    text = "Id;Phone;Start;End;Talk;Dropped\n" + "".join(
        f"{i};1380000000{i};1772697600;20260305161000;{c};N\n" for i, c in enumerate(cells, start=1)
    )
    m = CALLS_MAPPING.replace("unit: hms", f"unit: {unit}").replace("queued_at: {header: Queued", "# {")
    s, wh = _load(tmp_path, m, {f"calls_{DAY}.txt": text})
    assert s.count("loaded") == 1, s
    assert [r[0] for r in _q(wh, "SELECT talk_seconds FROM raw.calls ORDER BY call_id")] == expected


def test_day_first_dates_written_dd_mm_yyyy(tmp_path):
    text = "区号,名称,类型,开通\nD1,城东,城区,05-03-2026\n"
    m = """\
        files:
          - pattern: "areas_{date}.csv"
            entity: districts
            headers: {区号: district_id, 名称: district_name, 类型: area_type}
        """
    s, wh = _load(tmp_path, m, {f"areas_{DAY}.csv": text})
    assert s.count("loaded") == 1
    assert mapping.strptime_format("dd-mm-yyyy") == "%d-%m-%Y"
    assert mapping.strptime_format("yyyyMMddHHmmss") == "%Y%m%d%H%M%S"
    assert mapping.strptime_format("dd/MM/yyyy hh:mm:ss a") == "%d/%m/%Y %I:%M:%S %p"
    assert _q(wh, "SELECT district_id, district_name, area_type FROM raw.districts") == [("D1", "城东", "urban")]
    assert "ignored extra column(s) not in the contract: 开通" in _q(wh, "SELECT message FROM audit.load_log")[0][0]


def test_pipe_delimiter_quote_escape_and_an_encoding_override(tmp_path):
    # GBK bytes the mapping declares (the detector would also find them; the declaration wins)
    text = "片区编号|片区名称|区域类型\nD1|'城东|老城'|城区\nD2|'王\\'s'|镇乡\n"
    m = """\
        files:
          - pattern: "片区_{date}.csv"
            entity: districts
            reader: {delimiter: pipe, quote: "'", escape: "\\\\", encoding: gbk}
        """
    s, wh = _load(tmp_path, m, {f"片区_{DAY}.csv": text.encode("gbk")})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, district_name, area_type FROM raw.districts ORDER BY 1") == [
        ("D1", "城东|老城", "urban"),
        ("D2", "王's", "rural"),
    ]
    assert _q(wh, "SELECT encoding FROM audit.load_log") == [("gb18030",)]


def test_header_row_is_taken_as_declared(tmp_path):
    # line 2 looks like a header too (it names contract columns); the mapping says the header is line 3
    text = "district_id,district_name,area_type\n片区编号,片区名称,区域类型\nid,name,kind\nD1,城东,城区\n"
    m = """\
        files:
          - pattern: "d_{date}.csv"
            entity: districts
            reader: {header_row: 3}
            headers: {id: district_id, name: district_name, kind: area_type}
        """
    s, wh = _load(tmp_path, m, {f"d_{DAY}.csv": text})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, _row_number FROM raw.districts") == [("D1", 4)]


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> bytes:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, r in enumerate(rows):
            ws.write_row(i, 0, r)
    wb.close()
    return path.read_bytes()


def test_xlsx_title_block_footer_sheet_by_name_and_several_sheets(tmp_path):
    head = ["片区编号", "片区名称", "区域类型"]
    book = _xlsx(
        tmp_path / "b.xlsx",
        {
            "说明": [["本表为片区清单"]],
            "城区": [["片区清单（城区）"], [], head, ["D1", "城东", "城区"], ["D2", "城西", "城区"], ["合计", 2]],
            "镇乡": [head, ["D3", "桥头", "镇乡"], ["D4", "桥尾", "海边"], [], ["总计", 1]],
        },
    )
    one = """\
        files:
          - pattern: "片区_{date}.xlsx"
            entity: districts
            reader: {sheet: 城区}
        """
    (tmp_path / "one").mkdir()
    s, wh = _load(tmp_path / "one", one, {f"片区_{DAY}.xlsx": book})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, _row_number FROM raw.districts ORDER BY 1") == [("D1", 4), ("D2", 5)]
    assert "dropped 1 footer row(s)" in _q(wh, "SELECT message FROM audit.load_log")[0][0]
    both = one.replace("{sheet: 城区}", "{sheets: [2, 镇乡]}")
    (tmp_path / "both").mkdir()
    s, wh = _load(tmp_path / "both", both, {f"片区_{DAY}.xlsx": book})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, area_type, _row_number FROM raw.districts ORDER BY 1") == [
        ("D1", "urban", 4),
        ("D2", "urban", 5),
        ("D3", "rural", 2),
    ]
    assert _q(wh, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_log") == [(4, 3, 1)]
    q = _q(wh, "SELECT row_number, column_name, reason, message FROM audit.quarantine")
    assert [r[:3] for r in q] == [(3, "area_type", "bad_enum")]
    assert f"片区_{DAY}.xlsx sheet 镇乡 row 3, column area_type" in q[0][3]  # rows of several sheets name the sheet


# --- a mapping is configuration, not a program ------------------------------------------------------------


def _refused(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.yml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(mapping.MappingError, match=match) as e:
        mapping.load([p])
    assert str(p) in str(e.value)


def test_a_python_object_yaml_tag_is_refused(tmp_path):
    marker = tmp_path / "ran"
    _refused(
        tmp_path,
        f"""\
        files:
          - pattern: "x_{{date}}.csv"
            entity: districts
            constants: {{district_name: !!python/object/apply:os.system ["touch {marker}"]}}
        """,
        "YAML tags such as !!python/object are not allowed",
    )
    assert not marker.exists()


def test_sql_in_a_mapping_is_refused_or_kept_as_plain_text(tmp_path):
    # no key of the language takes SQL: a `sql:` / `expression:` key is an unknown key
    _refused(
        tmp_path,
        """\
        files:
          - pattern: "x_{date}.csv"
            entity: districts
            derive: {district_name: {sql: "(SELECT string_agg(column0, ',') FROM read_csv('/etc/passwd'))"}}
        """,
        r"unknown key\(s\) sql",
    )
    # a constant is a value, quoted into SQL as a literal: the text is stored, no file is read
    evil = "x'); SELECT * FROM read_csv('/etc/passwd'); --"
    _s, wh = _load(
        tmp_path,
        f"""\
        files:
          - pattern: "d_{{date}}.csv"
            entity: districts
            constants: {{district_name: "{evil.replace('"', "")}"}}
        """,
        {f"d_{DAY}.csv": "片区编号,区域类型\nD1,城区\n"},
    )
    assert _q(wh, "SELECT district_name FROM raw.districts") == [(evil,)]


@pytest.mark.parametrize(
    "entry,match",
    [
        ('pattern: "../../etc/passwd"', "cannot hold a folder"),
        ('pattern: "/etc/*.csv"', "cannot hold a folder"),
        ('pattern: "x.xlsx"\n    reader: {sheet: "../../etc/passwd"}', "a sheet name cannot hold a path"),
        ('pattern: "x.csv"\n    reader: {delimiter: "ab"}', "expected one character or one of comma, tab"),
        ('pattern: "x.csv"\n    reader: {encoding: utf-16}', "encoding: expected one of"),
        ('pattern: "x.csv"\n    reader: {header_row: 0}', "header_row: expected a whole number ≥ 1"),
        ('pattern: "x.csv"\n    reader: {footer: ["(unclosed"]}', "not a valid regular expression"),
        ('pattern: "x.csv"\n    constants: {colour: red}', r"constants: unknown key\(s\) colour"),
        ('pattern: "x.csv"\n    constants: {area_type: 海边}', "'海边' is not a value of area_type"),
        (
            'pattern: "x.csv"\n    values: {area_type: {default: seaside}}',
            "default: maps to 'seaside', allowed: urban, rural",
        ),
        ('pattern: "x.csv"\n    derive: {district_name: {duration: Talk}}', "a duration gives seconds"),
        ('pattern: "x.csv"\n    derive: {district_id: {file_name: "D\\\\d+"}}', "needs a group"),
        ('pattern: "x.csv"\n    sheeet: 1', r"unknown key\(s\) sheeet"),
    ],
)
def test_malformed_mappings_are_refused_naming_file_key_and_what_was_expected(tmp_path, entry, match):
    _refused(tmp_path, "files:\n  - entity: districts\n    " + entry + "\n", match)


def test_shipped_mappings_still_load_and_parse_unchanged():
    rules = mapping.load().rules
    gen = [r for r in rules if r.mapping == "kefu_generator"]
    assert all(not r.derived and not r.value_maps and r.reader == mapping.ReaderOptions() for r in gen)
    assert date(2026, 3, 5) == gen[0].export_date(Path("片区清单_20260305.xlsx"))


def test_a_two_row_header_under_a_title_block_with_a_footer(tmp_path):
    """A call-centre workbook: title, group cells merged across two columns, the columns' own names
    below them, a 合计 row. Cells are named "upper/lower"; the lower part alone still finds the contract."""
    book = _xlsx(
        tmp_path / "b.xlsx",
        {
            "Sheet1": [
                ["片区清单"],
                ["片区编号", "片区信息", "", "备注"],
                ["", "片区名称", "区域类型", ""],
                ["D1", "城东", "城区", "x"],
                ["D2", "桥头", "镇乡", ""],
                ["合计", "2", "", ""],
            ]
        },
    )
    m = """\
        files:
          - pattern: "片区_{date}.xlsx"
            entity: districts
            reader: {header_rows: 2}
        """
    (tmp_path / "x").mkdir()
    s, wh = _load(tmp_path / "x", m, {f"片区_{DAY}.xlsx": book})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, district_name, area_type, _row_number FROM raw.districts ORDER BY 1") == [
        ("D1", "城东", "urban", 4),
        ("D2", "桥头", "rural", 5),
    ]
    assert _q(wh, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_log") == [(2, 2, 0)]
    # the same shape as CSV, with the group cell's merge written as an empty cell
    text = "片区清单\n片区编号,片区信息,,备注\n,片区名称,区域类型,\nD1,城东,城区,x\nD2,桥头,镇乡,\n合计,2,,\n"
    (tmp_path / "y").mkdir()
    s, wh = _load(tmp_path / "y", m.replace(".xlsx", ".csv"), {f"片区_{DAY}.csv": text})
    assert s.count("loaded") == 1, s
    assert _q(wh, "SELECT district_id, district_name, area_type, _row_number FROM raw.districts ORDER BY 1") == [
        ("D1", "城东", "urban", 4),
        ("D2", "桥头", "rural", 5),
    ]
    from ingest.readers import two_row_header

    assert two_row_header(["工单编号", "受理信息", "", "状态"], [None, "受理时间", "受理渠道", None]) == [
        "工单编号",
        "受理信息/受理时间",
        "受理信息/受理渠道",
        "状态",
    ]


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_the_delimiter_is_sniffed_under_a_title_block(delimiter):
    from ingest.readers import sniff_delimiter

    rows = [
        ["工单编号", "受理时间", "工单内容"],
        ["G1", "2026-03-05 08:00", "没有信号"],
        ["G2", "2026-03-05 09:00", "网速慢"],
    ]
    lines = ["投诉工单导出"] + [delimiter.join(r) for r in rows]
    assert sniff_delimiter(lines) == delimiter
