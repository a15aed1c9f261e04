"""Bulk backfill (ingest/bulk.py): many days in one batch give exactly what the nights give, and a
kill inside the batch leaves the warehouse as it was before the batch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from generator import samples
from generator.formats import FORMATS
from ingest import config
from ingest.bulk import bulk_ingest, day_batch
from ingest.loader import CRASH_ENV, ingest

ROOT = Path(__file__).resolve().parents[2]
D1 = date(2026, 3, 5)
D2, D3 = D1 + timedelta(days=1), D1 + timedelta(days=2)


def _cfg():
    return config.load(None, demo_key=True)


def _q(wh: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _calls_name(d: date, suffix: str = "") -> str:
    return f"{FORMATS['calls'].file_stem}_{d:%Y%m%d}{suffix}.csv"


def _history(landing: Path) -> None:
    """Three days of exports with what ingest must get right per file:
    - technicians T0006..T0010 listed from D2 only: D1's tickets naming them are unknown_reference
      on the night of D1 (reference checks as of the file's own date);
    - tickets 100..199 re-exported on D2 (newest version wins, the old one superseded), the
      technicians of D1 re-listed on D2;
    - D2's calls end with an exact copy of their first data row (duplicate_key, a row number
      of D2's file) and a line cut short (truncated_row, read_csv's rejects);
    - D1's calls file delivered again on D2 under another name (duplicate delivery in the batch);
    - on D3 a file no mapping knows (rejected) and more tickets."""
    samples.write_day(landing, D1, {"districts": 5, "technicians": 5})
    samples.write_day(landing, D2, {"districts": 5, "technicians": 10})
    for i, d in enumerate([D1, D2]):
        folder = landing / d.isoformat()
        samples.write(folder / _calls_name(d), "calls", d, 300, start=i * 300)
        samples.write(folder / f"工单明细_{d:%Y%m%d}.csv", "tickets", d, 200, start=i * 100)
        samples.write(folder / f"客户资料_{d:%Y%m%d}.csv", "customers", d, 100, start=i * 100)
    calls2 = landing / D2.isoformat() / _calls_name(D2)
    text = calls2.read_bytes().decode("gb18030")
    lines = text.splitlines(keepends=True)  # the header, then one line per row
    assert lines[0].startswith("流水号") and text.endswith("\r\n")
    calls2.write_bytes((text + lines[1] + lines[-1][: len(lines[-1]) // 3] + "\r\n").encode("gb18030"))
    shutil.copy(landing / D1.isoformat() / _calls_name(D1), landing / D2.isoformat() / _calls_name(D1, "_补传"))
    d3 = landing / D3.isoformat()
    samples.write(d3 / f"工单明细_{D3:%Y%m%d}.csv", "tickets", D3, 50, start=250)
    (d3 / "随便看看.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")
    # a calls file whose last line ends in LF, the others in CRLF, and is cut short: read from a
    # one-line-ending copy (D-80), its short line quarantined truncated_row
    calls3 = samples.write(d3 / _calls_name(D3), "calls", D3, 20, start=900)
    calls3.write_bytes(calls3.read_bytes() + "CA0009999,1\n".encode("gb18030"))


def _snapshot(wh: Path, ids: bool = True) -> dict:
    """Every raw table, the load log and the quarantine (ids=False: without file ids, which a killed
    run may have drawn from the sequence)."""
    out = {}
    drop = {"_loaded_at"} if ids else {"_loaded_at", "_file_id"}
    for (t,) in _q(
        wh,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
        "AND table_type = 'BASE TABLE' ORDER BY 1",
    ):
        cols = [
            c
            for (c,) in _q(
                wh,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                f"AND table_name = '{t}' ORDER BY ordinal_position",
            )
            if c not in drop
        ]
        out[t] = _q(wh, f"SELECT {', '.join(cols)} FROM raw.{t} ORDER BY ALL")
    out["log"] = _q(
        wh,
        f"SELECT {'file_id, ' if ids else ''}file_name, entity, export_date, status, reason, "
        f"rows_read, rows_loaded, rows_quarantined, replace(message, '{wh.parent}', '<root>'), moved_to IS NOT NULL "
        "FROM audit.load_log ORDER BY file_id",
    )
    out["quarantine"] = _q(wh, f"SELECT {'*' if ids else '* EXCLUDE (file_id)'} FROM audit.quarantine ORDER BY ALL")
    return out


def _nights(root: Path) -> Path:
    wh = root / "w.duckdb"
    for d in (D1, D2, D3):
        ingest(
            root / "landing" / d.isoformat(),
            wh,
            _cfg(),
            archive=root / "archive" / d.isoformat(),
            rejected=root / "rejected" / d.isoformat(),
            progress=False,
        )
    return wh


def _bulk(root: Path, days=(D1, D2, D3)) -> Path:
    wh = root / "w.duckdb"
    bulk_ingest(day_batch(root / "landing", root / "archive", root / "rejected", list(days)), wh, _cfg())
    return wh


def test_a_bulk_batch_equals_the_nights_it_replaces(tmp_path):
    for name in ("nights", "bulk"):
        _history(tmp_path / name / "landing")
    nights, bulk = _nights(tmp_path / "nights"), _bulk(tmp_path / "bulk")
    a, b = _snapshot(nights), _snapshot(bulk)
    # the cases above really happened (this test can fail)
    reasons = {r[4] for r in a["quarantine"]}
    assert {"unknown_reference", "duplicate_key", "truncated_row"} <= reasons
    assert [r[2] for r in a["quarantine"] if r[4] == "duplicate_key"] and all(
        r[1] == _calls_name(D2) for r in a["quarantine"] if r[4] == "duplicate_key"
    )
    # D2's cut line, and D3's appended short line (LF in a CRLF file: read since D-80, not lost)
    assert {r[1] for r in a["quarantine"] if r[4] == "truncated_row"} == {_calls_name(D2), _calls_name(D3)}
    assert {r[4] for r in a["log"]} == {"loaded", "duplicate", "rejected"}
    assert {r[5] for r in a["log"]} == {None, "unrecognised_file"}
    assert a["tickets_superseded"] and a["districts_superseded"]
    assert a == b

    # every file moved where the nights put it; nothing left in landing
    def files(root: Path, sub: str) -> list[str]:
        return sorted(p.relative_to(root / sub).as_posix() for p in (root / sub).rglob("*") if p.is_file())

    for sub in ("archive", "rejected"):
        assert files(tmp_path / "nights", sub) == files(tmp_path / "bulk", sub)
    assert not any(p.is_file() for p in (tmp_path / "bulk" / "landing").rglob("*"))
    # rows read = loaded + quarantined, per file
    assert all(r[6] == r[7] + r[8] for r in b["log"] if r[4] == "loaded")


def test_row_numbers_of_a_bulk_batch_are_the_rows_of_each_file(tmp_path):
    _history(tmp_path / "landing")
    text = (tmp_path / "landing" / D2.isoformat() / _calls_name(D2)).read_bytes().decode("gb18030")
    n_lines = len(text.splitlines())
    wh = _bulk(tmp_path)
    rows = dict(
        _q(
            wh,
            "SELECT reason, row_number FROM audit.quarantine WHERE reason IN "
            f"('duplicate_key', 'truncated_row') AND file_name = '{_calls_name(D2)}'",
        )
    )
    # the copied row is the second-to-last line of the file, the cut line the last one
    assert rows == {"duplicate_key": n_lines - 1, "truncated_row": n_lines}


def _cli(landing: Path, wh: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {CRASH_ENV, config.ENV_KEY}}
    env.update(env_extra or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kefu.cli",
            "ingest",
            "--bulk",
            "--landing",
            str(landing),
            "--warehouse",
            str(wh),
            "--demo-key",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _prior_and_batch(root: Path) -> None:
    """A warehouse that already holds D1 (an earlier run), then D2 and D3 landed: the batch."""
    _history(root / "landing")
    held = root / "held"
    for d in (D2, D3):
        shutil.move(root / "landing" / d.isoformat(), held / d.isoformat())
    assert _cli(root / "landing", root / "w.duckdb").returncode == 0
    for d in (D2, D3):
        shutil.move(held / d.isoformat(), root / "landing" / d.isoformat())


@pytest.fixture(scope="module")
def prior_and_clean(tmp_path_factory) -> tuple[Path, dict]:
    """Built once for the four kill stages: the root before the batch (D1 held, D2 and D3 landed),
    and the snapshot of the same root after the batch ran uninterrupted."""
    base = tmp_path_factory.mktemp("bulk_kill")
    prior, clean = base / "prior", base / "clean"
    _prior_and_batch(prior)
    shutil.copytree(prior, clean)
    assert _cli(clean / "landing", clean / "w.duckdb").returncode == 0
    return prior, _snapshot(clean / "w.duckdb", ids=False)


@pytest.mark.parametrize("stage", ["bulk_group:tickets", "after_reject_log", "before_commit", "after_commit"])
def test_a_kill_inside_the_bulk_batch_leaves_the_warehouse_as_before_and_the_rerun_completes(
    tmp_path, stage, prior_and_clean
):
    prior, clean = prior_and_clean
    crashed = tmp_path / "crashed"
    shutil.copytree(prior, crashed)
    landing = crashed / "landing"
    before = _snapshot(crashed / "w.duckdb", ids=False)
    batch = sorted(p for p in landing.rglob("*") if p.is_file())
    assert len(batch) == 9
    died = _cli(landing, crashed / "w.duckdb", {CRASH_ENV: stage})
    assert died.returncode == 86, died.stderr
    after = _snapshot(crashed / "w.duckdb", ids=False)
    assert sorted(p for p in landing.rglob("*") if p.is_file()) == batch  # no file moved yet
    if stage == "after_commit":  # committed: all of the batch is in, its files not yet moved
        assert len(after["log"]) == len(before["log"]) + len(batch) and after["calls"] != before["calls"]
    else:  # nothing of the batch: not a row, not a log line
        assert after == before
    rerun = _cli(landing, crashed / "w.duckdb")
    assert rerun.returncode == 0, rerun.stderr
    assert _snapshot(crashed / "w.duckdb", ids=False) == clean
    assert not any(p.is_file() for p in (crashed / "landing").rglob("*"))


def test_kefu_rebuild_loads_the_archive_in_one_batch_equal_to_the_nights(tmp_path, monkeypatch):
    """`kefu rebuild` (pipeline.rebuild) ingests the archived days as one bulk batch: the warehouse it
    swaps in holds what the nights loaded (build, gates and publish are stubbed: only ingest is
    under test here; the rejected files stay in rejected/, so the rebuilt log has no rows for them)."""
    from kefu import pipeline
    from kefu.home import Home

    home = Home(tmp_path / "home")
    _history(home.landing)
    for d in (D1, D2, D3):
        pipeline.ingest_day(home, d, demo_key=True)
    nights = _snapshot(home.warehouse, ids=False)
    batches = []
    real = __import__("ingest.bulk", fromlist=["bulk_ingest"]).bulk_ingest

    def counting(days, *a, **k):
        batches.append([d.landing.name for d in days])
        return real(days, *a, **k)

    def build_day(h, day, **_kw):
        (h.warehouse.parent / pipeline.STATE_FILE).write_text("{}", encoding="utf-8")
        return {"as_of_date": day.isoformat()}

    monkeypatch.setattr("ingest.bulk.bulk_ingest", counting)
    monkeypatch.setattr(pipeline, "build_day", build_day)
    monkeypatch.setattr(pipeline, "contract_gate", lambda *a, **k: {})
    monkeypatch.setattr(pipeline, "threshold_check", lambda *a, **k: {})
    monkeypatch.setattr(pipeline, "publish", lambda *a, **k: {"published": False, "reason": "stub"})
    rep = pipeline.rebuild(home, demo_key=True)
    assert batches == [[D1.isoformat(), D2.isoformat(), D3.isoformat()]]  # one batch of every day
    rebuilt = _snapshot(home.warehouse, ids=False)
    nights["log"] = [r for r in nights["log"] if r[3] != "rejected"]
    assert rebuilt == nights
    assert rep.steps["ingest"]["rows_loaded"] == sum(r[6] for r in nights["log"] if r[3] == "loaded")
