"""`kefu mapping suggest FILE` and `kefu mapping check FILE [--mapping M]`.

suggest reads the header and a sample of values of one export and writes a starting mapping
(YAML with a comment for everything it could not decide). check is a dry run of `kefu ingest` on a
scratch copy of the file: the rows that would load, the first rows that would be quarantined and
why, and which rule IDs the file makes measurable (kefu.rulebook.measurability).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import re
import secrets
import shutil
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ingest import encoding as enc
from ingest.mapping import SAFE_LOADER, normalise_header, normalise_label
from kefu import contract, rulebook

SYNONYMS_FILE = Path(__file__).with_name("synonyms.yml")
SAMPLE_ROWS = 500
MAX_ENUM_VALUES = 60

# Python strptime formats tried on sample values, most specific first (all valid DuckDB strptime too)
STAMP_CANDIDATES = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y%m%d%H%M%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
]
DATE_CANDIDATES = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
    "%Y%m%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
]
TIME_CANDIDATES = ["%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I.%M.%S %p", "%H.%M.%S", "%H时%M分%S秒"]
MONTH_CANDIDATES = ["%Y-%m", "%Y/%m", "%Y年%m月", "%Y%m"]


def synonyms() -> dict[str, list[str]]:
    return yaml.load(SYNONYMS_FILE.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}


# --- reading a sample ----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # csv | xlsx
    encoding: str
    delimiter: str
    rows: list[list[str]]  # every row read (title rows included), as text
    header_index: int = 0
    sheet: str | None = None

    @property
    def header(self) -> list[str]:
        h = list(self.rows[self.header_index]) if self.rows else []
        while h and not h[-1].strip():
            h.pop()
        return h

    @property
    def data(self) -> list[list[str]]:
        return [r for r in self.rows[self.header_index + 1 :] if any(c.strip() for c in r)]


def read_sample(path: Path) -> Sample:
    from ingest import readers

    if readers.is_xlsx(path):
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        try:
            name = wb.sheet_names[0]
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)[:SAMPLE_ROWS]
        finally:
            wb.close()
        return Sample("xlsx", "xlsx", ",", [[readers._cell_text(c) for c in r] for r in rows], sheet=name)
    det = enc.detect(path)
    if det.encoding is None:
        raise ValueError(f"{path.name}: {det.error}")
    lines = enc.read_head(path, "utf-8-sig" if det.encoding != "gb18030" else "gb18030", SAMPLE_ROWS)
    delim = readers.sniff_delimiter(lines[:50])
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    return Sample("csv", det.encoding, delim, rows)


# --- matching headers ----------------------------------------------------------------------------------


def _names(ent: contract.Entity, syn: dict[str, list[str]]) -> dict[str, str]:
    """normalised header -> column, for one entity: canonical, Chinese, synonyms."""
    out: dict[str, str] = {}
    for c in ent.columns:
        for n in [*syn.get(c.name, []), c.zh, c.name, c.name.replace("_", " ")]:
            out[normalise_header(unicodedata.normalize("NFKC", n))] = c.name
    return out


def match_headers(header: list[str], ent: contract.Entity) -> dict[int, tuple[str, str]]:
    """header position -> (column, how: exact | synonym | similar)."""
    syn = synonyms()
    exact = {normalise_header(c.zh): c.name for c in ent.columns} | {
        normalise_header(c.name): c.name for c in ent.columns
    }
    names = _names(ent, syn)
    out: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for how in ("exact", "synonym", "similar"):
        for i, h in enumerate(header):
            if i in out or not h.strip():
                continue
            n = normalise_header(unicodedata.normalize("NFKC", h))
            col = None
            if how == "exact":
                col = exact.get(n)
            elif how == "synonym":
                col = names.get(n)
            else:
                close = difflib.get_close_matches(n, list(names), n=1, cutoff=0.75)
                col = names[close[0]] if close else None
            if col and col not in taken:
                out[i] = (col, how)
                taken.add(col)
    return out


def choose_entity(header: list[str]) -> contract.Entity:
    best, score = None, -1.0
    for ent in contract.load().values():
        m = match_headers(header, ent)
        s = sum({"exact": 1.0, "synonym": 0.9, "similar": 0.5}[h] for _, h in m.values())
        s += 0.5 * sum(1 for c, _ in m.values() if ent.column(c).key)
        if s > score:
            best, score = ent, s
    return best


def find_header(rows: list[list[str]]) -> int:
    """The row among the first 12 with the most cells any contract entity knows (ties: the earlier)."""
    syn = synonyms()
    names: set[str] = set()
    for ent in contract.load().values():
        names |= set(_names(ent, syn))
    best, score = 0, -1
    for i, r in enumerate(rows[:12]):
        s = sum(1 for c in r if normalise_header(unicodedata.normalize("NFKC", c)) in names)
        if s > score:
            best, score = i, s
    return best


# --- values ----------------------------------------------------------------------------------------------


def _parses(values: list[str], fmt: str) -> bool:
    try:
        for v in values:
            datetime.strptime(v, fmt)
        return True
    except ValueError:
        return False


def stamp_formats(values: list[str], candidates: list[str]) -> list[str]:
    vals = [v.strip() for v in values if v.strip()]
    return [f for f in candidates if vals and _parses(vals, f)]


def numeric_kind(values: list[str]) -> str | None:
    vals = [v.strip() for v in values if v.strip()]
    if not vals:
        return None
    try:
        nums = [float(v) for v in vals]
    except ValueError:
        return None
    if all(1e9 <= x < 1e10 for x in nums):
        return "epoch_seconds"
    if all(1e12 <= x < 1e13 for x in nums):
        return "epoch_millis"
    if all(20000 <= x <= 80000 for x in nums):
        return "excel"
    return None


def _key(text: str) -> str:
    return normalise_label(text, ("case", "spaces", "width")).replace("_", "").replace("-", "")


def propose_value(col: contract.Column, raw: str, column: str | None = None) -> tuple[str | None, str]:
    """(a canonical value for one export value or None, how: exact | synonym | similar)."""
    n = _key(raw)
    labels = {_key(k): k for k in col.values} | {_key(v): k for k, v in col.values.items()}
    if n in labels:
        return labels[n], "exact"
    words = {_key(str(k)): v for k, v in ((synonyms().get("_values") or {}).get(column or col.name) or {}).items()}
    if n in words and words[n] in col.values:
        return words[n], "synonym"
    for label, k in sorted(labels.items(), key=lambda t: -len(t[0])):
        if len(label) >= 2 and (label in n or (len(n) >= 2 and n in label)):
            return k, "similar"
    for word, k in sorted(words.items(), key=lambda t: -len(t[0])):
        if len(word) >= 2 and word in n and k in col.values:
            return k, "similar"
    close = difflib.get_close_matches(n, list(labels), n=1, cutoff=0.7)
    return (labels[close[0]], "similar") if close else (None, "")


# --- suggest ---------------------------------------------------------------------------------------------


def _y(s: Any) -> str:
    """A YAML scalar, quoted."""
    return yaml.safe_dump(str(s), allow_unicode=True, default_style='"', width=1000).strip().removesuffix("...").strip()


def suggest(path: Path) -> str:
    s = read_sample(path)
    s.header_index = find_header(s.rows)
    header = s.header
    ent = choose_entity(header)
    matched = match_headers(header, ent)
    cols = {c: i for i, (c, _) in matched.items()}
    data = s.data
    column = lambda i: [r[i] if i < len(r) else "" for r in data]  # noqa: E731
    notes: list[str] = []
    out = [
        f"# Starting mapping for {path.name}, written by `kefu mapping suggest` — check every line.",
        f"# 由 kefu mapping suggest 生成的初始映射，请逐项核对。 Entity guessed: {ent.name} ({ent.zh}).",
        f"name: {path.stem.split('_')[0] or 'my_export'}",
        "files:",
        f"  - pattern: {_y(_pattern(path.name))}",
        f"    entity: {ent.name}",
    ]
    reader = []
    if s.kind == "csv":
        reader.append(f"delimiter: {_delim_name(s.delimiter)}")
    else:
        reader.append(f"sheet: {_y(s.sheet)}")
    if s.header_index:
        reader.append(f"header_row: {s.header_index + 1}")
    out.append("    reader: {" + ", ".join(reader) + "}   # detected / 自动识别")
    if s.kind == "csv":
        out.append(
            f"    # encoding detected: {s.encoding} (found from the bytes of every file; declare reader.encoding "
            "only to override) / 已识别编码"
        )
    # headers
    out.append("    headers:   # export header -> contract column")
    for i, h in enumerate(header):
        if not h.strip():
            continue
        if i in matched:
            c, how = matched[i]
            if how == "exact":
                continue  # the contract's own name: no line needed
            note = "" if how == "synonym" else "   # similar name: check / 名称相近，请核对"
            out.append(f"      {_y(h)}: {c}{note}")
        else:
            out.append(f"      # {_y(h)}: ?   # not matched to a contract column (ignored as is) / 未匹配")
    # timestamps
    derive: list[str] = []
    fmts: dict[str, str] = {}
    date_only = {
        i
        for i, h in enumerate(header)
        if stamp_formats(column(i), DATE_CANDIDATES) and not stamp_formats(column(i), STAMP_CANDIDATES)
    }
    time_only = {i for i, h in enumerate(header) if stamp_formats(column(i), TIME_CANDIDATES)}
    all_formats: list[str] = []
    order_unclear: list[str] = []
    for c in ent.columns:
        if c.type not in ("timestamp", "date", "month") or c.name not in cols:
            continue
        vals = column(cols[c.name])
        cands = {"timestamp": STAMP_CANDIDATES, "date": DATE_CANDIDATES, "month": MONTH_CANDIDATES}[c.type]
        f = stamp_formats(vals, cands)
        num = numeric_kind(vals)
        if num in ("epoch_seconds", "epoch_millis"):
            derive.append(f"      {c.name}: {{header: {_y(header[cols[c.name]])}, formats: [{num}]}}   # Unix time")
        elif num == "excel":
            fmts[c.name] = "Excel serial numbers (always accepted)"
        elif f:
            all_formats += [x for x in f if x not in all_formats]
            if any("%d/%m" in x for x in f) and any("%m/%d" in x for x in f):
                order_unclear.append(c.name)
        elif c.type == "timestamp" and cols[c.name] in date_only and time_only:
            t = min(time_only)
            df = stamp_formats(vals, DATE_CANDIDATES)
            tf = stamp_formats(column(t), TIME_CANDIDATES)
            derive.append(
                f"      {c.name}: {{date: {_y(header[cols[c.name]])}, time: {_y(header[t])}, "
                f"date_formats: {_flow(df)}, time_formats: {_flow(tf)}}}   # date and time in two columns"
            )
        elif any(v.strip() for v in vals):
            notes.append(
                f"{c.name}: no known date format fits {_y(next(v for v in vals if v.strip()))}; "
                "add timestamp_formats / 日期格式无法识别"
            )
    # durations written h:mm:ss in a column of seconds
    for c in ent.columns:
        if c.type in ("integer", "number") and c.name in cols and cols[c.name] >= 0:
            vals = [v.strip() for v in column(cols[c.name]) if v.strip()]
            if vals and all(re.fullmatch(r"\d+:[0-5]\d:[0-5]\d", v) for v in vals):
                derive.append(
                    f"      {c.name}: {{duration: {_y(header[cols[c.name]])}, unit: hms}}   # h:mm:ss -> seconds"
                )
    # an unmatched date column + time column and no opened time yet: the usual split export
    key_time = next((c.name for c in ent.columns if c.type == "timestamp" and c.identity), None)
    if key_time and key_time not in cols and date_only and time_only:
        d, t = min(date_only), min(time_only)
        df, tf = stamp_formats(column(d), DATE_CANDIDATES), stamp_formats(column(t), TIME_CANDIDATES)
        derive.append(
            f"      {key_time}: {{date: {_y(header[d])}, time: {_y(header[t])}, date_formats: {_flow(df)}, "
            f"time_formats: {_flow(tf)}}}   # guessed: check / 推测，请核对"
        )
        cols[key_time] = -1
        if any("%d/%m" in x for x in df) and any("%m/%d" in x for x in df):
            notes.append(f"{key_time}: day-first or month-first cannot be told from the sample / 无法判断日月顺序")
    if order_unclear:
        notes.append(
            f"{', '.join(order_unclear)}: day-first or month-first cannot be told from the sample (no day "
            "above 12); keep only the right timestamp_formats / 无法判断日月顺序，请保留正确的格式"
        )
    if all_formats:
        out.append("    timestamp_formats: " + _flow([f for f in all_formats if f in STAMP_CANDIDATES] or all_formats))
        dates = [f for f in all_formats if f in DATE_CANDIDATES]
        if dates:
            out.append("    date_formats: " + _flow(dates))
    if derive:
        out.append("    derive:")
        out += derive
    # values of enum columns
    vals_out = []
    for c in ent.columns:
        if c.type != "enum" or c.name not in cols or cols[c.name] < 0:
            continue
        distinct = sorted({v.strip() for v in column(cols[c.name]) if v.strip()})
        lines = []
        for v in distinct[:MAX_ENUM_VALUES]:
            p, how = propose_value(c, v)
            if p is not None and normalise_label(v) in {normalise_label(x) for x in [p, c.values[p]]}:
                continue  # the contract already reads it
            if p is None:
                lines.append(f"        # {_y(v)}: ?   # could not decide: one of {', '.join(c.values)} / 无法判断")
            else:
                lines.append(
                    f"        {_y(v)}: {p}" + ("   # guessed: check / 推测，请核对" if how == "similar" else "")
                )
        if len(distinct) > MAX_ENUM_VALUES:
            lines.append(
                f"        # ... {len(distinct) - MAX_ENUM_VALUES} more values in the sample: consider match/default"
            )
        if lines:
            vals_out.append(f"      {c.name}:")
            vals_out.append("        map:")
            vals_out += ["  " + ln for ln in lines]
            vals_out.append(f"        # default: {next(iter(c.values))}   # for labels not listed / 未列出的值")
    if vals_out:
        out.append("    values:")
        out += vals_out
    identity = [c for c in ent.columns if c.identity and c.name not in cols]
    if identity:
        out.append(
            "    # identity columns not in the export: map a header, derive or give a constant, or the file is refused"
        )
        out.append("    # 导出中没有的标识列：请映射表头、派生或给常量，否则文件将被拒收")
        out += [f"    #   {c.name}: ?" for c in identity]
    missing = [c for c in ent.columns if not c.identity and c.required and c.name not in cols]
    if missing:
        out.append("    # rule inputs not in the export: give a constant where one value holds for every row, or the")
        out.append(
            "    # rules reading them are not measurable / 导出中没有的指标输入列：全表同值时请给常量，否则相关指标无法计算"
        )
        out.append("    # constants:")
        for c in missing:
            allowed = f"   # one of {', '.join(c.values)}" if c.values else ""
            out.append(f"    #   {c.name}: ?{allowed}")
    optional = [c.name for c in ent.columns if not c.required and c.name not in cols]
    if optional:
        out.append("    # optional columns not in the export (the rules reading them become not measurable):")
        out.append("    #   " + ", ".join(optional))
    for n in notes:
        out.append(f"    # NOTE {n}")
    return "\n".join(out) + "\n"


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(_y(x) for x in items) + "]"


def _delim_name(d: str) -> str:
    return {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(d, _y(d))


def _pattern(name: str) -> str:
    """The file name with its date replaced by {date} (so the next day's export matches too)."""
    return re.sub(r"(\d{4}-\d{2}-\d{2}|(?<!\d)\d{8}(?!\d))", "{date}", name, count=1)


# --- check -----------------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    file: str
    status: str  # loaded | rejected
    entity: str | None = None
    mapping: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    quarantined: list[tuple] = field(default_factory=list)  # (row, column, reason, message)
    present: list[str] = field(default_factory=list)
    measures: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def __str__(self) -> str:
        out = [f"{self.file}: {self.status} · entity {self.entity or '?'} · mapping {self.mapping or '?'}"]
        if self.status == "rejected":
            out.append(f"  file refused / 文件将被拒收: {self.message}")
        else:
            out.append(
                f"  rows read {self.rows_read:,} · would load {self.rows_loaded:,} · would be quarantined "
                f"{self.rows_quarantined:,} / 读取 {self.rows_read:,} 行 · 可入库 {self.rows_loaded:,} 行 · "
                f"隔离 {self.rows_quarantined:,} 行"
            )
            if self.message:
                out.append(f"  notes / 说明: {self.message}")
        if self.quarantined:
            out.append(f"  first quarantined rows / 前 {len(self.quarantined)} 条隔离原因:")
            out += [f"    row {r} · {c} · {why}: {msg}" for r, c, why, msg in self.quarantined]
        if self.measures:
            out.append("  rules fed by this file / 本文件涉及的考核规则:")
            out.append(f"    {'rule':8s} {'measurable':14s} why / 原因")
            for mid, (ok, why) in self.measures.items():
                out.append(f"    {mid:8s} {'yes / 可计算' if ok else 'no / 不可计算':14s} {why}")
        return "\n".join(out)


def check(path: Path, mapping: Path | None = None, show: int = 10) -> CheckResult:
    """Dry run of ingest on a scratch copy of `path` (nothing of the real warehouse is touched)."""
    import duckdb

    from ingest import config, readers, transform
    from ingest.loader import ingest
    from ingest.mapping import MAPPINGS_DIR
    from ingest.mapping import load as load_mappings

    dirs = [mapping] if mapping else [MAPPINGS_DIR]
    mappings = load_mappings(dirs)  # a malformed mapping stops here with its MappingError
    with tempfile.TemporaryDirectory(prefix="kefu-check-") as tmp:
        tmp_dir = Path(tmp)
        landing = tmp_dir / "landing" / path.parent.name if _is_day(path.parent.name) else tmp_dir / "landing"
        landing.mkdir(parents=True)
        copy = landing / path.name
        shutil.copy(path, copy)
        present: list[str] = []
        ent_name = None
        try:
            prep = readers.prepare(copy, readers.fingerprint(copy), mappings, tmp_dir)
            try:
                positions, _ = readers.header_positions(prep)
                sources, _ = transform.sources_for(prep.rule, prep.header, positions, path.name)
                present, ent_name = list(sources), prep.rule.entity
            finally:
                prep.cleanup()
        except readers.FileRejected:
            rules = mappings.by_name(copy)
            ent_name = rules[0].entity if rules else None
        cfg = config.IngestConfig(pii_key=secrets.token_bytes(32), mapping_dirs=dirs)
        ingest(tmp_dir / "landing", tmp_dir / "check.duckdb", cfg, progress=False)
        con = duckdb.connect(str(tmp_dir / "check.duckdb"), read_only=True)
        try:
            log = con.execute(
                "SELECT status, entity, mapping, rows_read, rows_loaded, rows_quarantined, "
                "coalesce(message, '') FROM audit.load_log ORDER BY file_id"
            ).fetchone()
            quarantined = con.execute(
                "SELECT row_number, column_name, reason, message FROM audit.quarantine "
                "ORDER BY row_number NULLS LAST, column_name LIMIT ?",
                [show],
            ).fetchall()
        finally:
            con.close()
    status, entity, mname, read, loaded, bad, message = log
    res = CheckResult(
        path.name, status, entity or ent_name, mname, read or 0, loaded or 0, bad or 0, message, quarantined, present
    )
    if res.entity and (status == "loaded" or present):
        res.measures = measures_of(res.entity, present)
    return res


def measures_of(entity: str, present) -> dict[str, tuple[bool, str]]:
    """Per measure reading `entity`: (measurable at the company grain, why not / which grains are not), in
    English and Chinese. The decision is `kefu.rulebook.missing_columns` (D-90, D-91); this only words it."""
    from kefu import contract

    zh = {c.name: c.zh for c in contract.entity(entity).columns}
    measures = rulebook.load()

    def words(listed: list[str]) -> str:  # ["tickets.a", "tickets.b"]
        columns = [c.split(".", 1)[1] for c in listed]
        return f"not measurable: {', '.join(listed)} missing / 无数据：缺少 {'、'.join(zh.get(c, c) for c in columns)}"

    # one answer per grain, each over every measure (not one per measure and grain)
    by_grain = {
        g: rulebook.missing_columns(entity, present, grain=g)
        for g in dict.fromkeys(g for m in measures.values() for g in m.grains)
        if g != "company"
    }
    out: dict[str, tuple[bool, str]] = {}
    for mid, missing in rulebook.missing_columns(entity, present).items():
        if missing:
            out[mid] = (False, words(missing))
            continue
        gaps = [
            f"{g} grain {words(by_grain[g][mid])}"
            for g in measures[mid].grains
            if g != "company" and by_grain[g].get(mid)
        ]
        out[mid] = (True, "; ".join(gaps))
    for mid, note in rulebook.optional_notes(entity, present).items():  # D-119: measurable, computed without it
        ok, why = out.get(mid, (True, ""))
        out[mid] = (ok, "; ".join(x for x in (why, "note: " + note.removeprefix("column ")) if x))
    return out


def _is_day(name: str) -> bool:
    try:
        datetime.strptime(name, "%Y-%m-%d")
        return True
    except ValueError:
        return False


# --- CLI -------------------------------------------------------------------------------------------------


def _cmd_suggest(args: argparse.Namespace) -> int:
    try:
        text = suggest(Path(args.file))
    except (OSError, ValueError) as e:
        print(f"kefu mapping suggest: {e}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} / 已写入初始映射; edit it, then: kefu mapping check {args.file} --mapping {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from ingest.mapping import MappingError

    try:
        res = check(Path(args.file), Path(args.mapping) if args.mapping else None, args.show)
    except (MappingError, OSError) as e:
        print(f"kefu mapping check: {e}", file=sys.stderr)
        return 2
    print(res)
    return 0 if res.status == "loaded" else 1


def add_parser(sub) -> None:
    m = sub.add_parser(
        "mapping",
        help="write and test a source mapping for a new export (导出文件映射)",
        description="Write a starting mapping for an export nobody has mapped yet (suggest), and "
        "dry-run ingest of one file through a mapping (check). See docs/ingest.md.",
    )
    msub = m.add_subparsers(dest="mapping_command", required=True, metavar="SUBCOMMAND")
    s = msub.add_parser("suggest", help="write a starting mapping from a file's header and values (生成初始映射)")
    s.add_argument("file", help="one export file (CSV or XLSX)")
    s.add_argument("--out", help="write the mapping here (default: print it)")
    s.set_defaults(func=_cmd_suggest)
    c = msub.add_parser(
        "check", help="dry run: what would load, be quarantined, and which rules become measurable (试运行)"
    )
    c.add_argument("file", help="one export file (CSV or XLSX)")
    c.add_argument("--mapping", help="a mapping file or folder (default: the shipped mappings)")
    c.add_argument("--show", type=int, default=10, help="quarantined rows to show (default 10)")
    c.set_defaults(func=_cmd_check)
