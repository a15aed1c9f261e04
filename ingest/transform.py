"""The SQL that turns a staged file (all text) into typed, checked rows — all inside DuckDB.

`stg` holds the file as read by read_csv(all_varchar): columns c0..cN in header
order (XLSX: plus `_row`). The same SQL loads many files of one shape at once (bulk
backfill, ingest/bulk.py): then the staged table also has read_csv's `filename`
column, and a small table of the batch's files gives each row its file's id, name,
export date and first rowid (`Plan.files`); row numbers, duplicate keys and
reference checks are then per file, exactly as a file loaded alone. One statement builds `chk`: the canonical columns,
typed (try_strptime over the mapping's formats, enum labels via CASE, 是/否),
the row number a person sees, and `_errors` — every failed check of the row as
`column|reason` joined by ';' (empty = the row is good). The good rows go to
raw, each failure to audit.quarantine with a message built here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ingest import pii
from ingest.mapping import EPOCH_FORMATS, SAFE_LOADER, FileRule, normalise_header
from ingest.warehouse import q
from kefu import contract

CHECKS_FILE = Path(__file__).with_name("checks.yml")
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # Excel serial days accepted as dates: 1954 .. 2119
AMBIGUOUS = r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}"
INTEGER_PATTERN = r"[+-]?[0-9]+"  # what an integer cell may hold (after trim); anything else is bad_number
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"  # a number: plain decimal digits, no exponent or hex


@lru_cache(maxsize=1)
def checks() -> dict:
    return yaml.load(CHECKS_FILE.read_text(encoding="utf-8"), Loader=SAFE_LOADER)


def lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def lit_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(lit(x) for x in items) + "]"


@dataclass
class Plan:
    """Everything the SQL of one file depends on."""

    rule: FileRule
    positions: dict[str, int]  # canonical column -> position in the header (c<i>)
    width: int  # header cells
    has_row_column: bool
    first_row: int
    reject_positions: list[int]  # data-row indexes before which an unsplittable line sat
    references: dict[str, tuple[str, str]]  # column -> (raw table, column) to check against
    key: bytes
    file_id: int
    file_name: str
    header: list[str]  # header cells as exported
    # column -> SQL over stg giving its text (trimmed, '' -> NULL); default: the header cell at `positions`
    sources: dict[str, str] | None = None
    labels: dict[str, str] = field(default_factory=dict)  # column -> what messages call its source
    resolved: dict[str, dict[str, str | None]] = field(default_factory=dict)  # enum column -> export value -> canonical
    has_sheet_column: bool = False  # several XLSX sheets: stg._sheet names the sheet of each row

    def __post_init__(self) -> None:
        if self.sources is None:
            self.sources = {c: f"nullif(trim(c{i}), '')" for c, i in self.positions.items()}
        for c, i in self.positions.items():
            self.labels.setdefault(c, self.header[i] if i < len(self.header) else c)

    # timestamp/date/month column -> the text format its values are tried in first (first_formats)
    first_formats: dict[str, str] = field(default_factory=dict)
    stg: str = "stg"  # the staged table
    # bulk: the table of the batch's files (filename, _fid, _fname, _fdate, _fstart, _rejects); the
    # staged table then has read_csv's `filename` column and file_id/file_name above are unused
    files: str | None = None
    any_rejects: bool = False  # bulk: some file of the batch had unsplittable lines

    @property
    def bulk(self) -> bool:
        return self.files is not None

    @property
    def entity(self) -> contract.Entity:
        return self.rule.contract_entity

    def cell(self, column: str) -> str:
        return f"c{self.positions[column]}"

    def source(self, column: str) -> str:
        return self.sources[column]


def sources_for(
    rule: FileRule, header: list[str], positions: dict[str, int], file_name: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(column -> SQL text of it over stg, column -> label) for header cells, constants and derived columns.

    Everything a mapping gives becomes a quoted literal or a reference to a header cell: no mapping text is
    ever SQL (docs/decisions.md D-85)."""
    sources = {c: f"nullif(trim(c{i}), '')" for c, i in positions.items()}
    labels = {c: header[i] for c, i in positions.items()}
    where = {normalise_header(h): i for i, h in reversed(list(enumerate(header)))}
    for column, d in rule.derived.items():
        cells = [f"nullif(trim(c{where[normalise_header(h)]}), '')" for h in d.headers if normalise_header(h) in where]
        if len(cells) < len(d.headers):
            continue  # a source header is missing: the column is absent (required ones reject the file)
        if d.kind == "constant":
            sources[column] = lit(d.value)
        elif d.kind == "file_name":
            v = d.file_value(file_name)
            sources[column] = lit(v) if v is not None else "CAST(NULL AS VARCHAR)"
        elif d.kind == "date_time":  # an Excel date cell reads as 'YYYY-MM-DD 00:00:00': keep the date
            day, clock = cells
            sources[column] = f"nullif(concat_ws(' ', regexp_replace({day}, ' 00:00:00$', ''), {clock}), '')"
        else:  # duration, header
            sources[column] = cells[0]
        labels[column] = d.describe()
    return sources, labels


def resolve_values(con, rule: FileRule, sources: dict[str, str], stg: str = "stg") -> dict[str, dict[str, str | None]]:
    """For each enum column with a long-form value map: every distinct export value -> its canonical value.

    Patterns, defaults and NFKC are applied in Python (ingest.mapping.ValueMap) to the distinct values of
    the staged file, and the SQL then types by exact value: one rule, one implementation."""
    out = {}
    for column in rule.value_maps:
        if column in sources:
            vals = [r[0] for r in con.execute(f"SELECT DISTINCT {sources[column]} FROM {stg}").fetchall()]
            out[column] = {v: rule.resolve_value(column, v) for v in vals if v is not None}
    return out


NUMERIC_SPECIFIERS = set("YymdHMSjf")  # strptime fields of digits only (DuckDB: no sign, no spaces)


def _skeleton(fmt: str) -> str | None:
    """The literal characters of a strptime format without its whitespace (DuckDB's strptime matches
    any run of whitespace for a space, and around the value); None when the format has a field
    that is not digits (%b, %p, %z ...) or a digit as a literal."""
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            j = i + 1 + (fmt[i + 1 : i + 2] == "-")
            spec = fmt[j : j + 1]
            if spec == "%":
                out.append("%")
            elif spec not in NUMERIC_SPECIFIERS:
                return None
            i = j + 1
            continue
        if ch.isdigit():
            return None
        if not ch.isspace():
            out.append(ch)
        i += 1
    return "".join(out)


def formats_disjoint(a: str, b: str) -> bool:
    """True when no text can parse under both formats: the fields of both are digits only, so a text
    that parses under a format has exactly that format's literals between its digits, and the two
    formats' literals differ. (%d/%m/%Y and %m/%d/%Y share theirs: never disjoint.)"""
    ka, kb = _skeleton(a), _skeleton(b)
    return ka is not None and kb is not None and ka != kb


def first_formats(con, rule: FileRule, sources: dict[str, str], stg: str = "stg") -> dict[str, str]:
    """For each timestamp/date/month column: the text format its first non-empty value parses in,
    when that is not the first of the mapping's list and no earlier format of the list can parse the
    same text (formats_disjoint). typed_expr then tries it first: a value it parses gets the result
    the whole list would give (no earlier format parses it), and the others go through the list as
    before. One value tells the style a file's column is written in; a failed strptime attempt costs
    ~20 times a successful one (docs/decisions.md D-185)."""
    picks: dict[str, tuple[str, ...]] = {}
    for c in rule.contract_entity.columns:
        d = rule.derived.get(c.name)
        if c.type not in ("timestamp", "date", "month") or c.name not in sources or (d and d.kind == "duration"):
            continue
        text = tuple(f for f in rule.formats_for(c.name) if f not in EPOCH_FORMATS)
        if len(text) > 1:
            picks[c.name] = text
    if not picks:
        return {}
    probes = [
        f"(SELECT list_position([{', '.join(f'try_strptime(v, {lit(f)}) IS NOT NULL' for f in fmts)}], true) "
        f"FROM (SELECT {sources[col]} AS v FROM {stg} WHERE {sources[col]} IS NOT NULL LIMIT 1))"
        for col, fmts in picks.items()
    ]
    found = con.execute("SELECT " + ", ".join(probes)).fetchone()
    out = {}
    for (col, fmts), pos in zip(picks.items(), found, strict=True):
        if pos and pos > 1 and all(formats_disjoint(fmts[pos - 1], f) for f in fmts[: pos - 1]):
            out[col] = fmts[pos - 1]
    return out


def _serial(s: str) -> str:
    return (
        f"CASE WHEN regexp_full_match({s}, '\\d+(\\.\\d+)?') AND TRY_CAST({s} AS DOUBLE) "
        f"BETWEEN {SERIAL_MIN} AND {SERIAL_MAX} THEN TIMESTAMP '1899-12-30' + "
        f"to_microseconds(CAST(round(CAST({s} AS DOUBLE) * 86400) AS BIGINT) * 1000000) END"
    )


def _epoch(s: str, per_second: int) -> str:
    """Unix time (UTC) -> local time of the contract's zone, naive like every other timestamp."""
    digits = "9,10" if per_second == 1 else "12,13"
    return (
        f"CASE WHEN regexp_full_match({s}, '\\d{{{digits}}}(\\.\\d+)?') THEN timezone("
        f"{lit(contract.timezone())}, to_timestamp(CAST({s} AS DOUBLE) / {per_second})) END"
    )


def _stamp(s: str, fmts: tuple[str, ...], first: str | None = None) -> str:
    text = [f for f in fmts if f not in EPOCH_FORMATS]
    if first in text and len(text) > 1:  # first_formats: its values parse at the first attempt
        rest = [f for f in text if f != first]
        parts = [f"try_strptime({s}, {lit(first)})", f"try_strptime({s}, {lit_list(rest)})"]
    else:
        parts = [f"try_strptime({s}, {lit_list(text)})"] if text else []
    parts += [_epoch(s, EPOCH_FORMATS[f]) for f in fmts if f in EPOCH_FORMATS]
    return f"coalesce({', '.join(parts + [_serial(s)])})"


def _duration(s: str, unit: str) -> str:
    if unit == "hms":  # h:mm:ss (hours may pass 24)
        parts = f"string_split({s}, ':')"
        return (
            f"CASE WHEN regexp_full_match({s}, '\\d+:[0-5]\\d:[0-5]\\d') THEN "
            f"CAST({parts}[1] AS BIGINT) * 3600 + CAST({parts}[2] AS BIGINT) * 60 + CAST({parts}[3] AS BIGINT) END"
        )
    factor = 60 if unit == "minutes" else 1
    return f"CAST(round(TRY_CAST({s} AS DOUBLE) * {factor}) AS BIGINT)"


def typed_expr(plan: Plan, col: contract.Column, s: str) -> str:
    r = plan.rule
    t = col.type
    d = r.derived.get(col.name)
    if d is not None and d.kind == "duration":
        e = _duration(s, d.unit or "hms")
        return e if t == "integer" else f"CAST({e} AS DOUBLE)"
    if t == "string":
        return s
    # numbers: a strict pattern first, the cast only after it; TRY_CAST alone accepts 1.5 (-> 2), 1e3,
    # 0x10 and 1_000, and an integer column must hold plain digits (a fractional integer is not one)
    if t == "integer":
        return f"CASE WHEN regexp_full_match({s}, {lit(INTEGER_PATTERN)}) THEN TRY_CAST({s} AS BIGINT) END"
    if t == "number":
        return f"CASE WHEN regexp_full_match({s}, {lit(NUMBER_PATTERN)}) THEN TRY_CAST({s} AS DOUBLE) END"
    if t == "boolean":
        whens = " ".join(
            [f"WHEN {lit(x)} THEN true" for x in r.true_labels] + [f"WHEN {lit(x)} THEN false" for x in r.false_labels]
        )
        return f"CASE lower({s}) {whens} END"  # a CASE, not IN (...): IN-lists plan as joins
    if t == "enum":
        if col.name in plan.resolved:  # long-form value map: decided per distinct value (resolve_values)
            whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in plan.resolved[col.name].items() if v)
            return f"CASE {s} {whens} END" if whens else "CAST(NULL AS VARCHAR)"
        if d is not None and d.kind == "constant":
            return lit(r.resolve_value(col.name, d.value))
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in r.enum_labels(col.name).items())
        return f"CASE lower({s}) {whens} END"
    fmts = r.formats_for(col.name)
    first = plan.first_formats.get(col.name)
    if t == "timestamp":
        return _stamp(s, fmts, first)
    if t == "date":
        return f"CAST({_stamp(s, fmts, first)} AS DATE)"
    if t == "month":
        return f"strftime({_stamp(s, fmts, first)}, '%Y-%m')"
    raise ValueError(f"unknown type {t}")


def _type_failure(col: contract.Column, s: str, flag_ambiguous: bool) -> str:
    if col.type in ("timestamp", "date", "month"):
        if not flag_ambiguous:
            return lit(f"{col.name}|bad_timestamp")
        a, b = f"regexp_extract({s}, '{AMBIGUOUS}', 1)", f"regexp_extract({s}, '{AMBIGUOUS}', 2)"
        return (
            f"CASE WHEN regexp_matches({s}, '{AMBIGUOUS}') AND TRY_CAST({a} AS INT) BETWEEN 1 AND 12 "
            f"AND TRY_CAST({b} AS INT) BETWEEN 1 AND 12 AND TRY_CAST({a} AS INT) <> TRY_CAST({b} AS INT) "
            f"THEN {lit(col.name + '|ambiguous_date')} ELSE {lit(col.name + '|bad_timestamp')} END"
        )
    reason = "bad_number" if col.type in ("integer", "number") else "bad_enum"
    return lit(f"{col.name}|{reason}")


def source(plan: Plan) -> str:
    """The staged rows as check_query reads them: `stg` (one file), or for a batch the staged table
    joined to its files table, each row with its file's columns and the table's own rowid."""
    if not plan.bulk:
        return plan.stg
    return (
        f"(SELECT s.rowid AS rowid, s.*, f._fid, f._fname, f._fdate, f._fstart, f._rejects "
        f"FROM {plan.stg} s JOIN {plan.files} f USING (filename)) stg"
    )


def row_expr(plan: Plan) -> str:
    if plan.has_row_column:
        return "TRY_CAST(_row AS BIGINT)"
    if plan.bulk:  # the row within its file: rowid - the file's first rowid
        base = f"(rowid - _fstart + {plan.first_row})"
        if plan.any_rejects:
            return f"({base} + len(list_filter(_rejects, lambda x: x <= rowid - _fstart)))"
        return base
    base = f"(rowid + {plan.first_row})"
    if plan.reject_positions:
        ps = "[" + ", ".join(str(p) for p in plan.reject_positions) + "]"
        return f"({base} + len(list_filter({ps}, lambda x: x <= rowid)))"
    return base


def check_query(plan: Plan, reasons: bool = True) -> str:
    """SELECT over stg: typed canonical columns + _rowid, _row, _dup_first, _dup_row, _errors.

    One pass types, checks and flags duplicates. With `reasons=False` the last column is `_bad`
    (boolean, true exactly when `_errors` would not be empty) instead: the fast path that loads the
    good rows needs no reason texts, which saves building (and planning) them for every row."""
    ent = plan.entity
    present = [c for c in ent.columns if c.name in plan.sources]
    src_cols = [f"{plan.source(c.name)} AS {q('s__' + c.name)}" for c in present]
    typed = []
    for c in ent.columns:
        if c.name in plan.sources:
            typed.append(f"{typed_expr(plan, c, q('s__' + c.name))} AS {q(c.name)}")
        else:
            typed.append(
                f"CAST(NULL AS {'VARCHAR' if c.type in ('string', 'enum', 'month') else _sql_type(c)}) AS {q(c.name)}"
            )
    key = [c for c in ent.key if c in plan.sources]
    per_file = ", _fid, _fname, _fdate, filename AS _dfile" if plan.bulk else ""  # bulk: the row's file
    dup_join = ""
    dup_sel = "CAST(NULL AS BIGINT) AS _dup_first, CAST(NULL AS BIGINT) AS _dup_row"
    dups_cte = ""
    if key:
        kexpr = [plan.source(k) for k in key]
        dups_cte = (
            ", dups AS (SELECT "
            + ", ".join(f"{e} AS {q('k__' + k)}" for e, k in zip(kexpr, key))
            + (", filename AS _dfile" if plan.bulk else "")
            + f", min(rowid) AS _first, min({row_expr(plan)}) AS _first_row FROM {source(plan)} "
            "GROUP BY ALL HAVING count(*) > 1)"
        )
        dup_join = (
            " LEFT JOIN dups ON "
            + " AND ".join(f"dups.{q('k__' + k)} = typed.{q('s__' + k)}" for k in key)
            + " AND typed._rowid > dups._first"
            + (" AND dups._dfile = typed._dfile" if plan.bulk else "")
        )
        dup_sel = "dups._first AS _dup_first, dups._first_row AS _dup_row"

    checks_sql: list[tuple[str, str]] = []  # (condition, reason code text)
    ck = checks()
    for c in present:
        s = q("s__" + c.name)
        v = q(c.name)
        if c.required:
            checks_sql.append((f"{s} IS NULL", lit(c.name + "|missing_value")))
        if c.type != "string":
            checks_sql.append(
                (
                    f"{s} IS NOT NULL AND {v} IS NULL",
                    _type_failure(c, s, plan.rule.day_first_ambiguous) if reasons else "''",
                )
            )
        reason = (ck.get("non_negative") or {}).get(ent.name, {}).get(c.name)
        if reason:
            checks_sql.append((f"{v} < 0", lit(c.name + "|" + reason)))
        if c.name in plan.references:
            table, rcol = plan.references[c.name]
            if plan.bulk:  # as a file loaded alone would see it: the ids exported up to the file's date
                hist = f"raw.{q(table + '_history')}"
                fdate = "coalesce(_fdate, DATE '9999-12-31')"
                cond = (
                    f"{v} IS NOT NULL AND {fdate} >= (SELECT min(_export_date) FROM {hist}) AND "
                    f"coalesce((SELECT min(r._export_date) FROM {hist} r WHERE r.{q(rcol)} = joined.{v}), "
                    f"DATE '9999-12-31') > {fdate}"
                )
            else:
                cond = f"{v} IS NOT NULL AND {v} NOT IN (SELECT {q(rcol)} FROM raw.{q(table)})"
            checks_sql.append((cond, lit(c.name + "|unknown_reference")))
    befores: dict[str, list[str]] = {}
    for later, earlier in (ck.get("order") or {}).get(ent.name, []):
        if later in plan.sources and earlier in plan.sources:
            befores.setdefault(later, []).append(earlier)
    for later, earliers in befores.items():  # one failure per later column, however many it precedes
        cond = " OR ".join(f"{q(later)} < {q(e)}" for e in earliers)
        checks_sql.append((cond, lit(later + "|end_before_start")))
    if key:
        checks_sql.append(("_dup_first IS NOT NULL", lit(key[0] + "|duplicate_key")))
    if reasons:  # every failed check as 'column|reason', ';'-joined; '' = good row
        errors = (
            "concat_ws(';', " + ", ".join(f"CASE WHEN {c} THEN {r} END" for c, r in checks_sql) + ")"
            if checks_sql
            else "''"
        )
        out = f"{errors} AS _errors"
    else:  # only good or bad: _bad is true exactly when _errors would be non-empty (a condition is TRUE)
        out = (
            "coalesce(" + " OR ".join(f"({c})" for c, _ in checks_sql) + ", false)" if checks_sql else "false"
        ) + " AS _bad"

    return (
        "WITH "
        f"src AS (SELECT rowid AS _rowid, {row_expr(plan)} AS _row{per_file}"
        + "".join(", " + x for x in src_cols)
        + f" FROM {source(plan)}), "
        f"typed AS (SELECT _rowid, _row{per_file.replace('filename AS ', '')}, "
        f"{', '.join(q('s__' + c.name) for c in present) or 'NULL AS _none'}, "
        f"{', '.join(typed)} FROM src){dups_cte}, "
        f"joined AS (SELECT typed.*, {dup_sel} FROM typed{dup_join}) "
        f"SELECT _rowid, _row, _dup_first, _dup_row{', _fid, _fname, _fdate' if plan.bulk else ''}, "
        f"{', '.join(q(c.name) for c in ent.columns)}, {out} FROM joined"
    )


def chk_sql(plan: Plan, only_bad: bool = False) -> str:
    """CREATE TEMP TABLE chk from :func:`check_query` (only_bad: just the rows with a failed check)."""
    where = " WHERE _errors <> ''" if only_bad else ""
    return f"CREATE TEMP TABLE chk AS SELECT * FROM ({check_query(plan)}){where}"


def insert_good_sql(plan: Plan, table: str, columns: list[str]) -> str:
    """INSERT the good rows of stg into `table` in one pass (type, check, hash/mask, write; no chk table).

    Parameters: $fid, $d (export date), $t (loaded at); bulk: only $t (each row's file gives the
    others). Returns the count of rows inserted."""
    meta = "_fid, _row, _fdate, $t" if plan.bulk else "$fid, _row, $d, $t"
    return (
        f"INSERT INTO {table} ({', '.join(map(q, columns))}) "
        f"SELECT {', '.join(stored_select(plan))}, {meta} "
        f"FROM ({check_query(plan, reasons=False)}) WHERE NOT _bad"
    )


def _sql_type(c: contract.Column) -> str:
    from ingest.warehouse import SQL_TYPES

    return SQL_TYPES[c.type]


def stored_select(plan: Plan) -> list[str]:
    """The SELECT list for raw from chk: PII -> hash + masked."""
    out = []
    for c in plan.entity.columns:
        if c.pii:
            # the typed value of a string column is already trimmed (check_query): no second trim
            out.append(f"{pii.hmac_sql(q(c.name), plan.key, trimmed=c.type == 'string')} AS {q(c.name + '_hash')}")
            out.append(
                f"{pii.mask_sql(q(c.name), pii.kind_of(c.name), trimmed=c.type == 'string')} AS {q(c.name + '_masked')}"
            )
        else:
            out.append(q(c.name))
    return out


def _expected(plan: Plan, c: contract.Column, reason: str) -> str:
    r = plan.rule
    if reason == "missing_value":
        return "a value (the column is required)"
    d = r.derived.get(c.name)
    if reason == "bad_number" and d is not None and d.kind == "duration":
        return {"hms": "a duration h:mm:ss", "minutes": "a number of minutes", "seconds": "a number of seconds"}[
            d.unit or "hms"
        ]
    if reason in ("bad_timestamp", "ambiguous_date"):
        fmts = r.formats_for(c.name)
        tail = "; day and month cannot be told apart" if reason == "ambiguous_date" else ""
        return f"a {c.type} in one of the formats {' | '.join(fmts)} or an Excel date{tail}"
    if reason == "bad_enum":
        if c.type == "boolean":
            return "是/否 (" + "/".join(r.true_labels + r.false_labels) + ")"
        return "one of " + ", ".join(f"{k} ({v})" for k, v in c.values.items())
    if reason == "bad_number":
        return "a whole number ≥ 0" if c.type == "integer" else "a number"
    if reason == "negative_duration":
        return "a duration ≥ 0"
    if reason == "unknown_reference":
        table, _ = plan.references.get(c.name, ("?", "?"))
        return f"an id listed in {table} (loaded so far)"
    if reason == "end_before_start":
        before = [e for later, e in (checks().get("order") or {}).get(plan.entity.name, []) if later == c.name]
        return f"{c.name} not earlier than {' / '.join(before)}"
    if reason == "duplicate_key":
        return "a key unique within the file (" + ", ".join(plan.entity.key) + "); the first occurrence loads"
    return reason


def _shown(plan: Plan, c: contract.Column) -> str:
    s = f"stg.{plan.cell(c.name)}" if c.name in plan.positions else plan.source(c.name)
    return pii.mask_sql(s, pii.kind_of(c.name)) if c.pii else s


def row_text_sql(plan: Plan) -> str:
    """The original row as CSV text, PII cells masked."""
    by_pos = {i: plan.entity.column(c) for c, i in plan.positions.items()}
    parts = []
    for i in range(plan.width):
        cell = f"stg.c{i}"
        if i in by_pos and by_pos[i].pii:
            cell = pii.mask_sql(cell, pii.kind_of(by_pos[i].name))
        parts.append(
            f"CASE WHEN contains(coalesce({cell}, ''), ',') OR contains(coalesce({cell}, ''), '\"') "
            f"THEN '\"' || replace({cell}, '\"', '\"\"') || '\"' ELSE coalesce({cell}, '') END"
        )
    return " || ',' || ".join(parts) if parts else "''"


def quarantine_sql(plan: Plan) -> str:
    """INSERT the failures of chk into audit.quarantine (one row per failed check)."""
    ent = plan.entity
    ck = checks()
    whens = []
    for cname in plan.sources:
        c = ent.column(cname)
        reasons = _possible_reasons(plan, c)
        header = plan.labels.get(cname, cname)
        for reason in reasons:
            code = f"{cname}|{reason}"
            value = _shown(plan, c)
            extra = ""
            if reason == "end_before_start":
                extra = (
                    " || ' (' || "
                    + " || ', ' || ".join(
                        f"{lit(e + ' ')} || coalesce({_shown(plan, ent.column(e))}, '')"
                        for later, e in (ck.get("order") or {}).get(ent.name, [])
                        if later == cname and e in plan.sources
                    )
                    + " || ')'"
                )
            if reason == "duplicate_key":
                extra = " || ' (first at row ' || q._dup_row || ')'"
            if plan.bulk:
                where = "q._fname || ' row '"
            elif plan.has_sheet_column:
                where = f"{lit(plan.file_name + ' sheet ')} || stg._sheet || ' row '"
            else:
                where = lit(f"{plan.file_name} row ")
            msg = (
                f"{where} || q._row || {lit(f', column {cname} ({header}): ')} || "
                f"{lit(_reason_text(reason) + ' — got ')} || '''' || coalesce({value}, '') || ''''{extra} || "
                f"{lit('; expected ' + _expected(plan, c, reason))}"
            )
            whens.append(f"WHEN {lit(code)} THEN {msg}")
    file_cols = ("q._fid, q._fname", ", _fid, _fname") if plan.bulk else ("$file_id, $file_name", "")
    return (
        f"INSERT INTO audit.quarantine SELECT {file_cols[0]}, q._row, split_part(q._e, '|', 1), "
        f"split_part(q._e, '|', 2), CASE q._e {' '.join(whens)} ELSE q._e END, {row_text_sql(plan)} "
        f"FROM (SELECT _rowid, _row, _dup_row{file_cols[1]}, unnest(string_split(_errors, ';')) AS _e FROM chk "
        f"WHERE _errors <> '') q JOIN {plan.stg} stg ON stg.rowid = q._rowid"
    )


def _possible_reasons(plan: Plan, c: contract.Column) -> list[str]:
    ck = checks()
    out = ["missing_value"] if c.required else []
    if c.type in ("timestamp", "date", "month"):
        out += ["bad_timestamp", "ambiguous_date"]
    elif c.type in ("integer", "number"):
        out.append("bad_number")
    elif c.type in ("enum", "boolean"):
        out.append("bad_enum")
    reason = (ck.get("non_negative") or {}).get(plan.entity.name, {}).get(c.name)
    if reason and reason not in out:
        out.append(reason)
    if c.name in plan.references:
        out.append("unknown_reference")
    if any(later == c.name for later, _ in (ck.get("order") or {}).get(plan.entity.name, [])):
        out.append("end_before_start")
    if plan.entity.key and c.name == ([k for k in plan.entity.key if k in plan.sources] or [None])[0]:
        out.append("duplicate_key")
    return out


def _reason_text(reason: str) -> str:
    from kefu.reasons import REASONS

    return REASONS.get(reason, ("", reason))[1]
