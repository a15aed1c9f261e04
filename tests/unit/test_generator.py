"""`kefu generate`: reproducible bytes, every entity and format of the contract, an answer key that
sees exactly what the files carry, and planted violations that make every measure pass and fail somewhere."""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np
import openpyxl
import pytest

from generator import run as run_module
from generator.formats import EXCEL_EPOCH, FORMATS
from generator.oracle import AnswerKey
from generator.population import _Bits, build_population, id_number
from generator.presets import PRESETS
from kefu import contract, rulebook

SAMPLED = ("tickets", "calls", "callbacks", "ticket_pauses", "outbound", "suspensions")


class RecordingKey(AnswerKey):
    """The real answer key, also keeping the rows it was fed (sampled entities only)."""

    fed: ClassVar[dict[tuple[str, str], list[dict]]] = {}  # shared: the tests read what every instance was fed

    def feed(self, entity: str, row: dict) -> None:
        if entity in SAMPLED:
            RecordingKey.fed.setdefault((entity, self._current_day), []).append(dict(row))
        super().feed(entity, row)

    def end_of_day(self, day: date) -> None:
        super().end_of_day(day)
        self._current_day = (day + timedelta(days=1)).isoformat()

    def __init__(self, start: date, end: date) -> None:
        super().__init__(start, end)
        self._current_day = start.isoformat()


def _generate(out: Path, seed: int, months: int | None, monkeypatch=None) -> None:
    run_module.generate(preset="demo", seed=seed, months=months, out=out, faults=False, progress=False)


def _digests(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def one_month(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen_a")
    RecordingKey.fed = {}
    mp = pytest.MonkeyPatch()
    mp.setattr(run_module, "AnswerKey", RecordingKey)
    try:
        _generate(out, seed=1, months=1)
    finally:
        mp.undo()
    return out


@pytest.fixture(scope="module")
def demo(generated) -> Path:
    return generated(1, PRESETS["demo"].months)  # the session's run, shared with built_demo(1, 3)


def _files(out: Path) -> list[dict]:
    with open(out / "expected" / "files.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------- reproducibility
def test_same_seed_writes_identical_bytes_for_every_file(one_month, generated):
    # the second run: the session's own generate() of seed 1 (tests/conftest.py), a separate run
    first, second = _digests(one_month), _digests(generated(1, 1))
    assert first.keys() == second.keys()
    differing = [f for f in first if first[f] != second[f]]
    assert not differing, f"files differ between two runs with the same seed: {differing[:5]}"


def test_different_seed_writes_different_data(one_month, tmp_path):
    _generate(tmp_path, seed=2, months=1)
    a, b = _digests(one_month), _digests(tmp_path)
    tickets = [f for f in a if "工单明细" in f and f in b]
    assert tickets and any(a[f] != b[f] for f in tickets)
    assert a["expected/kpi_expected.csv"] != b["expected/kpi_expected.csv"]


# ----------------------------------------------------------------------------- entities and formats
def test_every_contract_entity_is_written(one_month):
    written = {r["entity"] for r in _files(one_month) if int(r["rows"]) > 0}
    assert written == set(contract.load()), f"missing: {set(contract.load()) - written}"


def test_files_manifest_matches_the_files_on_disk(one_month):
    for r in _files(one_month):
        path = one_month / r["file"]
        assert path.is_file(), r["file"]
        fmt = FORMATS[r["entity"]]
        assert r["format"] == fmt.ext and r["encoding"] == (fmt.encoding or "")
        if fmt.ext == "csv":
            with open(path, encoding=fmt.encoding, newline="") as fh:
                assert sum(1 for _ in csv.reader(fh)) - 1 == int(r["rows"]), r["file"]


def test_every_encoding_date_style_and_title_variant_is_covered():
    fmts = FORMATS.values()
    assert {f.encoding for f in fmts if f.ext == "csv"} >= {"utf-8-sig", "utf-8", "gbk", "gb18030"}
    assert {f.ts_style for f in fmts} >= {"slash_s", "slash_m", "cn_m", "iso_s", "excel"}
    assert {f.date_style for f in fmts} >= {"slash", "cn", "iso", "excel"}
    xlsx = [f for f in fmts if f.ext == "xlsx"]
    assert any(f.title_row for f in xlsx) and any(not f.title_row for f in xlsx)


def _xlsx_rows(path: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_each_file_header_is_the_contracts_chinese_header_in_its_encoding(one_month):
    seen_entities = set()
    for r in _files(one_month):
        entity, fmt, path = r["entity"], FORMATS[r["entity"]], one_month / r["file"]
        header = [c.zh for c in contract.entity(entity).columns]
        if fmt.ext == "csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == (fmt.encoding == "utf-8-sig"), r["file"]
            with open(path, encoding=fmt.encoding, newline="") as fh:
                assert next(csv.reader(fh)) == header, r["file"]
        elif entity not in seen_entities:  # one workbook per entity keeps the test quick
            rows = _xlsx_rows(path)
            if fmt.title_row:
                assert rows[0][0] == fmt.title_row and all(v is None for v in rows[1])
                rows = rows[2:]
            assert list(rows[0]) == header, r["file"]
        seen_entities.add(entity)


_TS_PATTERNS = {
    "slash_s": (re.compile(r"^\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}:\d{2}$"), "%Y/%m/%d %H:%M:%S"),
    "slash_m": (re.compile(r"^\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}$"), "%Y/%m/%d %H:%M"),
    "cn_m": (re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}时\d{2}分$"), "%Y年%m月%d日 %H时%M分"),
    "iso_s": (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
}


def _parse_ts(value, style: str) -> datetime:
    if style == "excel":
        if isinstance(value, datetime):  # openpyxl converts date-formatted numbers itself
            return value
        return EXCEL_EPOCH + timedelta(days=float(value))
    pattern, fmt = _TS_PATTERNS[style]
    assert pattern.match(value), f"{value!r} is not in style {style}"
    return datetime.strptime(value, fmt)


def test_timestamps_in_the_files_are_exactly_what_the_answer_key_saw(one_month):
    checked = 0
    for (entity, day), fed in RecordingKey.fed.items():
        fmt = FORMATS[entity]
        cols = contract.entity(entity).columns
        path = one_month / "landing" / day / fmt.file_name(day.replace("-", ""))
        if fmt.ext == "csv":
            with open(path, encoding=fmt.encoding, newline="") as fh:
                rows = list(csv.reader(fh))[1:]
        else:
            rows = _xlsx_rows(path)[(3 if fmt.title_row else 1) :]
        assert len(rows) == len(fed), path
        for cells, row in list(zip(rows, fed))[:: max(1, len(fed) // 25)]:
            for j, c in enumerate(cols):
                if c.type != "timestamp":
                    continue
                if row[c.name] is None:
                    assert cells[j] in ("", None), (path, c.name)
                    continue
                got = _parse_ts(cells[j], fmt.ts_style)
                assert abs(got - row[c.name]) < timedelta(milliseconds=5), (path, c.name, cells[j], row[c.name])
                assert row[c.name].microsecond == 0
                if fmt.precision >= timedelta(minutes=1):
                    assert row[c.name].second == 0, (entity, c.name)
                checked += 1
    assert checked > 1000


# ----------------------------------------------------------------------------- population
def test_fake_id_numbers_are_18_digits_with_a_valid_check_digit():
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for k in range(200):
        n = id_number(_Bits(k))
        assert re.fullmatch(r"\d{17}[\dX]", n)
        assert "10X98765432"[sum(int(c) * w for c, w in zip(n, weights)) % 11] == n[-1]


def test_population_is_deterministic_and_has_clean_and_unclean_districts():
    a = build_population(PRESETS["demo"], np.random.default_rng(5), seed=5)
    b = build_population(PRESETS["demo"], np.random.default_rng(5), seed=5)
    assert a.customer_row(123) == b.customer_row(123)
    assert (a.tier == b.tier).all()
    assert (a.district_quality == 0).any() and (a.district_quality > 0).any()
    vip = np.isin(a.tier, list(rulebook.vip_tiers())).mean()
    assert 0.01 < vip < 0.08  # VIPs are a few percent
    moved = {r["technician_id"] for r in a.technicians if r["valid_to"] is not None}
    assert moved, "some technicians change district during the period"


# ----------------------------------------------------------------------------- the answer key
def _answer_key(out: Path) -> list[dict]:
    with open(out / "expected" / "kpi_expected.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _area_types(out: Path) -> dict[str, str]:
    label = {v: k for k, v in contract.entity("districts").column("area_type").values.items()}
    rows = _xlsx_rows(next((out / "landing").glob("*/片区清单_*.xlsx")))
    return {r[0]: label[r[2]] for r in rows[3:]}


@pytest.mark.slow  # the demo preset's three months generated
def test_answer_key_has_passing_and_failing_units_for_every_measure_and_grain(demo):
    area = _area_types(demo)
    seen: dict[tuple[str, str], set[bool]] = {}
    for r in _answer_key(demo):
        m = rulebook.load()[r["measure_id"]]
        value = float(r["value"])
        if m.spec.get("pace") == "linear":  # yearly duty judged against month/12 of its target (D-43)
            value = value * 12 / int(r["period_month"][5:7])
        ok = m.passes(value, r["unit_id"], qualifier=area.get(r["unit_id"]))
        seen.setdefault((r["measure_id"], r["grain"]), set()).add(bool(ok))
    problems = []
    for m in rulebook.numeric_measures():
        for g in m.grains:
            outcomes = seen.get((m.id, g), set())
            if not outcomes:
                problems.append(f"{m.id}/{g}: no rows")
            elif g != "company" and outcomes != {True, False}:
                problems.append(f"{m.id}/{g}: only {'pass' if True in outcomes else 'fail'}")
    assert not problems, problems


@pytest.mark.slow  # the demo preset's three months generated
def test_some_districts_have_no_complaint_in_a_month(demo):
    a2 = [r for r in _answer_key(demo) if r["measure_id"] == "A2" and r["grain"] == "district"]
    assert a2 and any(float(r["numerator"]) == 0 for r in a2) and any(float(r["numerator"]) > 0 for r in a2)


@pytest.mark.slow  # the demo preset's three months generated
def test_time_limit_edges_are_present_in_the_ticket_exports(demo):
    """Replies at exactly 24:00 after opening, and tickets worked on the 调休 Saturday 2026-02-14."""
    exact_reply, on_adjusted_saturday = 0, 0
    fmt = FORMATS["tickets"]
    cols = [c.zh for c in contract.entity("tickets").columns]
    i_open, i_reply = cols.index("受理时间"), cols.index("首次回复时间")
    for path in sorted((demo / "landing").glob("*/工单明细_*.csv")):
        with open(path, encoding=fmt.encoding, newline="") as fh:
            for cells in list(csv.reader(fh))[1:]:
                if cells[i_reply]:
                    gap = _parse_ts(cells[i_reply], "cn_m") - _parse_ts(cells[i_open], "cn_m")
                    exact_reply += gap == timedelta(hours=24)
        on_adjusted_saturday += path.parent.name == "2026-02-14"
    assert exact_reply > 0
    assert on_adjusted_saturday == 1
