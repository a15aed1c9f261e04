"""A warehouse built by other code or another rulebook is fully refreshed (D-70).

Incremental models keep the rows judged by the definitions of the build that wrote them; the
nightly run and the month close compare the project digest recorded with the warehouse against
the current one and full-refresh on any difference."""

import json
import shutil
from datetime import date

import pytest

from kefu import build, pipeline, rulebook
from kefu.home import Home


def test_the_digest_changes_with_a_threshold_edit(monkeypatch):
    before = build.project_digest()
    assert build.project_digest() == before  # stable between calls
    measures = dict(rulebook.load())
    h1 = measures["H1"]
    monkeypatch.setattr(rulebook, "load", lambda: {**measures, "H1": type(h1)(**{**h1.__dict__, "target": 0.8})})
    assert build.project_digest() != before


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    src = build.DBT_DIR
    dst = tmp_path / "dbt_project"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs"))
    monkeypatch.setattr(build, "DBT_DIR", dst)
    monkeypatch.setattr(build, "GENERATED", dst / "seeds" / "generated")
    return dst


def test_the_digest_changes_with_a_model_edit_but_not_with_build_output(project_copy):
    before = build.project_digest()
    (project_copy / "target").mkdir()
    (project_copy / "target" / "manifest.yml").write_text("written by a build\n", encoding="utf-8")
    (project_copy / "logs").mkdir()
    (project_copy / "logs" / "dbt.md").write_text("a log\n", encoding="utf-8")
    assert build.project_digest() == before
    model = project_copy / "models" / "marts" / "assessment" / "kpi_rule_results.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert build.project_digest() != before


def test_the_digest_reads_the_seeds_from_the_rulebook_not_the_committed_copy(project_copy):
    before = build.project_digest()
    for p in (project_copy / "seeds" / "generated").glob("*.csv"):
        p.write_text("stale\n", encoding="utf-8")
    assert build.project_digest() == before


@pytest.fixture
def night(tmp_path, monkeypatch):
    """build_day with the warehouse and dbt replaced by recorders."""
    home = Home(tmp_path / "home")
    home.warehouse.parent.mkdir(parents=True)
    calls = []
    digest = {"value": "A"}
    # the newest export is the day being built: a normal night, not a rerun of the past
    monkeypatch.setattr(
        pipeline.nightly, "latest_export_date", lambda warehouse: calls_days[-1]
    )  # where build_day looks it up
    calls_days = []
    real_build_day = pipeline.build_day

    def build_day(home, day, **kw):
        calls_days.append(day)
        return real_build_day(home, day, **kw)

    monkeypatch.setattr(pipeline, "build_day", build_day)
    monkeypatch.setattr(build, "project_digest", lambda: digest["value"])
    monkeypatch.setattr(build, "build", lambda warehouse, full_refresh, **kw: calls.append(full_refresh))
    return home, calls, digest


def test_the_nightly_build_is_incremental_only_on_a_warehouse_of_the_same_project(night):
    home, calls, digest = night
    pipeline.build_day(home, date(2026, 3, 30))
    pipeline.build_day(home, date(2026, 3, 31))
    assert calls == [True, False]  # no state yet: full; same project, next day: incremental
    state = json.loads((home.warehouse.parent / pipeline.STATE_FILE).read_text(encoding="utf-8"))
    assert state["project"] == "A" and state["full_refresh"] is False
    digest["value"] = "B"  # an upgrade or a threshold edit
    pipeline.build_day(home, date(2026, 3, 31))
    pipeline.build_day(home, date(2026, 3, 31))
    assert calls == [True, False, True, False]


def test_a_warehouse_from_before_the_digest_is_fully_refreshed_once(night):
    home, calls, _digest = night
    state = home.warehouse.parent / pipeline.STATE_FILE
    state.write_text(json.dumps({"as_of_date": "2026-03-30", "history": False}), encoding="utf-8")
    pipeline.build_day(home, date(2026, 3, 31))
    pipeline.build_day(home, date(2026, 3, 31))
    assert calls == [True, False]


@pytest.mark.parametrize(
    "recorded, published, expected",
    [
        ("A", "2026-03-31", "data tests"),  # the month-end state built by this project: tested, not rebuilt
        ("B", "2026-03-31", "full refresh"),  # built by other code or another rulebook
        (None, "2026-03-31", "full refresh"),
        ("A", "2026-04-02", "full refresh"),  # newer than the month end: rebuilt from the export history
    ],
)
def test_the_month_close_tests_a_current_published_copy_and_rebuilds_any_other(
    tmp_path, monkeypatch, recorded, published, expected
):
    home = Home(tmp_path / "home")
    home.published_dir.mkdir(parents=True)
    home.published.write_bytes(b"")
    manifest = {"business_date": published, "run_id": "r"}
    if recorded:
        manifest["project"] = recorded
    home.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    calls = []
    monkeypatch.setattr(build, "project_digest", lambda: "A")
    monkeypatch.setattr(
        build,
        "build",
        lambda warehouse, full_refresh, **kw: calls.append(("full refresh" if full_refresh else "build", kw["vars"])),
    )
    monkeypatch.setattr(build, "data_tests", lambda warehouse, **kw: calls.append(("data tests", kw["vars"])))
    pipeline.prepare_month(home, "2026-03", tmp_path / "work")
    history = {"history_as_of": "2026-03-31"} if published != "2026-03-31" else {}
    assert calls == [(expected, {"as_of_date": "2026-03-31", **history})]


def test_an_incremental_night_leaves_the_seeds_loaded_a_full_refresh_reloads_them(night, monkeypatch):
    """D-192: the seeds are part of the project digest, so a night of the same digest finds them loaded."""
    home, _calls, digest = night
    excludes = []
    monkeypatch.setattr(build, "build", lambda warehouse, full_refresh, exclude, **kw: excludes.append(exclude))
    pipeline.build_day(home, date(2026, 3, 30))  # no state: full refresh
    pipeline.build_day(home, date(2026, 3, 31))  # same project: incremental
    digest["value"] = "B"  # a threshold edit changes a generated seed, and the digest
    pipeline.build_day(home, date(2026, 3, 31))
    pipeline.build_day(home, date(2026, 3, 31), data_tests=True)
    seeds = ["resource_type:seed" in e.split() for e in excludes]
    assert seeds == [False, True, False, True]
    assert ["config.materialized:view" in e.split() for e in excludes] == seeds  # D-194: the views too
    assert all("resource_type:unit_test" in e.split() for e in excludes)


def _publish(home: Home, business_date: str, project: str = "A") -> None:
    """A published file with its manifest embedded, as publish writes it (audit.publication)."""
    import duckdb

    from kefu.home import MANIFEST_TABLE

    home.published_dir.mkdir(parents=True, exist_ok=True)
    tmp = home.published.with_name(".next.duckdb")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("create schema audit")
    con.execute(
        f"create table {MANIFEST_TABLE} as select ?::varchar as manifest",
        [json.dumps({"business_date": business_date, "run_id": "r", "project": project})],
    )
    con.close()
    tmp.replace(home.published)


def test_a_month_waits_for_its_last_night_to_be_published(tmp_path):
    """What monthly_assessment's first sensor asks (D-203)."""
    home = Home(tmp_path / "home")
    assert not pipeline.month_end_published(home, "2026-02")  # nothing published
    _publish(home, "2026-02-27")
    assert not pipeline.month_end_published(home, "2026-02")
    assert pipeline.month_end_published(home, "2026-01")
    _publish(home, "2026-02-28")
    assert pipeline.month_end_published(home, "2026-02")
    _publish(home, "2026-03-02")
    assert pipeline.month_end_published(home, "2026-02")


def test_the_month_close_decides_on_what_its_copy_holds_when_a_night_publishes_meanwhile(tmp_path, monkeypatch):
    """A night publishing 2026-04-01 while March is being closed: the scratch copy holds 04-01, so the
    month is rebuilt as of 03-31 from the history — not closed by the data tests alone on a copy of
    another day (the manifest is read from the copy, not from the published file before it, D-203)."""
    from kefu.pipeline import monthly

    home = Home(tmp_path / "home")
    _publish(home, "2026-03-31")
    copy = shutil.copyfile

    def night_publishes_then_copy(src, dst):
        _publish(home, "2026-04-01")
        return copy(src, dst)

    monkeypatch.setattr(monthly.shutil, "copyfile", night_publishes_then_copy)
    calls = []
    monkeypatch.setattr(build, "project_digest", lambda: "A")
    monkeypatch.setattr(
        build, "build", lambda warehouse, full_refresh, **kw: calls.append(("full refresh", kw["vars"]))
    )
    monkeypatch.setattr(build, "data_tests", lambda warehouse, **kw: calls.append(("data tests", kw["vars"])))
    monthly.prepare_month(home, "2026-03", tmp_path / "work")
    assert calls == [("full refresh", {"as_of_date": "2026-03-31", "history_as_of": "2026-03-31"})]
