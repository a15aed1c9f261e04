"""Run the Great Expectations suites of expectations/suites/ against the warehouse.

Each suite's `meta.kefu.query` is read through a read-only DuckDB connection into a pandas
DataFrame and validated with GX's pandas datasource (GX 1.x cannot validate DuckDB through
SQLAlchemy: duckdb-engine returns no rows). Every run writes GX Data Docs (index.html) to the
folder it is given.

    gates.run_contract_gate(warehouse, day, docs_dir)           blocking data-contract suites
    gates.run_threshold_suites(warehouse, months, docs_dir)     rulebook thresholds -> breaches
    gates.record_breaches(warehouse, run_id, day, breaches)     audit.kpi_breaches

    python -m expectations.gates --warehouse F --date D [--docs DIR]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SUITES_DIR = Path(__file__).with_name("suites")
BREACH_COLUMNS = ["rule_id", "measure_id", "period_month", "grain", "unit_id", "value", "threshold", "comparison"]
SHOWN = 5  # unexpected values quoted per failed expectation


@dataclass
class Failure:
    suite: str
    table: str
    expectation: str
    kwargs: dict
    observed: str

    def text(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"[{self.suite}] {self.table}: {self.expectation}({args}) — {self.observed}"


@dataclass
class GateResult:
    success: bool
    evaluated: int
    docs_index: Path | None
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def message(self) -> str:
        """One line per failed expectation: suite, table, expectation type + kwargs, what was observed."""
        if self.success:
            return f"all {self.evaluated} expectations passed"
        head = f"{len(self.failures)} of {self.evaluated} expectations failed"
        tail = [f"Data Docs: {self.docs_index}"] if self.docs_index else []
        return "\n".join([head] + [f.text() for f in self.failures] + tail)


def load_suites(gate: str, directory: Path = SUITES_DIR) -> list[dict]:
    suites = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    return [s for s in suites if s["meta"]["kefu"]["gate"] == gate]


def _params(sql: str, values: dict) -> dict:
    return {k: values[k] for k in dict.fromkeys(re.findall(r"\$(\w+)", sql))}


def _query(con: duckdb.DuckDBPyConnection, sql: str, values: dict) -> pd.DataFrame:
    return con.execute(sql, _params(sql, values)).df()


# what GX imports when it is installed, for its Spark and SQL data sources; the gates validate pandas
# DataFrames (D-205)
NOT_FOR_GX = ("pyspark", "sqlalchemy")
# what GX imports at import time for expectations and charts the suites do not use (scipy.stats: the
# KL-divergence and KS-test expectations; altair: their plots): loaded on first use instead (D-220)
ON_FIRST_USE = ("scipy.stats", "altair")


class _LoadedOnFirstUse(types.ModuleType):
    """Stands in sys.modules for a module until an attribute of it is asked for; then the module is
    imported as usual and the attribute comes from it (the stand-in leaves sys.modules first, so
    every later `import` gets the real module). Its __spec__ is the real module's, which is all the
    import system reads from a module it finds in sys.modules."""

    def __getattr__(self, attr: str):
        name = self.__spec__.name
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)


def _stand_in(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is not None:
        module = _LoadedOnFirstUse(name)
        module.__spec__ = spec
        sys.modules[name] = module


def _import_gx():
    """great_expectations, imported without pyspark and SQLAlchemy unless the process has loaded them
    already (an Airflow task has SQLAlchemy): GX then takes them for not installed (D-205). Later
    imports of them in this process work as usual. scipy.stats and altair are loaded only if
    something uses them (D-220)."""
    if "great_expectations" not in sys.modules:
        hidden = [m for m in NOT_FOR_GX if m not in sys.modules]
        sys.modules.update(dict.fromkeys(hidden))  # None in sys.modules: `import m` raises ImportError
        try:
            for name in ON_FIRST_USE:
                _stand_in(name)
            import great_expectations  # noqa: F401
        finally:
            for m in hidden:
                if m in sys.modules and sys.modules[m] is None:
                    del sys.modules[m]
    return sys.modules["great_expectations"]


def _context(docs_dir: Path | None):
    gx = _import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["kefu"] = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(docs_dir).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _plain(v):
    """numpy scalars and containers of them as plain Python values (for messages)."""
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v.item() if hasattr(v, "item") else v


def _short(v):
    """A kwarg for a message: long lists cut to their first values."""
    if isinstance(v, dict):
        return {k: _short(x) for k, x in v.items()}
    if isinstance(v, list) and len(v) > SHOWN:
        return [*v[:SHOWN], f"… {len(v)} values"]
    return v


def _observed(res, row_id: list[str]) -> str:
    r = _plain(res.result or {})
    exc = res.exception_info or {}
    if exc.get("raised_exception"):
        return f"error: {exc.get('exception_message')}"
    if "unexpected_count" in r:
        values = list(dict.fromkeys(map(repr, r.get("partial_unexpected_list") or [])))[:SHOWN]
        rows = [
            "/".join(f"{k}={row[k]}" for k in row_id if k in row)
            for row in (r.get("partial_unexpected_index_list") or [])[:SHOWN]
            if isinstance(row, dict)
        ]
        return f"{r['unexpected_count']} of {r.get('element_count')} rows unexpected: {', '.join(values)}" + (
            f" (rows {'; '.join(rows)})" if any(rows) else ""
        )
    if r.get("missing_count"):
        return "missing: " + ", ".join(map(repr, r.get("partial_missing_list") or []))
    return f"observed {r.get('observed_value')!r}"


def _validate(ctx, spec: dict, source, frame: pd.DataFrame, params: dict, detail: dict, cheap_first: bool = True):
    """One suite over one DataFrame, in two passes: every expectation with result format
    BOOLEAN_ONLY (the cheap pass: no unexpected values or rows are collected), then only the
    expectations that failed again with `detail`, whose results replace theirs, in the validation
    result and in the context's store that Data Docs are built from (D-190). cheap_first=False: one
    pass with `detail` (the threshold suites, where a third of the expectations fail, D-206)."""
    gx = _import_gx()
    from great_expectations.validator.v1_validator import Validator

    suite = ctx.suites.add(gx.ExpectationSuite(**spec))
    batch = source.add_dataframe_asset(spec["name"]).add_batch_definition_whole_dataframe("whole table")
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=spec["name"], data=batch, suite=suite))
    store = ctx.validation_results_store
    keys = set(store.list_keys())
    result = vd.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=params,
        result_format={"result_format": "BOOLEAN_ONLY"} if cheap_first else detail,
    )
    if not cheap_first:
        return result
    failed = {r.expectation_config.id: i for i, r in enumerate(result.results) if not r.success}
    if failed:
        again = Validator(batch, result_format=detail, batch_parameters={"dataframe": frame})
        for e in suite.expectations:
            if e.id in failed:
                result.results[failed[e.id]] = again.validate_expectation(e, params)
        for key in set(store.list_keys()) - keys:
            store.set(key, result)
    return result


def run_suites(
    warehouse: Path,
    gate: str,
    values: dict,
    docs_dir: Path | None,
    result_format: str = "SUMMARY",
    cheap_first: bool = True,
) -> tuple[GateResult, list[tuple[dict, Any]]]:  # Any: a GX validation result
    """Validate every suite of a gate; return the result and (suite JSON, GX validation result) pairs.
    A failed expectation's result has `result_format` (its unexpected values and rows); a passed
    one's is BOOLEAN_ONLY, or `result_format` too when cheap_first is False (see _validate)."""
    t0 = time.monotonic()
    if docs_dir is not None:
        Path(docs_dir).mkdir(parents=True, exist_ok=True)
    ctx = _context(docs_dir)
    source = ctx.data_sources.add_pandas("warehouse")
    con = duckdb.connect(str(warehouse), read_only=True)
    runs = []
    try:
        for spec in load_suites(gate):
            meta = spec["meta"]["kefu"]
            frame = _query(con, meta["query"], values)
            params = {
                name: _query(con, sql, values).iloc[:, 0].tolist() for name, sql in meta.get("parameters", {}).items()
            }
            fmt = {"result_format": result_format, "unexpected_index_column_names": meta["row_id"]}
            runs.append((spec, _validate(ctx, spec, source, frame, params, fmt, cheap_first)))
    finally:
        con.close()
    failures = [
        Failure(
            spec["name"],
            spec["meta"]["kefu"]["table"],
            r.expectation_config.type,
            {k: _short(v) for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            _observed(r, spec["meta"]["kefu"]["row_id"]),
        )
        for spec, result in runs
        for r in result.results
        if not r.success
    ]
    index = None
    if docs_dir is not None:
        ctx.build_data_docs(site_names=["kefu"])
        index = Path(docs_dir).resolve() / "index.html"
    evaluated = sum(len(result.results) for _, result in runs)
    return GateResult(not failures, evaluated, index, failures, round(time.monotonic() - t0, 2)), runs


def run_contract_gate(warehouse: Path, day: date, docs_dir: Path | None) -> GateResult:
    """The blocking data-contract suites over the warehouse after the build of business date `day`."""
    values = {
        "day": day,
        "month": day.strftime("%Y-%m"),
        "previous_month": (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
    }
    return run_suites(warehouse, "contract", values, docs_dir)[0]


def run_threshold_suites(warehouse: Path, months: list[str], docs_dir: Path | None) -> tuple[GateResult, pd.DataFrame]:
    """The threshold suites over kpi_rule_results of `months`: every unit x month the mart failed
    (passed = false, D-151) becomes a row of the returned breaches, with the value, threshold and
    comparison the mart judged it by (not a failure of the run)."""
    res, runs = run_suites(
        warehouse, "thresholds", {"months": list(months)}, docs_dir, result_format="COMPLETE", cheap_first=False
    )
    rows = []
    for _, result in runs:
        for r in result.results:
            meta = r.expectation_config.meta or {}
            if r.success or "measure_id" not in meta:
                continue
            for row in r.result.get("unexpected_index_list") or []:
                rows.append(
                    {
                        **{k: row[k] for k in ("period_month", "grain", "unit_id")},
                        "value": float(row["value"]),
                        "rule_id": meta["rule_id"],
                        "measure_id": meta["measure_id"],
                        "threshold": float(row["threshold"]),
                        "comparison": row["comparison"],
                    }
                )
    breaches = pd.DataFrame(rows, columns=BREACH_COLUMNS).sort_values(
        ["measure_id", "period_month", "grain", "unit_id"], ignore_index=True
    )
    return res, breaches


BREACHES_DDL = """
CREATE TABLE IF NOT EXISTS audit.kpi_breaches (
    business_date DATE,        -- the nightly run that recorded the breach
    run_id VARCHAR,
    recorded_at TIMESTAMP,
    rule_id VARCHAR,           -- catalogue rule (H2)
    measure_id VARCHAR,        -- measure of kpi_rule_results (H2.1)
    period_month VARCHAR,
    grain VARCHAR,
    unit_id VARCHAR,
    value DOUBLE,
    threshold DOUBLE,
    comparison VARCHAR         -- the rulebook comparison the value failed (value >= threshold ...)
)"""


def record_breaches(warehouse: Path, run_id: str, day: date, breaches: pd.DataFrame) -> int:
    """Replace business date `day`'s rows of audit.kpi_breaches by `breaches` (a rerun replaces them)."""
    rows = breaches[BREACH_COLUMNS].assign(business_date=day, run_id=run_id, recorded_at=datetime.now())
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        con.execute(BREACHES_DDL)
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM audit.kpi_breaches WHERE business_date = ?", [day])
        con.register("new_breaches", rows)
        con.execute("INSERT INTO audit.kpi_breaches BY NAME SELECT * FROM new_breaches")
        con.execute("COMMIT")
    finally:
        con.close()
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m expectations.gates",
        description="Run the data-contract gate (and the threshold suites) on a warehouse.",
    )
    ap.add_argument("--warehouse", required=True, type=Path)
    ap.add_argument("--date", required=True, type=date.fromisoformat, help="business date YYYY-MM-DD")
    ap.add_argument("--docs", type=Path, help="Data Docs folder (default: a temporary folder)")
    ap.add_argument(
        "--thresholds", action="store_true", help="also run the threshold suites (D's month and the one before)"
    )
    args = ap.parse_args(argv)
    docs = args.docs or Path(tempfile.mkdtemp(prefix="kefu_data_docs_"))
    res = run_contract_gate(args.warehouse, args.date, docs / "contract")
    print(f"data contract gate {'passed' if res.success else 'FAILED'} in {res.seconds} s: {res.message()}")
    print(f"Data Docs: {res.docs_index}")
    if args.thresholds:
        months = sorted({args.date.strftime("%Y-%m"), (args.date.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")})
        tres, breaches = run_threshold_suites(args.warehouse, months, docs / "thresholds")
        print(
            f"thresholds {', '.join(months)}: {len(breaches)} breaches in {tres.seconds} s "
            f"({tres.evaluated} expectations); Data Docs: {tres.docs_index}"
        )
        if len(breaches):
            print(breaches.groupby("measure_id").size().sort_values(ascending=False).head(10).to_string())
    return 0 if res.success else 1


if __name__ == "__main__":
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    sys.exit(main())
