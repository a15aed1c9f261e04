"""`kefu bench`: the pipeline's cost for one preset, beside the floor and the pandas baseline.

    kefu bench --preset demo|city|province [--months N] [--out DIR] [--skip-generate]

Steps, each in its own child process (its wall and CPU time and its peak RSS, children included,
from resource.getrusage are its own):
  generate   `kefu generate --preset P` into DIR/data (skipped with --skip-generate)
  ingest 1   the exports of the days before D1 (the 15th of the first month), then build as of D1-1
  night D1   one nightly run (ingest the day, incremental dbt build, contract gate, threshold
             suites, publish): month 1
  ingest 2   every later day but the last (the bulk of the data: ingest rows/s), build as of it
  night DL   the nightly run of the last day: month 12 (city, province) — history independence
  full build `dbt build --full-refresh` over all the data
  start-up   a dbt invocation that builds nothing (process start, seeds, parse): the fixed part
  floor      benchmarks/floor.py over all the exports and over day DL alone (decode + query)
  bulk       every export in one bulk batch (ingest/bulk.py, as the backfill DAG and kefu rebuild
             load history) into a fresh warehouse: rows per CPU s beside the floor's
  pandas     benchmarks/baseline_pandas.py over all the exports
  dashboard  every dashboard page on the built warehouse, 5 runs cold and 5 warm (bench_dashboard)
The floor's and the baseline's KPI rows are compared with marts.kpi_rule_results.
Writes DIR/bench_P.json and DIR/bench_P.md and prints the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

RULES = ("T9", "A2", "H1", "S1", "C1")
GRAINS = ("company", "district", "brand_group")


def child(step: str, **kwargs) -> dict:
    """Run `step(**kwargs)` of this module in a fresh Python process; its figures as a dict.

    `python -m`, not `python -c`: pyspark (imported by Great Expectations when installed) takes a
    __main__ without __spec__ or __file__ for a doctest run and calls sys.exit(0)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pipeline", "--child", step, json.dumps(kwargs, default=str)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"bench step {step} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1].removeprefix("BENCH_RESULT "))


def _child_main(step: str, kwargs: str) -> None:
    t0 = time.perf_counter()
    out = globals()[step](**json.loads(kwargs)) or {}
    u, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out.update(seconds=time.perf_counter() - t0, cpu_seconds=_cpu(), peak_rss_mb=max(u.ru_maxrss, c.ru_maxrss) / 1024)
    print("BENCH_RESULT " + json.dumps(out, default=str))


# --- steps (each runs in a child process) -----------------------------------------------------


def step_generate(preset: str, out: str, months: int | None = None) -> dict:
    from generator.run import generate

    summary = generate(preset=preset, seed=1, months=months, out=Path(out), faults=False, progress=False)
    return {"summary": summary.splitlines()[1].strip()}


def step_ingest(landing: str, warehouse: str, archive: str) -> dict:
    from ingest import config
    from ingest.loader import ingest

    s = ingest(Path(landing), Path(warehouse), config.load(None, demo_key=True), archive=Path(archive), progress=False)
    loaded = [r for r in s.results if r.status == "loaded"]
    return {"files": len(loaded), "rows": sum(r.rows_read for r in loaded), "rejected": s.count("rejected")}


def step_bulk_ingest(landing: str, warehouse: str, archive: str) -> dict:
    """Every day folder of `landing` as one bulk batch (the backfill DAG's ingest)."""
    from ingest import config
    from ingest.bulk import bulk_ingest, day_batch

    days = sorted(date.fromisoformat(p.name) for p in Path(landing).iterdir() if p.is_dir())
    s = bulk_ingest(
        day_batch(Path(landing), Path(archive), Path(archive).with_name("rejected"), days),
        Path(warehouse),
        config.load(None, demo_key=True),
    )
    loaded = [r for r in s.results if r.status == "loaded"]
    return {"files": len(loaded), "rows": sum(r.rows_read for r in loaded), "rejected": s.count("rejected")}


def step_build_day(home: str, day: str) -> dict:
    from kefu import pipeline
    from kefu.home import Home

    return pipeline.build_day(Home(Path(home)), date.fromisoformat(day))


def step_full_build(home: str, day: str) -> dict:
    from kefu import build, pipeline
    from kefu.home import Home

    h = Home(Path(home))
    build.build(
        h.warehouse,
        full_refresh=True,
        target_path=h.root / "dbt_target",
        exclude="test_type:unit",
        vars=pipeline.build_vars(date.fromisoformat(day), history=False),
    )
    return {}


def step_dbt_startup(home: str) -> dict:
    from kefu import build
    from kefu.home import Home

    h = Home(Path(home))
    build.run_dbt(["build", "--quiet", "--select", "tag:bench_selects_nothing"], h.warehouse, h.root / "dbt_target")
    return {}


def step_night(home: str, day: str) -> dict:
    """The nightly steps of kefu.pipeline.night (its writer steps, in their declared order), each timed;
    a step that cannot run is reported."""
    from kefu import pipeline
    from kefu.home import Home

    h, d, run_id = Home(Path(home)), date.fromisoformat(day), f"bench__{day}"
    run = pipeline.Run(h, d, run_id, demo_key=True)
    names = {"contract": "contract_gate"}  # the names earlier results (benchmarks/results/*.json) use
    steps = [(names.get(s.key, s.key), lambda s=s: s.call(run)) for s in pipeline.WRITER_STEPS]
    out: dict = {"steps": {}}
    for name, fn in steps:
        t0, c0 = time.perf_counter(), _cpu()
        try:
            info = fn()
            extra = {"rows": info.get("rows_loaded", 0)} if name == "ingest" else {}  # 0: a rerun, already loaded
        except Exception as exc:
            if name in ("ingest", "build"):
                raise
            extra = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        out["steps"][name] = {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, **extra}
    return out


def _cpu() -> float:
    """CPU seconds of this process and its finished children (dbt runs in one)."""
    u, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime


def step_floor(landing: str, work: str, csv: str | None = None) -> dict:
    from benchmarks import floor

    df, t = floor.run(Path(landing), Path(work))
    if csv:
        df.to_csv(csv, index=False)
    shutil.rmtree(work, ignore_errors=True)
    return {**t, "rows": len(df)}


def step_pandas(landing: str, csv: str) -> dict:
    from benchmarks import baseline_pandas

    df = baseline_pandas.compute(Path(landing))
    df.to_csv(csv, index=False)
    return {"rows": len(df)}


def step_dashboard(warehouse: str, repeat: int) -> dict:
    """Every dashboard page in Streamlit's AppTest, `repeat` runs cold and warm (bench_dashboard)."""
    from benchmarks.bench_dashboard import measure

    pages = measure(Path(warehouse), repeat, None)
    worst = max(pages, key=lambda r: r["cold_p95"])
    return {
        "pages": pages,
        "repeat": repeat,
        "worst_page": worst["page"],
        "worst_cold_p95": worst["cold_p95"],
        "worst_warm_p95": max(r["warm_p95"] for r in pages),
    }


def step_compare(warehouse: str, csvs: list[str]) -> dict:
    return {"mismatches": {Path(c).stem: mismatches(Path(warehouse), Path(c)) for c in csvs}}


# --- helpers ----------------------------------------------------------------------------------


def warehouse_rows(warehouse: Path):
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select measure_id, period_month, grain, unit_id, numerator, denominator from marts.kpi_rule_results "
            f"where measure_id in {RULES} and grain in {GRAINS}"
        ).df()
    finally:
        con.close()


def mismatches(warehouse: Path, csv: Path) -> int:
    """Rows of (rule, month, grain, unit) where the CSV and marts.kpi_rule_results differ."""
    import pandas as pd

    ours = warehouse_rows(warehouse)
    theirs = pd.read_csv(csv, dtype={"period_month": str, "unit_id": str})
    m = ours.merge(theirs, on=["measure_id", "period_month", "grain", "unit_id"], how="outer", indicator=True)
    bad = (m["_merge"] != "both") | (m["numerator_x"] != m["numerator_y"]) | (m["denominator_x"] != m["denominator_y"])
    return int(bad.sum())


def slowest_nodes(run_results: Path, n: int = 8) -> list[tuple[str, float]]:
    """dbt's own profile of a build: the n nodes that took longest (run_results.json)."""
    nodes = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    top = sorted(nodes, key=lambda r: r["execution_time"], reverse=True)[:n]
    return [(r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2)) for r in top]


def link_days(src_landing: Path, days: list[date], dst: Path) -> None:
    """Hard-linked copies of day folders: ingest moves them to its archive, the originals stay."""
    for d in days:
        for f in (src_landing / d.isoformat()).iterdir():
            (dst / d.isoformat()).mkdir(parents=True, exist_ok=True)
            os.link(f, dst / d.isoformat() / f.name)


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    import duckdb

    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "ram_gb": round(mem / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load_average_at_start": os.getloadavg(),
    }


def run(preset: str, out: Path, skip_generate: bool = False, log=print, months: int | None = None) -> dict:
    out = out.resolve()
    data = out / "data"
    res: dict = {
        "preset": preset,
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "steps": {},
    }

    home = out / "home"

    def step(label: str, fn: str, **kw) -> dict:
        log(f"[{preset}] {label} …")
        r = child(fn, **kw)
        res["steps"][label] = r
        dbt_results = home / "dbt_target" / "run_results.json"
        if dbt_results.exists() and fn in ("step_build_day", "step_night", "step_full_build"):
            r["slowest_dbt_nodes"] = slowest_nodes(dbt_results)
            dbt_results.unlink()
        log(
            f"[{preset}] {label}: {r['seconds']:.1f} s, CPU {r['cpu_seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB"
            + (f", {r['rows']:,} rows" if "rows" in r else "")
        )
        return r

    if not skip_generate:
        shutil.rmtree(data, ignore_errors=True)
        step("generate", "step_generate", preset=preset, out=str(data), months=months)
    landing = data / "landing"
    days = sorted(date.fromisoformat(p.name) for p in landing.iterdir() if p.is_dir())
    d1 = days[0] + timedelta(days=14)
    dl = days[-1]
    res.update(
        first_day=str(days[0]),
        night_month_1=str(d1),
        night_month_last=str(dl),
        months=len({(d.year, d.month) for d in days}),
    )
    for p in (home, out / "stage"):
        shutil.rmtree(p, ignore_errors=True)
    wh = home / "warehouse" / "kefu.duckdb"

    link_days(landing, [d for d in days if d < d1], out / "stage" / "1")
    step("ingest 1", "step_ingest", landing=str(out / "stage" / "1"), warehouse=str(wh), archive=str(home / "archive"))
    step("build 1", "step_build_day", home=str(home), day=str(d1 - timedelta(days=1)))
    link_days(landing, [d1], home / "landing")
    step("night month 1", "step_night", home=str(home), day=str(d1))
    link_days(landing, [d for d in days if d1 < d < dl], out / "stage" / "2")
    step("ingest 2", "step_ingest", landing=str(out / "stage" / "2"), warehouse=str(wh), archive=str(home / "archive"))
    step("build 2", "step_build_day", home=str(home), day=str(dl - timedelta(days=1)))
    link_days(landing, [dl], home / "landing")
    step("night month last", "step_night", home=str(home), day=str(dl))
    step("full build", "step_full_build", home=str(home), day=str(dl))
    step("dbt start-up", "step_dbt_startup", home=str(home))
    day_landing = out / "stage" / "day"
    link_days(landing, [dl], day_landing)
    step("floor last day", "step_floor", landing=str(day_landing), work=str(out / "floor_work"))
    step("floor", "step_floor", landing=str(landing), work=str(out / "floor_work"), csv=str(out / "floor.csv"))
    step("pandas", "step_pandas", landing=str(landing), csv=str(out / "pandas.csv"))
    bulk = out / "bulk"
    shutil.rmtree(bulk, ignore_errors=True)
    link_days(landing, days, bulk / "landing")
    step(
        "bulk ingest",
        "step_bulk_ingest",
        landing=str(bulk / "landing"),
        warehouse=str(bulk / "kefu.duckdb"),
        archive=str(bulk / "archive"),
    )
    shutil.rmtree(bulk, ignore_errors=True)
    res["mismatches"] = child(
        "step_compare", warehouse=str(wh), csvs=[str(out / "floor.csv"), str(out / "pandas.csv")]
    )["mismatches"]
    step("dashboard", "step_dashboard", warehouse=str(wh), repeat=5)
    shutil.rmtree(out / "stage", ignore_errors=True)
    res["figures"] = figures(res)
    res["finished_at"] = datetime.now().isoformat(timespec="seconds")
    return res


def figures(res: dict) -> dict:
    s = res["steps"]
    night = {k: sum(v["seconds"] for v in s[k]["steps"].values()) for k in ("night month 1", "night month last")}
    core = {k: s[k]["steps"]["ingest"]["seconds"] + s[k]["steps"]["build"]["seconds"] for k in night}
    ingest_rows = sum(s[k]["rows"] for k in ("ingest 1", "ingest 2")) + sum(
        s[k]["steps"]["ingest"]["rows"] for k in night
    )
    ingest_s = sum(s[k]["seconds"] for k in ("ingest 1", "ingest 2")) + sum(
        s[k]["steps"]["ingest"]["seconds"] for k in night
    )
    ours = ingest_s + s["full build"]["seconds"]
    floor = s["floor"]["decode_seconds"] + s["floor"]["query_seconds"]
    floor_day = s["floor last day"]["decode_seconds"] + s["floor last day"]["query_seconds"]
    startup = s["dbt start-up"]["seconds"]
    cpu = lambda *ks: sum(s[k]["cpu_seconds"] for k in ks)  # noqa: E731
    ours_cpu = cpu("ingest 1", "ingest 2", "full build") + sum(s[k]["steps"]["ingest"]["cpu_seconds"] for k in night)
    return {
        "ingest_rows": ingest_rows,
        "ingest_rows_per_s": ingest_rows / ingest_s,
        "bulk_ingest_rows_per_s": s["ingest 2"]["rows"] / s["ingest 2"]["seconds"],
        "bulk_ingest_rows_per_cpu_s": s["ingest 2"]["rows"] / s["ingest 2"]["cpu_seconds"],
        **bulk_figures(s),
        "full_build_seconds": s["full build"]["seconds"],
        "incremental_build_month_1_seconds": s["night month 1"]["steps"]["build"]["seconds"],
        "incremental_build_month_last_seconds": s["night month last"]["steps"]["build"]["seconds"],
        "nightly_month_1_seconds": night["night month 1"],
        "nightly_month_last_seconds": night["night month last"],
        "nightly_last_over_first": night["night month last"] / night["night month 1"],
        "nightly_ingest_build_month_last_seconds": core["night month last"],
        "dbt_startup_seconds": startup,
        "floor_day_seconds": floor_day,
        "nightly_target_seconds": 2 * floor_day + startup,
        "nightly_meets_target": night["night month last"] <= 2 * floor_day + startup,
        "nightly_last_over_first_cpu": s["night month last"]["cpu_seconds"] / s["night month 1"]["cpu_seconds"],
        "dbt_startup_cpu_seconds": s["dbt start-up"]["cpu_seconds"],
        "floor_day_cpu_seconds": s["floor last day"]["cpu_seconds"],
        "nightly_target_cpu_seconds": 2 * s["floor last day"]["cpu_seconds"] + s["dbt start-up"]["cpu_seconds"],
        "nightly_meets_target_cpu": s["night month last"]["cpu_seconds"]
        <= 2 * s["floor last day"]["cpu_seconds"] + s["dbt start-up"]["cpu_seconds"],
        "ours_full_seconds": ours,
        "floor_seconds": floor,
        "floor_query_seconds": s["floor"]["query_seconds"],
        "pandas_seconds": s["pandas"]["seconds"],
        "ours_over_floor": ours / floor,
        "pandas_over_ours": s["pandas"]["seconds"] / ours,
        # CPU seconds (all threads and child processes): less sensitive to other jobs on the machine
        "nightly_month_1_cpu_seconds": s["night month 1"]["cpu_seconds"],
        "nightly_month_last_cpu_seconds": s["night month last"]["cpu_seconds"],
        "ours_full_cpu_seconds": ours_cpu,
        "floor_cpu_seconds": s["floor"]["cpu_seconds"],
        "pandas_cpu_seconds": s["pandas"]["cpu_seconds"],
        "ours_over_floor_cpu": ours_cpu / s["floor"]["cpu_seconds"],
        "pandas_over_ours_cpu": s["pandas"]["cpu_seconds"] / ours_cpu,
        "peak_rss_mb": {k: v["peak_rss_mb"] for k, v in s.items()},
        "max_peak_rss_ours_mb": max(
            s[k]["peak_rss_mb"]
            for k in ("ingest 1", "build 1", "night month 1", "ingest 2", "build 2", "night month last", "full build")
        ),
    }


def bulk_figures(s: dict) -> dict:
    """The bulk batch (every export at once) beside the floor over the same exports, rows per CPU s.
    The floor's rows are the exports' rows (it reads them all); its own output is a few KPI rows."""
    if "bulk ingest" not in s:  # a result from before the bulk step
        return {}
    b, fl = s["bulk ingest"], s["floor"]
    per_cpu, floor_per_cpu = b["rows"] / b["cpu_seconds"], b["rows"] / fl["cpu_seconds"]
    return {
        "bulk_all_rows": b["rows"],
        "bulk_all_rows_per_cpu_s": per_cpu,
        "floor_rows_per_cpu_s": floor_per_cpu,
        "bulk_over_floor_rows_per_cpu_s": per_cpu / floor_per_cpu,
    }


def markdown(res: dict) -> str:
    f, s, m = res["figures"], res["steps"], res["machine"]
    rows = [("step", "wall s", "CPU s", "peak RSS MB", "rows")]
    for k, v in s.items():
        rows.append(
            (
                k,
                f"{v['seconds']:.1f}",
                f"{v['cpu_seconds']:.1f}",
                f"{v['peak_rss_mb']:.0f}",
                f"{v['rows']:,}" if "rows" in v else "",
            )
        )
    table = "\n".join("| " + " | ".join(r) + " |" for r in [rows[0], ("---",) * 5, *rows[1:]])
    nights = []
    for k in ("night month 1", "night month last"):
        parts = ", ".join(
            f"{n} {p['seconds']:.1f} s (CPU {p['cpu_seconds']:.1f})"
            + (" (not run: " + p["error"][:80] + ")" if "error" in p else "")
            for n, p in s[k]["steps"].items()
        )
        nights.append(f"- {k} ({res['night_month_1'] if k.endswith('1') else res['night_month_last']}): {parts}")
    return "\n".join(
        [
            f"### {res['preset']}, {res.get('months', 12 if res['preset'] != 'demo' else 3)} months ({res['started_at']}; {m['nproc']} cores, {m['ram_gb']} GB, {m['cpu']}, "
            f"load average at start {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])})",
            "",
            table,
            "",
            *nights,
            "",
            f"- ingest: {f['ingest_rows']:,} rows, {f['ingest_rows_per_s']:,.0f} rows/s overall "
            f"({f['bulk_ingest_rows_per_s']:,.0f} rows/s in the file-by-file load of ingest 2, "
            f"{f['bulk_ingest_rows_per_cpu_s']:,.0f} rows per CPU second)",
            *(
                [
                    f"- bulk ingest (every export in one batch, the backfill DAG's ingest): {f['bulk_all_rows']:,} rows, "
                    f"{f['bulk_all_rows_per_cpu_s']:,.0f} rows per CPU s; the floor over the same exports "
                    f"{f['floor_rows_per_cpu_s']:,.0f} rows per CPU s: **bulk = {f['bulk_over_floor_rows_per_cpu_s']:.0%} of "
                    f"the floor** (target ≥ 50 %)"
                ]
                if "bulk_all_rows" in f
                else []
            ),
            f"- full dbt build {f['full_build_seconds']:.1f} s; one-day incremental build: month 1 "
            f"{f['incremental_build_month_1_seconds']:.1f} s, last month {f['incremental_build_month_last_seconds']:.1f} s",
            f"- nightly end to end: month 1 {f['nightly_month_1_seconds']:.1f} s, last month "
            f"{f['nightly_month_last_seconds']:.1f} s (×{f['nightly_last_over_first']:.2f}); target 2 × floor(day) "
            f"{f['floor_day_seconds']:.1f} s + start-up {f['dbt_startup_seconds']:.1f} s = "
            f"{f['nightly_target_seconds']:.1f} s: {'met' if f['nightly_meets_target'] else 'missed'}; in CPU seconds "
            f"month 1 {f['nightly_month_1_cpu_seconds']:.1f}, last month {f['nightly_month_last_cpu_seconds']:.1f} "
            f"(×{f['nightly_last_over_first_cpu']:.2f}), target 2 × {f['floor_day_cpu_seconds']:.1f} + "
            f"{f['dbt_startup_cpu_seconds']:.1f} = {f['nightly_target_cpu_seconds']:.1f}: "
            f"{'met' if f['nightly_meets_target_cpu'] else 'missed'}",
            f"- all the data: ours (ingest + full build) {f['ours_full_seconds']:.1f} s, floor {f['floor_seconds']:.1f} s "
            f"(decode {s['floor']['decode_seconds']:.1f} + query {f['floor_query_seconds']:.1f}), pandas "
            f"{f['pandas_seconds']:.1f} s",
            f"- **ours ÷ floor = {f['ours_over_floor']:.1f}×; pandas ÷ ours = {f['pandas_over_ours']:.2f}×** (wall); "
            f"in CPU seconds ours {f['ours_full_cpu_seconds']:.1f}, floor {f['floor_cpu_seconds']:.1f}, pandas "
            f"{f['pandas_cpu_seconds']:.1f}: ours ÷ floor {f['ours_over_floor_cpu']:.1f}×, pandas ÷ ours "
            f"{f['pandas_over_ours_cpu']:.2f}×",
            f"- peak RSS ours "
            f"{f['max_peak_rss_ours_mb']:.0f} MB, floor {s['floor']['peak_rss_mb']:.0f} MB, pandas {s['pandas']['peak_rss_mb']:.0f} MB",
            *(
                [
                    "- slowest dbt nodes of the last month's nightly build (s): "
                    + ", ".join(f"{n} {t}" for n, t in s["night month last"]["slowest_dbt_nodes"])
                ]
                if s["night month last"].get("slowest_dbt_nodes")
                else []
            ),
            *(
                [
                    f"- dashboard (every page in Streamlit's AppTest, {d['repeat']} runs each with cold caches and "
                    f"{d['repeat']} warm): slowest page {d['worst_page']} cold p95 {d['worst_cold_p95']:.2f} s, warm p95 of any "
                    f"page ≤ {d['worst_warm_p95']:.2f} s; target ≤ 1 s (p95): "
                    f"{'met' if d['worst_cold_p95'] <= 1 else 'missed'}; per page cold p95 (s): "
                    + ", ".join(f"{r['page']} {r['cold_p95']:.2f}" for r in d["pages"])
                ]
                if (d := s.get("dashboard"))
                else []
            ),
            f"- KPI rows differing from marts.kpi_rule_results ({', '.join(RULES)}): "
            + ", ".join(f"{k} {v}" for k, v in res["mismatches"].items()),
            "",
        ]
    )


def rerender(json_file: Path) -> str:
    """Recompute figures and markdown from a result JSON (after a change of the report)."""
    res = json.loads(Path(json_file).read_text(encoding="utf-8"))
    res["figures"] = figures(res)
    Path(json_file).write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    md = markdown(res)
    Path(json_file).with_suffix(".md").write_text(md, encoding="utf-8")
    return md


def main(preset: str, out: Path | None = None, skip_generate: bool = False, months: int | None = None) -> int:
    out = Path(out or Path("out") / "bench" / preset)
    out.mkdir(parents=True, exist_ok=True)
    res = run(preset, out, skip_generate, months=months)
    (out / f"bench_{preset}.json").write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    md = markdown(res)
    (out / f"bench_{preset}.md").write_text(md, encoding="utf-8")
    print(md)
    print(f"written: {out / f'bench_{preset}.json'}, {out / f'bench_{preset}.md'}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child_main(sys.argv[2], sys.argv[3])
        sys.exit(0)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=["demo", "city", "province"], default="demo")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--skip-generate", action="store_true")
    ap.add_argument("--months", type=int)
    a = ap.parse_args()
    sys.exit(main(a.preset, a.out, a.skip_generate, a.months))
