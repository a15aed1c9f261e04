"""Build the warehouse with dbt: regenerate the seeds that come from the rulebook
and the calendar, then run `dbt build` on the DuckDB file.

The rulebook (kefu/rulebook.yml) and the official working-day calendar reach dbt
as seeds under dbt_project/seeds/generated/. They are written here, before every
dbt run, so an edit of the rulebook is the only edit a threshold change needs;
the copies are committed as well (a test fails when they are stale) so that a
plain `dbt build` in dbt_project/ works too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from kefu import dbt_zygote, rulebook

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt_project"
GENERATED = DBT_DIR / "seeds" / "generated"
FIXTURES = DBT_DIR / "tests" / "fixtures"


def _csv(rows: list[list], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def seed_files() -> dict[str, str]:
    """File name -> CSV text of every generated seed."""
    measures, targets, limits, grains, needs, settings, optional = [], [], [], [], [], [], []
    for m in rulebook.load().values():
        measures.append(
            [
                m.id,
                m.rule,
                m.name_zh,
                m.name_en,
                m.source,
                m.kind,
                m.value,
                m.comparison or "",
                m.spec.get("pace", ""),
                m.spec.get("period", ""),
                m.same_as or "",
                m.wording,
            ]
        )
        if isinstance(m.target, dict):
            targets += [[m.id, k, v] for k, v in m.target.items()]
        elif m.target is not None:
            targets.append([m.id, "*", m.target])
        for key, lim in m.limits.items():
            seconds = int(lim.duration.total_seconds()) if lim.duration is not None else ""
            limits.append(
                [
                    m.id,
                    key,
                    str(lim.raw),
                    seconds,
                    "" if lim.working_days is None else lim.working_days,
                    "" if lim.count is None else lim.count,
                ]
            )
        grains += [[m.id, g] for g in m.grains]
        for key, value in m.settings.items():  # one row per value of a list setting (P1 counted_purposes)
            settings += [[m.id, key, str(v)] for v in (value if isinstance(value, list) else [value])]
        optional += [[m.id, *col.split(".", 1), note] for col, note in m.optional_reads.items()]
        for g in m.grains:  # the columns each grain needs (kpi_rule_measurability, D-90)
            needs += [[m.id, g, *r.split(".", 1)] for r in rulebook.needed_columns(m, g)]
    from kefu import contract

    scheme = rulebook.score_scheme()  # the score 考核得分 (D-135): scored measure x grain, and base / cap
    score_measures = [[mid, g, points] for g in scheme.grains for mid, points in scheme.measures(g).items()]
    tiers = [
        [t, "true" if rulebook.tier_group(t) == "vip" else "false", rulebook.tier_group(t), rulebook.brand_group(t)]
        for t in contract.entity("customers").column("tier").values
    ]
    entities = [[e.name, e.zh, e.kind, e.source] for e in contract.load().values()]
    first, last = _calendar_years()
    cal, d = [], date(first, 1, 1)
    while d <= date(last, 12, 31):
        cal.append([d.isoformat(), "true" if chinese_calendar.is_workday(d) else "false"])
        d += timedelta(days=1)
    return {
        "rulebook_measures.csv": _csv(
            measures,
            [
                "measure_id",
                "rule_id",
                "name_zh",
                "name_en",
                "source",
                "kind",
                "value_kind",
                "comparison",
                "pace",
                "period",
                "same_as",
                "wording",
            ],
        ),
        "rulebook_targets.csv": _csv(targets, ["measure_id", "target_key", "target"]),
        "rulebook_limits.csv": _csv(
            limits, ["measure_id", "limit_key", "limit_text", "limit_seconds", "limit_working_days", "limit_count"]
        ),
        "rulebook_grains.csv": _csv(grains, ["measure_id", "grain"]),
        "rulebook_needs.csv": _csv(needs, ["measure_id", "grain", "entity", "column_name"]),
        "rulebook_settings.csv": _csv(settings, ["measure_id", "setting", "setting_value"]),
        "rulebook_optional_reads.csv": _csv(optional, ["measure_id", "entity", "column_name", "note"]),
        "contract_entities.csv": _csv(entities, ["entity", "name_zh", "kind", "source"]),
        "rulebook_tiers.csv": _csv(tiers, ["tier", "is_vip", "tier_group", "brand_group"]),
        "rulebook_score_measures.csv": _csv(score_measures, ["measure_id", "grain", "deduction"]),
        "rulebook_score_settings.csv": _csv([[scheme.base, scheme.cap]], ["base", "cap"]),
        "rulebook_group_units.csv": _csv([list(u) for u in rulebook.group_units()], ["grain", "unit_id", "unit_name"]),
        "calendar_official.csv": _csv(cal, ["calendar_date", "is_workday"]),
    }


GENERATED_MACROS = DBT_DIR / "macros" / "generated"


def rulebook_lists() -> dict:
    """The rulebook's lists as dbt needs them while compiling (pivot columns are known before a
    seed is loaded): the judged measures of each family and grain, the company unit, the amber
    margin (D-145, D-146)."""
    return {
        "families": {f: rulebook.family_measures(f) for f in rulebook.families()},
        "grains": {g: rulebook.grain_measures(g) for g in rulebook.GRAINS},
        "ticket_clock": rulebook.ticket_clock_measures(),
        "company_unit": rulebook.company_unit(),
        "amber_margin": rulebook.amber_margin(),
    }


def macro_files() -> dict[str, str]:
    """File name -> text of every generated macro (macros/generated/)."""
    import json

    text = (
        "{#- Generated by kefu/build.py from kefu/rulebook.yml (families, grains, company_unit,\n"
        "    amber_margin): do not edit; `kefu build` rewrites it and a test fails when it is stale. -#}\n"
        "{% macro rulebook_lists() -%}\n"
        f"    {{{{ return({json.dumps(rulebook_lists(), ensure_ascii=False, sort_keys=True)}) }}}}\n"
        "{%- endmacro %}\n"
    )
    return {"rulebook_lists.sql": text}


def _calendar_years() -> tuple[int, int]:
    years = sorted({d.year for d in chinese_calendar.constants.holidays})
    return years[0], years[-1]


def write_seeds() -> list[Path]:
    GENERATED.mkdir(parents=True, exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    out = []
    files = {GENERATED / name: text for name, text in seed_files().items()}
    # dbt unit tests of models whose macros read the tier seed take this exact copy as their fixture
    files[FIXTURES / "rulebook_tiers.csv"] = files[GENERATED / "rulebook_tiers.csv"]
    GENERATED_MACROS.mkdir(parents=True, exist_ok=True)
    files |= {GENERATED_MACROS / name: text for name, text in macro_files().items()}
    for p, text in files.items():
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
        out.append(p)
    return out


def project_digest() -> str:
    """What a build runs: every file of the dbt project (models, macros, seeds, configs, docs) with
    the seeds as the rulebook and calendar generate them now. A warehouse records the digest it was
    built with; when the code or the rulebook changed since, its incremental models hold rows
    judged by the old definitions (or of another shape), so the next build is a full refresh
    (D-70)."""
    h = hashlib.sha256()
    for p in sorted(DBT_DIR.rglob("*")):
        rel = p.relative_to(DBT_DIR)
        if (
            p.is_file()
            and p.suffix in (".sql", ".yml", ".csv", ".md")
            and GENERATED not in p.parents
            and rel.parts[0] not in ("target", "dbt_packages", "logs")
        ):
            h.update(f"{rel}\0".encode())
            h.update(p.read_bytes())
    for name, text in sorted(seed_files().items()):
        h.update(f"seeds/generated/{name}\0{text}".encode())
    return h.hexdigest()


# DuckDB names a file's catalog after its stem: a file called raw.duckdb would make "raw" both a
# catalog and a schema, and every query on schema raw ambiguous.
SCHEMAS = ("raw", "audit", "staging", "intermediate", "util", "marts", "rulebook", "main")


def check_warehouse_path(warehouse: Path) -> None:
    stem = Path(warehouse).stem.lower()
    if stem in SCHEMAS:
        raise ValueError(
            f"warehouse file {warehouse}: the name {stem!r} is also a schema of the warehouse; "
            f"choose another file name (e.g. kefu.duckdb)"
        )


# dbt.log at dbt's info level: what ran, how long, what failed and why, without dbt's debug lines (every
# statement, connection and cache event: 1.8 of a build's 1.9 MB and 1.6 of its 23 CPU s, D-221).
# DBT_LOG_LEVEL_FILE=debug in the environment brings them back.
DBT_FILE_LOG_LEVEL = "info"


def dbt_env(warehouse: Path) -> dict[str, str]:
    """Environment for dbt: the absolute warehouse path, the project's profile, the level of dbt.log."""
    check_warehouse_path(warehouse)
    return {
        "KEFU_WAREHOUSE": str(Path(warehouse).resolve()),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", DBT_FILE_LOG_LEVEL),
    }


RUN_VARS = ("as_of_date", "history_as_of")  # macros/run_vars.sql: read as env vars KEFU_<NAME>


def run_dbt(
    args: list[str],
    warehouse: Path,
    target_path: Path | None = None,
    run_vars: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run a dbt command against the warehouse in a child process; return its output.

    A child process, not dbt's in-process runner: dbt-duckdb keeps its connection
    open for the life of the process, which would lock the DuckDB file against the
    read-only readers (tests, expectations, dashboards) that come after a build.
    On failure, raise with the lines of dbt's output that name what failed. extra_env: more
    environment for the child (the Spark target's master URL, kefu/spark.py).
    """
    res = _run_dbt_child([args], warehouse, target_path, run_vars, extra_env)
    return res.stdout + res.stderr


def run_dbt_commands(
    commands: list[list[str]],
    warehouse: Path,
    target_path: Path | None = None,
    run_vars: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> list[float]:
    """Run several dbt commands one after the other in ONE child process (dbt's programmatic runner,
    kefu/dbt_commands.py); return each command's seconds. They share what dbt's adapter keeps for the
    life of a process: the Spark target's session (one JVM start, and the tables the first command
    registers are in the session's catalog for the next, D-215), and the later commands reuse the
    first one's parse. A child process, the same environment and the same errors as run_dbt."""
    res = _run_dbt_child(commands, warehouse, target_path, run_vars, extra_env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _dbt_paths(target_path: Path | None) -> list[str]:
    paths = ["--project-dir", str(DBT_DIR)]
    if target_path is not None:
        paths += ["--target-path", str(target_path), "--log-path", str(Path(target_path) / "logs")]
    return paths


DBT_CHILD = "kefu.dbt_commands"  # the module every dbt child process runs (python -m)

# One parse of the project for every target folder (D-217): dbt's own partial-parse file, kept per
# profile target and warehouse file name (DuckDB's catalog name) beside the project's default target.
PARSE_CACHE = DBT_DIR / "target" / "parse_cache"
PARSE_FILE = "partial_parse.msgpack"


def _parse_key(commands: list[list[str]], warehouse: Path) -> str:
    args = commands[0]
    target = args[args.index("--target") + 1] if "--target" in args[:-1] else "default"
    return f"{target}.{Path(warehouse).stem}"


def _seed_parse(target_path: Path | None, key: str) -> None:
    """A target folder without dbt's parse starts from the project's last one (dbt re-parses what
    changed since, or all of it when its own checks fail: nothing is trusted that dbt would not)."""
    if target_path is None or (Path(target_path) / PARSE_FILE).exists() or not (PARSE_CACHE / key).exists():
        return
    Path(target_path).mkdir(parents=True, exist_ok=True)
    _copy_atomically(PARSE_CACHE / key, Path(target_path) / PARSE_FILE)


def _keep_parse(target_path: Path | None, key: str) -> None:
    """After a run that succeeded: its parse becomes the project's last one when dbt wrote it anew."""
    if target_path is None or not (made := Path(target_path) / PARSE_FILE).exists():
        return
    kept = PARSE_CACHE / key
    if kept.exists() and kept.stat().st_mtime >= made.stat().st_mtime:
        return
    try:
        PARSE_CACHE.mkdir(parents=True, exist_ok=True)
        _copy_atomically(made, kept)
    except OSError:  # a read-only installation: every target folder parses for itself, as dbt does
        pass


def _copy_atomically(src: Path, dst: Path) -> None:
    """Copied beside dst and renamed over it: a concurrent dbt run (another test worker, another
    home's night) reads the old file or the new one, never half of one; the copy keeps src's mtime."""
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.")
    os.close(fd)
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _run_dbt_child(
    commands: list[list[str]],
    warehouse: Path,
    target_path: Path | None,
    run_vars: dict[str, str] | None,
    extra_env: dict[str, str] | None,
) -> subprocess.CompletedProcess[str]:
    """run_dbt's and run_dbt_commands' child (kefu/dbt_commands.py): seeds written, the warehouse's
    environment, the run vars pinned, dbt's parse shared between target folders (D-217), dying with
    its parent; on failure an error with the lines of dbt's output that name what failed."""
    write_seeds()
    env = {**os.environ, **dbt_env(warehouse), **(extra_env or {})}
    for name in RUN_VARS:  # never inherit a pin from the caller's environment by accident
        env["KEFU_" + name.upper()] = (run_vars or {}).get(name, "")
    paths = _dbt_paths(target_path)
    key = _parse_key(commands, warehouse)
    _seed_parse(target_path, key)
    # -m, not -c: pyspark (installed with the spark extra) exits a `python -c` process on import
    argv = [[*c, *paths] for c in commands]
    res = dbt_zygote.run(argv, env)  # a warm start, when the environment names a zygote (D-222)
    if res is None:
        cmd = [sys.executable, "-m", DBT_CHILD, json.dumps(argv)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, preexec_fn=dbt_zygote.die_with_parent)
    out = res.stdout + res.stderr
    if res.returncode != 0:
        what = " then ".join(f"dbt {' '.join(c if len(commands) == 1 else c[:2])}" for c in commands)
        wanted = [ln for ln in out.splitlines() if any(w in ln for w in ("Error", "ERROR", "FAIL", "Failure", "error"))]
        raise RuntimeError(f"{what} failed (exit {res.returncode}):\n" + "\n".join((wanted or out.splitlines())[-40:]))
    _keep_parse(target_path, key)
    return res


WRITE_JSON_ENV = "DBT_WRITE_JSON"


def build(
    warehouse: Path,
    select: str | None = None,
    target_path: Path | None = None,
    full_refresh: bool = False,
    exclude: str | None = None,
    vars: dict[str, str] | None = None,
) -> None:
    """`dbt build`; incremental models (D-70) add the new exports unless full_refresh rebuilds them.

    vars: as_of_date / history_as_of (the pipeline pins a run to its business date); passed as
    env vars (macros/run_vars.sql) so that dbt's partial parsing survives a new date."""
    args = ["build", "--quiet"] + (["--select", select] if select else []) + (["--exclude", exclude] if exclude else [])
    if full_refresh:
        args.append("--full-refresh")
    _check_vars(vars)
    run_dbt(args, warehouse, target_path, run_vars=vars, extra_env=_no_json())


def _check_vars(vars: dict[str, str] | None) -> None:
    unknown = set(vars or {}) - set(RUN_VARS)
    if unknown:
        raise ValueError(f"unknown run vars {sorted(unknown)}; known: {RUN_VARS}")


def _no_json() -> dict[str, str]:
    # dbt's JSON artifacts (manifest.json twice, semantic_manifest.json, run_results.json) cost ~0.9 CPU s
    # a build and nothing reads them; partial parsing keeps its own file. DBT_WRITE_JSON=true to keep them
    # (benchmarks/build_measure.py does, for dbt's per-model timings); docs/decisions.md D-172
    return {} if WRITE_JSON_ENV in os.environ else {WRITE_JSON_ENV: "false"}


def data_tests(
    warehouse: Path,
    target_path: Path | None = None,
    exclude: str | None = None,
    vars: dict[str, str] | None = None,
) -> None:
    """`dbt test`: the data tests over the models as they are built, nothing rebuilt (a month closed on
    the published copy of its last night, docs/decisions.md D-175). vars as in build()."""
    _check_vars(vars)
    args = ["test", "--quiet"] + (["--exclude", exclude] if exclude else [])
    run_dbt(args, warehouse, target_path, run_vars=vars, extra_env=_no_json())
