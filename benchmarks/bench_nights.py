"""`kefu bench --nights first,last`: time only the chosen nights, without the whole benchmark.

Each chosen night N gets its own home: every export before N loaded as one bulk batch (ingest/bulk.py,
what the backfill DAG runs), `build_day` as of N-1, then the nightly run of N step by step as
`benchmarks.bench_pipeline.step_night` times it (ingest, dbt build, contract gate, threshold suites,
publish). Every step runs in its own child process (CPU seconds with threads and children). `first`
is the bench's "night month 1" (the 15th of the first month), `last` its "night month last" (the last
day of the exports); an ISO date names any other night. Writes DIR/bench_nights_PRESET.json and prints
the nights beside the targets of issue 18 (a night ≤ 20 CPU s, the last ≤ 1.2 × the first).

`reuse=True` (`kefu bench --nights … --reuse`) keeps each night's home twice: as the bulk backfill
left it (DIR/nights_base_LABEL) and after the build as of N-1 (DIR/nights_built_LABEL, with the dbt
project digest that built it). A later run copies the built home when the digest is still the
code's, else the backfilled one and builds it again: the 12-month city backfill (≈ 130 CPU s) is
paid once, and a before/after pair of the same code's dbt project shares its build too.
`repeat=N` times the night N times, each on a fresh copy of the built home.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

NIGHT_CPU_TARGET = 20.0  # CPU s (issue 18 point 4)
GROWTH_TARGET = 1.2  # last night ÷ first night


def parse_nights(spec: str, days: list[date]) -> dict[str, date]:
    """`first,last,2026-06-15` -> {label: night}; a night needs at least one day of exports before it."""
    if not days:
        raise ValueError("no day folders in the exports")
    named = {"first": days[0] + timedelta(days=14), "last": days[-1]}
    out: dict[str, date] = {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        if part in named:
            night = named[part]
        else:
            try:
                night = date.fromisoformat(part)
            except ValueError:
                raise ValueError(f"--nights: {part!r} is neither first, last nor a date YYYY-MM-DD") from None
        if night not in days or night == days[0]:
            raise ValueError(
                f"--nights: {part} ({night}) is not a day of the exports after the first ({days[0]} .. {days[-1]})"
            )
        out[part] = night
    if not out:
        raise ValueError("--nights: name at least one night (first, last or YYYY-MM-DD)")
    return out


BASE_RECORD = "bench_nights_base.json"  # in a kept home: the night it was prepared for and its figures


def _kept(path: Path, night: date) -> dict | None:
    """The record of a kept home prepared for `night`, or None."""
    rec = path / BASE_RECORD
    if not rec.is_file():
        return None
    data = json.loads(rec.read_text(encoding="utf-8"))
    return data if data.get("date") == str(night) else None


def _keep(home: Path, path: Path, record: dict) -> None:
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(home, path, symlinks=True)
    (path / BASE_RECORD).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


def _restore(path: Path, home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(path, home, symlinks=True)
    (home / BASE_RECORD).unlink()


def prepare(
    bp,
    landing: Path,
    days: list[date],
    night: date,
    home: Path,
    stage: Path,
    out: Path,
    label: str,
    reuse: bool,
    log=print,
) -> dict:
    """`home` as the night of `night` finds it: the days before it loaded, built as of the day before.
    Returns the backfill's and the build's figures (from the kept home's record when reused)."""
    from kefu import build

    base, built = out / f"nights_base_{label}", out / f"nights_built_{label}"
    digest = build.project_digest()
    if reuse and (rec := _kept(built, night)) and rec.get("project") == digest:
        log(f"[{label}] reusing the built home {built}")
        _restore(built, home)
        return {**rec, "reused": "built"}
    r: dict = {"date": str(night)}
    if reuse and (rec := _kept(base, night)):
        log(f"[{label}] reusing the backfilled home {base}")
        _restore(base, home)
        r.update(backfill=rec["backfill"], reused="backfilled")
    else:
        for p in (home, stage):
            shutil.rmtree(p, ignore_errors=True)
        bp.link_days(landing, [d for d in days if d < night], stage)
        log(f"[{label}] night {night}: bulk backfill of the days before it …")
        r["backfill"] = bp.child(
            "step_bulk_ingest",
            landing=str(stage),
            warehouse=str(home / "warehouse" / "kefu.duckdb"),
            archive=str(home / "archive"),
        )
        shutil.rmtree(stage, ignore_errors=True)
        if reuse:
            _keep(home, base, r)
    log(f"[{label}] night {night}: build as of {night - timedelta(days=1)} …")
    r["build_before"] = bp.child("step_build_day", home=str(home), day=str(night - timedelta(days=1)))
    if reuse:
        _keep(home, built, {**r, "project": r["build_before"].get("project", digest)})
    return r


def run(preset: str, out: Path, spec: str, log=print, reuse: bool = False, repeat: int = 1) -> dict:
    from benchmarks import bench_pipeline as bp

    out = out.resolve()
    landing = out / "data" / "landing"
    if not landing.is_dir():
        raise FileNotFoundError(
            f"{landing}: no exports; run `kefu generate --preset {preset} --out {out / 'data'}` "
            "or `kefu bench` once without --nights"
        )
    days = sorted(date.fromisoformat(p.name) for p in landing.iterdir() if p.is_dir())
    nights = parse_nights(spec, days)
    res: dict = {"preset": preset, "machine": bp.machine(), "nights": {}}
    for label, night in nights.items():
        home, stage = out / f"nights_home_{label}", out / "stage" / f"nights_{label}"
        r = prepare(bp, landing, days, night, home, stage, out, label, reuse or repeat > 1, log)
        runs = []
        for i in range(repeat):
            if i:
                _restore(out / f"nights_built_{label}", home)
            bp.link_days(landing, [night], home / "landing")
            (home / "dbt_target" / "run_results.json").unlink(missing_ok=True)
            runs.append(bp.child("step_night", home=str(home), day=str(night)))
            dbt_results = home / "dbt_target" / "run_results.json"
            if dbt_results.exists():  # DBT_WRITE_JSON=true in the environment: dbt's per-model timings
                runs[-1]["slowest_dbt_nodes"] = bp.slowest_nodes(dbt_results, n=25)
            log(
                f"[{preset}] night {label} ({night}) run {i + 1}/{repeat}: CPU {runs[-1]['cpu_seconds']:.1f} s — "
                + ", ".join(f"{n} {p['cpu_seconds']:.1f}" for n, p in runs[-1]["steps"].items())
            )
        # the night of the figures: the run of median CPU (the only run when repeat = 1)
        r["night"] = sorted(runs, key=lambda x: x["cpu_seconds"])[(len(runs) - 1) // 2]
        if repeat > 1:
            r["runs"] = runs
        res["nights"][label] = r
    res["figures"] = figures(res)
    return res


def figures(res: dict) -> dict:
    cpu = {k: v["night"]["cpu_seconds"] for k, v in res["nights"].items()}
    f: dict = {
        "night_cpu_seconds": cpu,
        "night_cpu_target": NIGHT_CPU_TARGET,
        "nights_meet_cpu_target": all(v <= NIGHT_CPU_TARGET for v in cpu.values()),
    }
    if "first" in cpu and "last" in cpu:
        f["last_over_first_cpu"] = cpu["last"] / cpu["first"]
        f["growth_meets_target"] = f["last_over_first_cpu"] <= GROWTH_TARGET
    return f


def main(preset: str, out: Path | None, spec: str, reuse: bool = False, repeat: int = 1) -> int:
    out = Path(out or Path("out") / "bench" / preset)
    res = run(preset, out, spec, reuse=reuse, repeat=repeat)
    target = out / f"bench_nights_{preset}.json"
    target.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    f = res["figures"]
    for label, r in res["nights"].items():
        print(f"night {label} {r['date']}: {r['night']['cpu_seconds']:.1f} CPU s (target ≤ {NIGHT_CPU_TARGET:.0f})")
    if "last_over_first_cpu" in f:
        print(f"last ÷ first: ×{f['last_over_first_cpu']:.2f} (target ≤ {GROWTH_TARGET})")
    print(f"written: {target}")
    return 0
