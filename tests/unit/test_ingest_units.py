"""Ingest building blocks: PII hashing/masking, encoding detection, mappings, configuration."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb
import pytest

from ingest import config, encoding, mapping, pii

SAMPLES = {
    "phone": ["13812345678", " 13912345678 ", "057188886666", "12345"],
    "name": ["张三", "欧阳小明", "王"],
    "id_number": ["110101199001011234", "11010119900101123X"],
    "address": [
        "杭州市西湖区文三路100号3栋",
        "某某县城关镇1号",
        "江州市江桥胜利路128号萍花园25栋1单元603室",
        "胜利路1号",
    ],
    "free_text": [
        "龙怡(13212346728)申请新装宽带,地址:江州市江桥胜利路128号萍花园25栋1单元603室",
        "身份证110101199001011234 电话 13812345678 座机 057188886666",
        "no digits here",
    ],
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_sql_masks_and_hmac_equal_the_python_reference(kind):
    con = duckdb.connect()
    key = b"0123456789abcdef-test-key"
    for value in SAMPLES[kind]:
        masked, hashed = con.execute(
            f"SELECT {pii.mask_sql('$1', kind)}, {pii.hmac_sql('$1', key)}", [value]
        ).fetchone()
        assert masked == pii.mask(value, kind)
        assert hashed == hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()


def test_masks_keep_only_the_allowed_part():
    assert pii.mask("13812341234", "phone") == "138****1234"
    assert pii.mask("张三", "name") == "张*"
    assert pii.mask("110101199001011234", "id_number") == "1101**********1234"
    assert pii.mask("杭州市西湖区文三路100号", "address") == "杭州市西湖区****"
    text = pii.mask("龙怡(13212346728)申请新装宽带,地址:江州市江桥胜利路128号", "free_text")
    assert "13212346728" not in text and "龙怡" not in text and "胜利路" not in text


def test_hmac_of_a_long_key_follows_rfc2104():
    key = b"k" * 100
    sql = duckdb.connect().execute(f"SELECT {pii.hmac_sql('$1', key)}", ["abc"]).fetchone()[0]
    assert sql == hmac.new(key, b"abc", hashlib.sha256).hexdigest()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


TEXT = "流水号,主叫号码\r\nA1,13800000000\r\n"


@pytest.mark.parametrize(
    "enc,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")]
)
def test_encoding_is_detected_from_the_bytes_not_the_name(tmp_path, enc, expected):
    p = _write(tmp_path, "misleading_utf8_name.csv", TEXT.encode(enc))
    det = encoding.detect(p)
    assert det.encoding == expected
    assert det.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()


def test_utf16_and_undecodable_bytes_are_refused(tmp_path):
    assert encoding.detect(_write(tmp_path, "a.csv", TEXT.encode("utf-16-le"))).encoding is None
    assert encoding.detect(_write(tmp_path, "b.csv", TEXT.encode("utf-16"))).encoding is None
    bad = _write(tmp_path, "c.csv", b"A,B\r\n" + b"\x81\x20" * 10)
    det = encoding.detect(bad)
    assert det.encoding == "gb18030"  # only a candidate: the strict transcode must fail
    with pytest.raises(encoding.EncodingError):
        encoding.transcode(bad, "gb18030", tmp_path / "out.csv")


def test_gbk_transcodes_to_identical_utf8_text(tmp_path):
    src = _write(tmp_path, "g.csv", (TEXT * 1000).encode("gbk"))
    encoding.transcode(src, "gb18030", tmp_path / "u.csv")
    assert (tmp_path / "u.csv").read_bytes().decode("utf-8") == TEXT * 1000


def test_file_name_patterns_capture_the_export_date():
    rx = mapping.glob_to_regex("话务详单_{date}*.csv")
    assert rx.fullmatch("话务详单_20260305.csv").group("date") == "20260305"
    assert rx.fullmatch("话务详单_20260305_补传.csv")
    assert not rx.fullmatch("话务详单_20260305.xlsx")


def test_every_generator_entity_has_exactly_one_rule_in_the_shipped_mappings():
    from generator.formats import FORMATS

    rules = mapping.load()
    for entity, fmt in FORMATS.items():
        matches = rules.by_name(Path(fmt.file_name("20260305")))
        assert [r.entity for r in matches] == [entity]


def test_a_mapping_naming_an_unknown_column_is_refused(tmp_path):
    p = tmp_path / "bad.yml"
    p.write_text(
        "files:\n  - {pattern: 'x_{date}.csv', entity: calls, headers: {Foo: not_a_column}}\n", encoding="utf-8"
    )
    with pytest.raises(mapping.MappingError, match="not_a_column"):
        mapping.load([tmp_path])


def test_ingest_refuses_to_run_without_a_pii_key(monkeypatch):
    monkeypatch.delenv(config.ENV_KEY, raising=False)
    with pytest.raises(config.ConfigError, match="KEFU_PII_KEY"):
        config.load(None)
    assert config.load(None, demo_key=True).pii_key == pii.DEMO_KEY
    monkeypatch.setenv(config.ENV_KEY, "a-real-secret-key-0123456789")
    assert config.load(None).pii_key == b"a-real-secret-key-0123456789"


def test_cli_without_a_key_exits_with_a_message(tmp_path, monkeypatch, capsys):
    from kefu.cli import main

    monkeypatch.delenv(config.ENV_KEY, raising=False)
    (tmp_path / "landing").mkdir()
    rc = main(["ingest", "--landing", str(tmp_path / "landing"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert rc == 2
    assert "KEFU_PII_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_sql_hmac_and_mask_of_already_trimmed_values_equal_the_python_reference(kind):
    """The load path hashes the trimmed typed value without a second trim: same result as Python's hmac."""
    con = duckdb.connect()
    key = b"0123456789abcdef-test-key"
    for value in SAMPLES[kind]:
        v = value.strip()
        masked, hashed = con.execute(
            f"SELECT {pii.mask_sql('$1', kind, trimmed=True)}, {pii.hmac_sql('$1', key, trimmed=True)}", [v]
        ).fetchone()
        assert masked == pii.mask(value, kind)
        assert hashed == hmac.new(key, v.encode(), hashlib.sha256).hexdigest()


def test_fast_bad_row_flag_agrees_with_the_reason_texts_row_for_row():
    """The one-pass load keeps rows with `_bad` false; the quarantine pass lists `_errors`: same rows."""
    from ingest import transform
    from kefu import contract

    rule = mapping.load([mapping.MAPPINGS_DIR]).by_name(Path("话务详单_20260302.csv"))[0]
    cols = contract.entity("calls").columns
    header = [c.zh for c in cols]
    good = {c.name: "" for c in cols} | {
        "call_id": "C1",
        "caller_phone": "13800000000",
        "customer_tier": "普通",
        "queue": "普通队列",
        "call_type": "咨询",
        "arrived_at": "2026/3/2 08:00:00",
        "human_requested": "是",
        "queued_at": "2026/3/2 08:01:00",
        "answered_at": "2026/3/2 08:02:00",
        "ended_at": "2026/3/2 08:09:00",
        "talk_seconds": "420",
        "abandoned": "否",
        "transfer_type": "无",
    }
    rows = [
        good,
        good | {"call_id": "C2", "arrived_at": "03/05/2026 08:00"},  # ambiguous date
        good | {"call_id": "C3", "talk_seconds": "-5"},  # negative duration
        good | {"call_id": "C4", "queue": "VIP?"},  # bad enum
        good | {"call_id": "C5", "ended_at": "2026/3/2 07:00:00"},  # end before start
        good | {"call_id": "C1"},  # duplicate key
        good | {"call_id": "C7", "abandoned": ""},  # missing value
        good | {"call_id": " C8 ", "talk_seconds": " 60 "},
    ]  # spaces: good
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE stg (" + ", ".join(f"c{i} VARCHAR" for i in range(len(cols))) + ")")
    con.executemany(
        f"INSERT INTO stg VALUES ({', '.join('?' for _ in cols)})", [[r[c.name] or None for c in cols] for r in rows]
    )
    plan = transform.Plan(
        rule, {c.name: i for i, c in enumerate(cols)}, len(header), False, 2, [], {}, b"k" * 16, 1, "f.csv", header
    )
    fast = dict(con.execute(f"SELECT _rowid, _bad FROM ({transform.check_query(plan, reasons=False)})").fetchall())
    full = dict(con.execute(f"SELECT _rowid, _errors FROM ({transform.check_query(plan)})").fetchall())
    assert {r: bool(e) for r, e in full.items()} == fast
    assert [fast[i] for i in range(len(rows))] == [False, True, True, True, True, True, True, False]


def test_a_warehouse_file_named_like_a_schema_is_refused_with_a_clear_message(tmp_path):
    from ingest import config
    from ingest.loader import ingest

    (tmp_path / "landing").mkdir()
    with pytest.raises(config.ConfigError, match="also a schema"):
        ingest(
            landing=tmp_path / "landing",
            warehouse_file=tmp_path / "raw.duckdb",
            cfg=config.load(None, demo_key=True),
            progress=False,
        )


def test_xlsx_rows_keep_excel_row_numbers_when_the_sheet_starts_below_and_right_of_a1(tmp_path):
    """calamine drops the empty area above and left of the first cell; `_row` must still be the
    row a person sees in Excel, and the columns must still line up with the header."""
    import csv
    from datetime import datetime

    import xlsxwriter

    from generator.formats import FORMATS
    from ingest import readers
    from kefu import contract

    path = tmp_path / FORMATS["callbacks"].file_name("20260305")
    header = [c.zh for c in contract.entity("callbacks").columns]
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.write_row(3, 2, header)  # header on Excel row 4, from column C; rows 1-3 and columns A-B empty
    ws.write_row(4, 2, ["x"] * len(header))
    ws.write_datetime(6, 2, datetime(2026, 3, 5, 8, 21, 13), when)  # row 7; row 6 is blank
    ws.write_datetime(6, 3, datetime(2026, 3, 5), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    det = readers.fingerprint(path)
    p = readers.prepare(path, det, mapping.load(), tmp_path)
    rows = list(csv.reader(p.csv_path.open(encoding="utf-8")))
    assert rows[0] == ["_row", "", "", *header]  # columns A and B stay, empty
    assert [r[0] for r in rows[1:]] == ["5", "7"]
    assert rows[1][1:] == ["", "", *["x"] * len(header)]
    assert rows[2][3] == "2026-03-05 08:21:13" and set(rows[2][5:]) == {""}
    assert rows[2][4] == "2026-03-05 00:00:00"  # a date-only format still means that day's midnight


def test_formats_are_disjoint_only_when_their_literals_differ_and_their_fields_are_digits():
    from ingest import transform

    assert transform.formats_disjoint("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")
    assert transform.formats_disjoint("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M")
    assert transform.formats_disjoint("%Y年%m月%d日 %H时%M分", "%Y年%m月%d日 %H时%M分%S秒")
    assert not transform.formats_disjoint("%d/%m/%Y", "%m/%d/%Y")  # the same literals: 03/05/2026 parses in both
    assert not transform.formats_disjoint("%Y-%m-%d %H:%M", "%Y-%m-%d  %H:%M")  # whitespace is flexible
    assert not transform.formats_disjoint("%d %b %Y", "%Y-%m-%d")  # %b reads letters: not decided
    assert not transform.formats_disjoint("%Y%m%d", "%Y-%m-%d 00:00")  # a digit as a literal: not decided


@pytest.mark.parametrize(
    ("formats", "values", "first"),
    [
        # the values' format fourth in the list: tried first, every value typed as the list types it
        (
            ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H时%M分", "%Y-%m-%d %H:%M:%S"],
            ["2026-03-05 14:03:05", "2026/3/5 14:03", "2026年3月5日 14时03分", "3/5/2026", None, "2026-02-30 10:00:00"],
            "%Y-%m-%d %H:%M:%S",
        ),
        # day and month cannot be told apart: the list's order decides, never the first value
        (["%d/%m/%Y", "%m/%d/%Y"], ["05/13/2026", "03/05/2026", "13/05/2026"], None),
        (["%m/%d/%Y", "%d/%m/%Y"], ["05/13/2026", "03/05/2026"], None),
        # already first: nothing to change
        (["%Y/%m/%d", "%Y-%m-%d"], ["2026/3/5", "2026-03-05"], None),
    ],
)
def test_the_first_value_s_format_is_tried_first_without_changing_any_typed_value(formats, values, first):
    from dataclasses import replace

    from ingest import transform

    rule = mapping.load([mapping.MAPPINGS_DIR]).by_name(Path("营业厅排队_20260302.xlsx"))[0]
    rule = replace(rule, timestamp_formats=tuple(formats))
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE stg (c0 VARCHAR)")
    con.executemany("INSERT INTO stg VALUES (?)", [[v] for v in values])
    sources = {"ticket_taken_at": "nullif(trim(c0), '')"}
    picked = transform.first_formats(con, rule, sources)
    assert picked.get("ticket_taken_at") == first
    col = rule.contract_entity.column("ticket_taken_at")

    def typed(first_formats):
        plan = transform.Plan(
            rule,
            {"ticket_taken_at": 0},
            1,
            False,
            2,
            [],
            {},
            b"k",
            1,
            "f.xlsx",
            ["t"],
            sources,
            first_formats=first_formats,
        )
        return con.execute(f"SELECT {transform.typed_expr(plan, col, sources['ticket_taken_at'])} FROM stg").fetchall()

    assert typed(picked) == typed({})


def test_the_address_mask_of_free_text_equals_the_single_regexp_on_random_text():
    """pii.address_after_label_sql (D-186) against regexp_replace with ADDRESS_AFTER_LABEL itself, on
    text made of the characters the two regexps treat differently; without its guard it differs."""
    import random

    import pandas as pd

    rnd = random.Random(7)
    alphabet = [
        "地址",
        "地址:",
        "地址：",
        ":",
        "：",
        "市",
        "区",
        "县",
        ",",
        "，",
        ";",
        "。",
        " ",
        "\t",
        "*",
        "江",
        "路",
    ]
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) for _ in range(20_000)]
    texts += ["地址:" + "江" * k + "市" + tail for k in range(15, 25) for tail in ("路", ",", "*路", "")]
    con = duckdb.connect()
    df = pd.DataFrame({"s": texts})  # noqa: F841 (scanned by DuckDB)
    con.execute("CREATE TABLE r AS SELECT * FROM df")
    single = f"regexp_replace(s, '{pii.ADDRESS_AFTER_LABEL}', '\\1****', 'g')"
    unguarded = f"regexp_replace(s, '{pii.ADDRESS_UNBOUNDED}', '\\1****', 'g')"
    differ, unguarded_differ = con.execute(
        f"SELECT count(*) FILTER (WHERE {pii.address_after_label_sql('s')} IS DISTINCT FROM {single}), "
        f"count(*) FILTER (WHERE {unguarded} IS DISTINCT FROM {single}) FROM r"
    ).fetchone()
    assert differ == 0
    assert unguarded_differ > 0  # the guard is what makes it exact
