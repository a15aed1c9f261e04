"""Generate the Great Expectations suites (expectations/suites/*.json) from the data contract
(kefu/contract.yml) and the rulebook (kefu/rulebook.yml). Nothing in a suite is typed by hand:
keys, enums, required columns, reference lists, measures and thresholds all come from there.

    python -m expectations.generate          # rewrite the suites that changed
    python -m expectations.generate --check  # exit 1 when a committed suite is stale

Every suite is a GX ExpectationSuite in JSON. Its `meta.kefu` says which data it judges:
`query` (DuckDB SQL over the warehouse, with the run's parameters $day, $month, $months),
`gate` (contract = blocking, thresholds = recorded) and `row_id` (the columns that name an
unexpected row in messages and breaches). expectations/gates.py runs the query read-only,
validates the DataFrame with GX's pandas datasource and builds Data Docs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from kefu import contract, rulebook

SUITES_DIR = Path(__file__).with_name("suites")

# Entities whose export must hold rows every business date (an empty export fails the gate).
DAILY_ENTITIES = ("tickets", "calls")

# The master lists every row that names a district or technician must point into. Customers are
# not one of them: the CRM's customer list can arrive after the ticket, call or callback that
# first names a customer (the demo has project callbacks days before the customer's record).
REFERENCE_LISTS = ("districts", "technicians")

# Columns that name a row of kpi_rule_results (its unique key).
KPI_KEY = ["measure_id", "period_month", "grain", "unit_id"]


def _sql(text: str) -> str:
    return " ".join(text.split())


def _suite(
    name: str,
    gate: str,
    table: str,
    query: str,
    row_id: list[str],
    doc: str,
    expectations: list[gxe.Expectation],
    parameters: dict[str, str] | None = None,
) -> dict:
    kefu = {"gate": gate, "table": table, "query": _sql(query), "row_id": row_id, "doc": doc}
    if parameters:
        kefu["parameters"] = {k: _sql(v) for k, v in parameters.items()}
    suite = gx.ExpectationSuite(name=name, expectations=expectations, meta={"kefu": kefu})
    data = suite.to_json_dict()
    data.pop("id", None)
    data["meta"].pop("great_expectations_version", None)  # a GX upgrade alone does not make a suite stale
    for e in data["expectations"]:
        e.pop("id", None)
    return data


def stored_names(col: contract.Column) -> list[str]:
    """The staged column(s) of a contract column: personal data is stored as hash + masked form."""
    return [f"{col.name}_hash", f"{col.name}_masked"] if col.pii else [col.name]


def references(ent: contract.Entity) -> dict[str, contract.Entity]:
    """Column -> the reference list it must exist in: a column named like the identifier of a
    reference list (the list's key less its date parts: districts.district_id,
    technicians.technician_id)."""
    ids = {
        next(c.name for c in ref.columns if c.key and c.type not in ("date", "month")): ref
        for ref in map(contract.entity, REFERENCE_LISTS)
    }
    return {c.name: ids[c.name] for c in ent.columns if c.name in ids and ids[c.name].name != ent.name}


def staging_suite(ent: contract.Entity) -> dict:
    table = f"staging.stg_{ent.name}"
    refs = references(ent)
    unknown = {
        col: f"t.{col} is not null and not exists (select 1 from staging.stg_{ref.name} r where r.{col} = t.{col})"
        for col, ref in refs.items()
    }
    derived = "".join(f", case when {cond} then t.{col} end as unknown_{col}" for col, cond in unknown.items())
    # Every row is validated on the night it arrives: an event table's rows of the business date;
    # a reference list's rows (re-)exported that date, plus any older row a newer list orphans
    # (its district deleted). The whole list is 8 M customers at province scale (docs/benchmarks.md).
    daily = ent.kind == "event"
    where = " or ".join(["t.export_date = $day"] + ([] if daily else [f"({c})" for c in unknown.values()]))
    # A rule input an export lacked loads as NULL (D-90): its not-null check holds for the rows of
    # exports that have the column; audit.source_columns says which file lacked which column.
    inputs = [c for c in ent.columns if c.required and not c.identity]
    derived += "".join(
        f", case when t.{stored_names(c)[0]} is null and coalesce(a.absent, '') not like "
        f"'%|{c.name}|%' then true end as unexplained_null_{stored_names(c)[0]}"
        for c in inputs
    )
    absent = (
        "select file_id, '|' || string_agg(column_name, '|') || '|' as absent from audit.source_columns "
        f"where entity = '{ent.name}' and not present group by file_id"
    )
    join = f" left join ({absent}) a on a.file_id = t.file_id" if inputs else ""
    query = f"select t.*{derived} from {table} t{join} where {where}"
    ex: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[n for c in ent.columns for n in stored_names(c)],
            exact_match=False,
            description="every contract column is staged (personal data as _hash and _masked)",
        )
    ]
    if ent.name in DAILY_ENTITIES:
        ex.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=1, description=f"the business date's {ent.name} export is not empty"
            )
        )
    ex += [
        gxe.ExpectColumnValuesToNotBeNull(column=n)
        for c in ent.columns
        if c.required and c.identity
        for n in stored_names(c)[:1]
    ]
    ex += [
        gxe.ExpectColumnValuesToBeNull(
            column=f"unexplained_null_{stored_names(c)[0]}",
            description=f"{ent.name}.{c.name} has a value wherever the export has the column (D-90)",
        )
        for c in inputs
    ]
    ex.append(
        gxe.ExpectColumnValuesToBeUnique(column=ent.key[0])
        if len(ent.key) == 1
        else gxe.ExpectCompoundColumnsToBeUnique(column_list=ent.key)
    )
    ex += [
        gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.values))
        for c in ent.columns
        if c.type == "enum"
    ]
    ex += [
        gxe.ExpectColumnValuesToBeNull(
            column=f"unknown_{col}", description=f"{ent.name}.{col} exists in the reference list {ref.name}"
        )
        for col, ref in refs.items()
    ]
    scope = (
        "the rows exported on the business date"
        if daily
        else "the rows exported on the business date and every row pointing at a missing reference"
    )
    return _suite(
        f"contract.stg_{ent.name}",
        "contract",
        table,
        query,
        ent.key,
        f"{ent.zh} ({ent.name}), {scope}: contract columns, key, enums, required columns, references",
        ex,
    )


def load_log_suite() -> dict:
    query = (
        "select file_id, file_name, entity, export_date, rows_read, rows_loaded, rows_quarantined, "
        "rows_loaded + rows_quarantined as rows_loaded_or_quarantined from audit.load_log "
        "where status = 'loaded'"
    )
    ex = [
        gxe.ExpectColumnValuesToNotBeNull(column=c)
        for c in ("file_id", "entity", "export_date", "rows_read", "rows_loaded", "rows_quarantined")
    ]
    ex += [
        gxe.ExpectColumnValuesToBeUnique(column="file_id"),
        gxe.ExpectColumnValuesToBeInSet(column="entity", value_set=list(contract.load())),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="rows_read",
            column_B="rows_loaded_or_quarantined",
            description="every row read was loaded or quarantined",
        ),
    ]
    return _suite(
        "contract.audit_load_log",
        "contract",
        "audit.load_log",
        query,
        ["file_id", "file_name"],
        "audit.load_log, every loaded file: rows read = rows loaded + rows quarantined",
        ex,
    )


def kpi_suite() -> dict:
    measures = [m for m in rulebook.load().values() if m.grains]
    rates = [m.id for m in measures if m.value == "rate"]
    is_rate = Column("measure_id").is_in(rates)
    query = "select * from marts.kpi_rule_results where period_month = $month"
    ex: list[gxe.Expectation] = [
        gxe.ExpectColumnValuesToNotBeNull(column=c) for c in KPI_KEY + ["numerator", "denominator", "value"]
    ]
    ex += [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KPI_KEY),
        gxe.ExpectColumnValuesToBeInSet(column="measure_id", value_set=[m.id for m in measures]),
        gxe.ExpectColumnValuesToBeInSet(column="grain", value_set=list(rulebook.GRAINS)),
        gxe.ExpectColumnValuesToBeBetween(column="denominator", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="numerator", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="denominator",
            column_B="numerator",
            or_equal=True,
            row_condition=is_rate,
            description="rate measures: numerator <= denominator",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value",
            min_value=0,
            max_value=1,
            row_condition=is_rate,
            description="rate measures: value between 0 and 1",
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="measure_id",
            value_set={"$PARAMETER": "measures_due"},
            description="a month that ended holds every measure judged the month before (quarter-end "
            "measures at quarter ends): no rule silently vanishes",
        ),
    ]
    # An open month cannot be asked for every measure (on the 1st most have nothing to judge yet);
    # once it has ended it must hold every measure the month before held, and the quarter-end
    # measures at quarter ends; but not a measure the month's exports cannot measure at any grain
    # (kpi_rule_measurability, D-90).
    quarterly = [m.id for m in measures if str(m.spec.get("period", "")).startswith("quarter end")]
    due = f"""select measure_id from (
                  select measure_id from marts.kpi_rule_results
                  where period_month = $previous_month and not list_contains({quarterly}, measure_id)
                  union select unnest({quarterly}) as measure_id where month(cast($day as date)) % 3 = 0)
              where cast($day as date) = last_day(cast($day as date))
                  and measure_id not in (select measure_id from marts.kpi_rule_measurability
                                      where period_month = strftime(cast($day as date), '%Y-%m')
                                      group by measure_id having bool_and(not measurable))
              order by measure_id"""
    return _suite(
        "contract.kpi_rule_results",
        "contract",
        "marts.kpi_rule_results",
        query,
        KPI_KEY,
        "marts.kpi_rule_results, the business date's month: key, rulebook measures and grains, "
        "rates within 0..1; at month end every measure of the month before is present",
        ex,
        parameters={"measures_due": due},
    )


# Columns that name a row of a threshold suite's unexpected rows: the key and the verdict's figures
# (a breach records them as the mart decided them).
VERDICT_ROW_ID = KPI_KEY + ["value", "threshold", "comparison", "status"]


def threshold_expectations(m: rulebook.Measure) -> list[gxe.Expectation]:
    """The mart's verdict on every row of the measure, read, not re-decided (D-151): a row the mart
    failed (passed = false) is a breach."""
    meta = {"rule_id": m.rule, "measure_id": m.id, "comparison": m.comparison}
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="passed",
            value_set=[True],
            row_condition=Column("measure_id") == m.id,
            description=f"{m.id} {m.name_zh}: the mart's verdict is passed (value {m.comparison} threshold)",
            meta=meta,
        )
    ]


def verdict_expectations(measures: list[rulebook.Measure]) -> list[gxe.Expectation]:
    """Every judged row was judged by its measure's rulebook comparison, has a threshold and a
    verdict, and its status colour agrees with the verdict. One expectation per check over all the
    family's rows, not one per measure (D-191): the query's `measure_comparison` is the row's
    measure and comparison, which must be one of the rulebook's pairs."""
    verdict = {"check": "verdict"}
    return (
        [
            gxe.ExpectColumnValuesToBeInSet(
                column="measure_comparison",
                value_set=[f"{m.id} {m.comparison}" for m in measures],
                meta=verdict,
                description="each measure is judged by the rulebook's comparison "
                + ", ".join(f"{m.id} {m.comparison}" for m in measures),
            )
        ]
        + [
            gxe.ExpectColumnValuesToNotBeNull(column=c, meta=verdict, description=f"every judged row has a {c}")
            for c in ("threshold", "passed", "status")
        ]
        + [
            gxe.ExpectColumnValuesToBeInSet(
                column="status",
                value_set=colours,
                row_condition=Column("passed") == passed,
                meta=verdict,
                description=f"status agrees with the verdict: a {'passed' if passed else 'failed'} row is "
                + " or ".join(colours),
            )
            for passed, colours in ((True, ["green"]), (False, ["amber", "red"]))
        ]
    )


def threshold_suites() -> list[dict]:
    """One suite per rule family (rulebook `families:`) with a judged measure."""
    out = []
    for family in rulebook.families():
        measures = [rulebook.load()[i] for i in rulebook.family_measures(family)]
        if not measures:
            continue
        ids = ", ".join(f"'{m.id}'" for m in measures)
        query = (
            "select measure_id, period_month, grain, unit_id, value, threshold, comparison, passed, status, "
            "measure_id || ' ' || comparison as measure_comparison from marts.kpi_rule_results "
            f"where list_contains($months, period_month) and measure_id in ({ids})"
        )
        ex = [e for m in measures for e in threshold_expectations(m)] + verdict_expectations(measures)
        out.append(
            _suite(
                f"thresholds.{family}",
                "thresholds",
                "marts.kpi_rule_results",
                query,
                VERDICT_ROW_ID,
                f"rules {family}* ({', '.join(m.id for m in measures)}): every unit's verdict as "
                "kpi_rule_results decided it, for the run's months (a failed row is a breach)",
                ex,
            )
        )
    return out


def suites() -> dict[str, dict]:
    """Suite name -> ExpectationSuite JSON dict."""
    all_ = [staging_suite(e) for e in contract.load().values()] + [load_log_suite(), kpi_suite()]
    all_ += threshold_suites()
    return {s["name"]: s for s in all_}


def render(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def stale(directory: Path = SUITES_DIR) -> list[str]:
    """Suite files that differ from what the contract and the rulebook generate (or should not exist)."""
    want = {f"{name}.json": render(s) for name, s in suites().items()}
    have = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    return sorted(
        {
            n
            for n, text in want.items()
            if not (directory / n).exists() or (directory / n).read_text(encoding="utf-8") != text
        }
        | (have - set(want))
    )


def write(directory: Path = SUITES_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    want = {f"{name}.json": render(s) for name, s in suites().items()}
    for p in directory.glob("*.json"):
        if p.name not in want:
            p.unlink()
    changed = []
    for n, text in want.items():
        p = directory / n
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
            changed.append(p)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m expectations.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a committed suite is stale")
    args = ap.parse_args(argv)
    if args.check:
        names = stale()
        print("stale suites: " + ", ".join(names) if names else "suites are up to date")
        return 1 if names else 0
    changed = write()
    print(f"{len(changed)} suite file(s) written to {SUITES_DIR}" if changed else "suites are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
