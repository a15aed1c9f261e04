"""Source mappings: how one source system's exports map onto the data contract.

A mapping is a YAML file in ingest/mappings/ (or a folder given in the ingest
configuration). Everything a mapping does not say comes from the contract
(kefu/contract.yml): a column is found under its canonical name or its Chinese
header, an enum value is accepted as its Chinese label or its canonical value,
booleans as 是/否 or true/false. See docs/ingest.md for the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from kefu import contract

# libyaml's safe loader when PyYAML has it (same result, ~10x faster to parse), else the pure-Python one
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAPPINGS_DIR = Path(__file__).with_name("mappings")
DATE_IN_NAME = r"(?P<date>\d{8}|\d{4}-\d{2}-\d{2})"
DEFAULT_TRUE = ["是", "true", "y", "yes", "1"]
DEFAULT_FALSE = ["否", "false", "n", "no", "0"]
DEFAULT_TIMESTAMP_FORMATS = [
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
]
DEFAULT_DATE_FORMATS = ["%Y/%m/%d", "%Y年%m月%d日", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
DEFAULT_FOOTER = (r"^\s*(合计|总计|小计|共\s*\d+\s*条)",)  # trailing lines whose first cell matches are dropped
DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|", ",": ",", "\t": "\t", ";": ";", "|": "|"}
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
}
NORMALISE = ("case", "spaces", "width")
# special timestamp "formats": numbers rather than text
EPOCH_FORMATS = {"epoch_seconds": 1, "epoch_millis": 1000, "unix_seconds": 1, "unix_millis": 1000}  # name -> per second
DURATION_UNITS = ("hms", "minutes", "seconds")
DEFAULT_MONTH_FORMATS = ["%Y-%m", "%Y/%m", "%Y年%m月", "%Y%m", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]


class MappingError(ValueError):
    """A mapping file is malformed (named file, what is wrong)."""


def normalise_header(text: Any) -> str:
    """Header cells compare without case, surrounding blanks, a BOM or full-width brackets."""
    s = str(text or "").replace("\ufeff", "").strip().casefold()
    s = s.replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", " ", s)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """`话务详单_{date}*.csv` -> a full-match regex; `{date}` captures YYYYMMDD or YYYY-MM-DD."""
    out = []
    for part in re.split(r"(\{date\}|\*|\?)", pattern):
        out.append({"{date}": DATE_IN_NAME, "*": ".*", "?": "."}.get(part, re.escape(part)))
    return re.compile("".join(out), re.IGNORECASE)


def strptime_format(fmt: str) -> str:
    """A format as DuckDB strptime wants it: `%`-formats unchanged; `yyyyMMddHHmmss` / `dd-mm-yyyy` translated.

    Letters: yyyy yy MM dd HH hh mm ss SSS a (Java / Excel style); lower-case `mm` means the month when the
    pattern has no hour (`dd-mm-yyyy`), else minutes."""
    if "%" in fmt or fmt in EPOCH_FORMATS:
        return fmt
    has_hour = bool(re.search(r"[Hh]", fmt))
    tokens = {
        "yyyy": "%Y",
        "yy": "%y",
        "MM": "%m",
        "dd": "%d",
        "HH": "%H",
        "hh": "%I",
        "mm": "%M" if has_hour else "%m",
        "ss": "%S",
        "SSS": "%g",
        "a": "%p",
        "DD": "%d",
        "YYYY": "%Y",
    }
    out, i = [], 0
    while i < len(fmt):
        for t in sorted(tokens, key=len, reverse=True):
            if fmt.startswith(t, i):
                out.append(tokens[t])
                i += len(t)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def normalise_label(text: Any, how: tuple[str, ...] = ("case",)) -> str:
    """A value label as compared by a value map: NFKC (全角 -> 半角) for `width`, no blanks for `spaces`,
    case-folded for `case`; always trimmed."""
    s = str(text if text is not None else "").strip()
    if "width" in how:
        s = unicodedata.normalize("NFKC", s)
    if "spaces" in how:
        s = re.sub(r"\s+", "", s)
    if "case" in how:
        s = s.casefold()
    return s


@dataclass(frozen=True)
class ReaderOptions:
    """How to read a file (`reader:` of a files entry). None = detected."""

    delimiter: str | None = None  # one character; None = sniffed from the first lines
    quote: str = '"'
    escape: str = '"'
    encoding: str | None = None  # utf-8 | utf-8-sig | gb18030; None = from the bytes
    header_row: int | None = None  # 1-based line / Excel row of the header; None = found in the first 12
    header_rows: int = 1  # 2: a two-row header (group cells above, merged across), cells named "upper/lower"
    skip_rows: int = 0  # lines / rows above the header never looked at
    footer: tuple[str, ...] = DEFAULT_FOOTER  # regexes: trailing lines whose first non-empty cell matches are dropped
    sheets: tuple[str | int, ...] = ()  # names or 1-based positions; ("*",) every sheet; () the first


@dataclass(frozen=True)
class ValueMap:
    """A `values:` entry in the long form: labels, patterns, a default, normalisation."""

    labels: dict[str, str]  # normalised label -> canonical
    patterns: tuple[tuple[str, str, str], ...] = ()  # (regex | contains, normalised pattern, canonical)
    default: str | None = None
    normalise: tuple[str, ...] = ("case",)

    def resolve(self, raw: str | None, contract_labels: dict[str, str]) -> str | None:
        """The canonical value of one export value (None: not recognised, quarantined as bad_enum)."""
        if raw is None:
            return None
        n = normalise_label(raw, self.normalise)
        labels = {normalise_label(k, self.normalise): v for k, v in contract_labels.items()} | self.labels
        if n in labels:
            return labels[n]
        for kind, pat, canonical in self.patterns:
            if (kind == "contains" and pat in n) or (kind == "regex" and re.search(pat, n)):
                return canonical
        return self.default


@dataclass(frozen=True)
class Derived:
    """A column not read as one export cell (`constants:` / `derive:`): a fixed set of transforms."""

    kind: str  # constant | file_name | date_time | duration | header
    headers: tuple[str, ...] = ()  # export headers it reads (as written in the mapping)
    value: str | None = None  # constant
    pattern: str | None = None  # file_name: regex over the file name, group `value` or the first group
    formats: tuple[str, ...] = ()  # date_time / header: timestamp formats (strptime, epoch_*)
    unit: str | None = None  # duration: hms | minutes | seconds

    def describe(self) -> str:
        if self.kind == "constant":
            return f"constant {self.value!r}"
        if self.kind == "file_name":
            return f"from the file name by {self.pattern!r}"
        if self.kind == "duration":
            return f"{self.headers[0]} as a duration in {self.unit}"
        return " + ".join(self.headers)

    def file_value(self, file_name: str) -> str | None:
        m = re.search(self.pattern or "", file_name)
        if not m:
            return None
        return m.groupdict().get("value") or (m.group(1) if m.groups() else m.group(0))


@dataclass(frozen=True)
class FileRule:
    """One `files:` entry of a mapping: which files it takes and how to read them."""

    mapping: str  # mapping name (file stem)
    source: str  # source system recorded in the load log
    pattern: str
    regex: re.Pattern[str]
    entity: str
    sheet: str | None
    headers: dict[str, str]  # normalised export header -> canonical column
    values: dict[str, dict[str, str]]  # column -> lower-cased export label -> canonical value
    timestamp_formats: tuple[str, ...]
    date_formats: tuple[str, ...]
    month_formats: tuple[str, ...]
    true_labels: tuple[str, ...]
    false_labels: tuple[str, ...]
    day_first_ambiguous: bool = True  # flag 03/05/2026-like values as ambiguous_date when they fail to parse
    reader: ReaderOptions = ReaderOptions()
    value_maps: dict[str, ValueMap] = field(default_factory=dict)  # columns with a long-form value map
    derived: dict[str, Derived] = field(default_factory=dict)  # column -> how it is made
    path: str = ""  # the mapping file

    @property
    def contract_entity(self) -> contract.Entity:
        return contract.entity(self.entity)

    def column_for(self, header: Any) -> str | None:
        n = normalise_header(header)
        c = self.headers.get(n)
        if c is None and "/" in n and self.reader.header_rows > 1:  # "upper/lower" of a two-row header
            c = self.headers.get(n.rsplit("/", 1)[1].strip())
        return None if c in self.derived else c

    def enum_labels(self, column: str) -> dict[str, str]:
        """Export label (lower-cased) -> canonical value for an enum column."""
        col = self.contract_entity.column(column)
        out = {k.casefold(): k for k in col.values}
        out.update({v.casefold(): k for k, v in col.values.items()})
        out.update(self.values.get(column, {}))
        return out

    def resolve_value(self, column: str, raw: str | None) -> str | None:
        """Canonical value of an export value of an enum column, exactly as ingest types it."""
        if raw is None:
            return None
        vm = self.value_maps.get(column)
        if vm is None:
            return self.enum_labels(column).get(str(raw).strip().casefold())
        return vm.resolve(raw, self.enum_labels(column))

    def formats_for(self, column: str) -> tuple[str, ...]:
        d = self.derived.get(column)
        if d is not None and d.formats:
            return d.formats
        t = self.contract_entity.column(column).type
        return {"timestamp": self.timestamp_formats, "date": self.date_formats, "month": self.month_formats}.get(t, ())

    def derived_found(self, header: list[str]) -> set[str]:
        """Derived columns whose export headers are all in `header`."""
        have = {normalise_header(h) for h in header}
        return {c for c, d in self.derived.items() if all(normalise_header(h) in have for h in d.headers)}

    def export_date(self, path: Path) -> date | None:
        """The business date of a file: from its name, else from its day folder (YYYY-MM-DD)."""
        m = self.regex.fullmatch(path.name)
        if m and m.groupdict().get("date"):
            return _parse_stamp(m.group("date"))
        return _parse_stamp(path.parent.name)


def _parse_stamp(s: str) -> date | None:
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    return None


@dataclass
class Mappings:
    rules: list[FileRule] = field(default_factory=list)

    def by_name(self, path: Path) -> list[FileRule]:
        return [r for r in self.rules if r.regex.fullmatch(path.name)]

    def by_header(self, header: list[str]) -> list[FileRule]:
        """Rules whose entity's identity columns are all in `header`, best match first."""
        scored = []
        for r in self.rules:
            cols = ({r.column_for(h) for h in header} - {None}) | r.derived_found(header)
            required = set(r.contract_entity.identity_columns)
            if required <= cols:
                scored.append((len(cols), r))
        scored.sort(key=lambda t: -t[0])
        return [r for _, r in scored]


def _labels(spec: Any, defaults: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([str(x).casefold() for x in (spec or [])] + defaults))


# --- validation: a mapping is configuration, every key known, every value a literal ---------------------

TOP_KEYS = {
    "name",
    "source",
    "description",
    "files",
    "timestamp_formats",
    "date_formats",
    "month_formats",
    "headers",
    "values",
    "booleans",
    "contract_headers",
    "flag_ambiguous_dates",
    "reader",
}
FILE_KEYS = {
    "pattern",
    "entity",
    "source",
    "sheet",
    "timestamp_formats",
    "date_formats",
    "month_formats",
    "headers",
    "values",
    "booleans",
    "contract_headers",
    "flag_ambiguous_dates",
    "reader",
    "constants",
    "derive",
    "description",
}
READER_KEYS = {
    "delimiter",
    "quote",
    "escape",
    "encoding",
    "header_row",
    "header_rows",
    "skip_rows",
    "footer",
    "sheet",
    "sheets",
}
VALUE_KEYS = {"map", "match", "default", "normalise"}
DERIVE_KEYS = {"date", "time", "date_formats", "time_formats", "formats", "duration", "unit", "file_name", "header"}
UNSAFE_TEXT = re.compile(r"(^|[\\/])\.\.([\\/]|$)|[\\/]")  # path separators or `..`: not a name of this file


def _need(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise MappingError(f"{where}: {msg}")


def _keys(spec: Any, allowed: set[str], where: str) -> dict:
    _need(
        isinstance(spec, dict),
        where,
        f"expected a mapping of keys ({', '.join(sorted(allowed))}), got {type(spec).__name__}",
    )
    unknown = [str(k) for k in spec if k not in allowed]
    _need(not unknown, where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return spec


def _text_list(spec: Any, where: str) -> tuple[str, ...]:
    if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
        spec = [spec]
    _need(
        isinstance(spec, list) and all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in spec),
        where,
        "expected a text or a list of texts",
    )
    return tuple(str(x) for x in spec)


def _regex(pat: Any, where: str) -> str:
    _need(isinstance(pat, str) and pat != "", where, "expected a regular expression (text)")
    try:
        re.compile(pat)
    except re.error as e:
        raise MappingError(f"{where}: not a valid regular expression {pat!r}: {e}") from None
    return pat


def _one_char(v: Any, where: str, names: dict[str, str] | None = None) -> str:
    v = str(v)
    if names and v.lower() in names:
        return names[v.lower()]
    _need(
        len(v) == 1 and v not in "\r\n",
        where,
        "expected one character"
        + (f" or one of {', '.join(k for k in names if k.isalpha())}" if names else "")
        + f", got {v!r}",
    )
    return v


def _sheet_name(v: Any, where: str) -> str | int:
    if isinstance(v, int) and not isinstance(v, bool):
        _need(v >= 1, where, f"a sheet position counts from 1, got {v}")
        return v
    _need(isinstance(v, str) and v.strip() != "", where, "expected a sheet name or a position (1, 2, ...)")
    _need(
        not UNSAFE_TEXT.search(v),
        where,
        f"a sheet name cannot hold a path ({v!r}): a mapping reads only the sheets of the file it matched",
    )
    return v


def _reader(spec: Any, where: str, legacy_sheet: Any) -> ReaderOptions:
    spec = _keys(spec or {}, READER_KEYS, where)
    kw: dict[str, Any] = {}
    if "delimiter" in spec and spec["delimiter"] is not None:
        kw["delimiter"] = _one_char(spec["delimiter"], f"{where}.delimiter", DELIMITERS)
    for k in ("quote", "escape"):
        if k in spec:
            kw[k] = _one_char(spec[k], f"{where}.{k}")
    if spec.get("encoding") is not None:
        e = str(spec["encoding"]).lower()
        _need(e in ENCODINGS, f"{where}.encoding", f"expected one of {', '.join(ENCODINGS)}, got {e!r}")
        kw["encoding"] = ENCODINGS[e]
    for k in ("header_row", "skip_rows"):
        if spec.get(k) is not None:
            v = spec[k]
            _need(
                isinstance(v, int) and not isinstance(v, bool) and v >= (1 if k == "header_row" else 0),
                f"{where}.{k}",
                f"expected a whole number{' ≥ 1 (the first line is 1)' if k == 'header_row' else ' ≥ 0'}",
            )
            kw[k] = v
    if spec.get("header_rows") is not None:
        _need(spec["header_rows"] in (1, 2), f"{where}.header_rows", "expected 1 or 2 (a two-row header)")
        kw["header_rows"] = spec["header_rows"]
    if "footer" in spec:
        kw["footer"] = (
            tuple(_regex(p, f"{where}.footer") for p in _text_list(spec["footer"] or [], f"{where}.footer"))
            if spec["footer"]
            else ()
        )
    sheets = spec.get("sheets", spec.get("sheet", legacy_sheet))
    if sheets is not None:
        if sheets in ("*", "all"):
            kw["sheets"] = ("*",)
        else:
            items = sheets if isinstance(sheets, list) else [sheets]
            kw["sheets"] = tuple(_sheet_name(s, f"{where}.sheets") for s in items)
    return ReaderOptions(**kw)


def _value_map(col: contract.Column, spec: dict, where: str) -> ValueMap:
    spec = _keys(spec, VALUE_KEYS, where)
    how = _text_list(spec.get("normalise", ["case"]), f"{where}.normalise")
    bad = [h for h in how if h not in NORMALISE]
    _need(not bad, f"{where}.normalise", f"unknown {', '.join(bad)}; allowed: {', '.join(NORMALISE)}")

    def canon(v: Any, w: str) -> str:
        v = str(v)
        _need(v in col.values, w, f"maps to {v!r}, allowed: {', '.join(col.values)}")
        return v

    labels = {normalise_label(k, how): canon(v, f"{where}.map[{k!r}]") for k, v in (spec.get("map") or {}).items()}
    pats = []
    for i, m in enumerate(spec.get("match") or []):
        w = f"{where}.match[{i}]"
        m = _keys(m, {"regex", "contains", "value"}, w)
        kinds = [k for k in ("regex", "contains") if k in m]
        _need(len(kinds) == 1 and "value" in m, w, "expected {regex: PATTERN, value: V} or {contains: TEXT, value: V}")
        pat = _regex(m["regex"], w) if kinds[0] == "regex" else normalise_label(m["contains"], how)
        pats.append((kinds[0], pat, canon(m["value"], w)))
    default = canon(spec["default"], f"{where}.default") if spec.get("default") is not None else None
    return ValueMap(labels, tuple(pats), default, how)


def _derive(col: contract.Column, spec: Any, where: str) -> Derived:
    spec = _keys(spec, DERIVE_KEYS, where)
    fmts = lambda k: tuple(strptime_format(f) for f in _text_list(spec[k], f"{where}.{k}"))  # noqa: E731
    if "file_name" in spec:
        pat = _regex(spec["file_name"], f"{where}.file_name")
        _need(
            re.compile(pat).groups >= 1 or "(?P<value>" in pat,
            f"{where}.file_name",
            "the regex needs a group that captures the value, e.g. '_(D\\d+)_'",
        )
        return Derived("file_name", pattern=pat)
    if "date" in spec:
        _need("time" in spec, where, "a date column needs its time column (time: HEADER)")
        _need(col.type == "timestamp", where, f"date + time makes a timestamp; {col.name} is a {col.type}")
        dfs = fmts("date_formats") if "date_formats" in spec else tuple(DEFAULT_DATE_FORMATS[:3])
        tfs = fmts("time_formats") if "time_formats" in spec else ("%H:%M:%S", "%H:%M")
        combos = tuple(f"{d} {t}" for d in dfs for t in tfs) + ("%Y-%m-%d %H:%M:%S",)
        return Derived("date_time", headers=(str(spec["date"]), str(spec["time"])), formats=combos)
    if "duration" in spec:
        unit = str(spec.get("unit", "hms"))
        _need(unit in DURATION_UNITS, f"{where}.unit", f"expected one of {', '.join(DURATION_UNITS)}, got {unit!r}")
        _need(col.type in ("integer", "number"), where, f"a duration gives seconds; {col.name} is a {col.type}")
        return Derived("duration", headers=(str(spec["duration"]),), unit=unit)
    if "header" in spec:
        f = fmts("formats") if "formats" in spec else ()
        _need(
            not f or col.type in ("timestamp", "date", "month"),
            f"{where}.formats",
            f"formats apply to dates and times; {col.name} is a {col.type}",
        )
        return Derived("header", headers=(str(spec["header"]),), formats=f)
    raise MappingError(f"{where}: expected one of date+time, duration, file_name, header")


def _rule(name: str, top: dict[str, Any], f: dict[str, Any], where: str) -> FileRule:
    f = _keys(f, FILE_KEYS, where)
    for k in ("pattern", "entity"):
        if k not in f:
            raise MappingError(f"{where}: a files entry needs '{k}'")
    _need(
        isinstance(f["pattern"], str) and not UNSAFE_TEXT.search(f["pattern"]),
        f"{where}.pattern",
        f"a file-name pattern cannot hold a folder or '..' ({f['pattern']!r}): it matches names of files in "
        "the landing folder only",
    )
    try:
        ent = contract.entity(f["entity"])
    except KeyError:
        raise MappingError(f"{where}: unknown entity {f['entity']!r} (see docs/data-contract.md)") from None
    use_contract = f.get("contract_headers", top.get("contract_headers", True))
    headers: dict[str, str] = {}
    if use_contract:
        for c in ent.columns:
            headers[normalise_header(c.name)] = c.name
            headers[normalise_header(c.zh)] = c.name
    for spec in (top.get("headers") or {}, f.get("headers") or {}):
        for export_header, canonical in spec.items():
            if canonical not in ent.column_names:
                if spec is f.get("headers"):
                    raise MappingError(
                        f"{where}: header {export_header!r} maps to {canonical!r}, not a column of {ent.name}"
                    )
                continue  # a mapping-wide header for another entity
            headers[normalise_header(export_header)] = canonical
    values: dict[str, dict[str, str]] = {}
    value_maps: dict[str, ValueMap] = {}
    for spec in (top.get("values") or {}, f.get("values") or {}):
        for column, labels in spec.items():
            if column not in ent.column_names:
                if spec is f.get("values"):
                    raise MappingError(f"{where}.values: {column!r} is not a column of {ent.name}")
                continue
            col = ent.column(column)
            if isinstance(labels, dict) and labels and set(labels) <= VALUE_KEYS:
                _need(
                    col.type == "enum",
                    f"{where}.values.{column}",
                    f"a value map needs an enum; {column} is a {col.type}",
                )
                value_maps[column] = _value_map(col, labels, f"{where}.values.{column}")
                continue
            _need(isinstance(labels or {}, dict), f"{where}.values.{column}", "expected export value: canonical value")
            for label, canonical in (labels or {}).items():
                if col.type == "enum" and str(canonical) not in col.values:
                    raise MappingError(
                        f"{where}: {column} value {label!r} maps to {canonical!r}, allowed: " + ", ".join(col.values)
                    )
                values.setdefault(column, {})[str(label).casefold()] = str(canonical)
    booleans = {**(top.get("booleans") or {}), **(f.get("booleans") or {})}
    derived: dict[str, Derived] = {}
    for column, value in (_keys(f.get("constants") or {}, set(ent.column_names), f"{where}.constants")).items():
        _need(isinstance(value, (str, int, float, bool)), f"{where}.constants.{column}", "expected a text or a number")
        derived[column] = Derived("constant", value=str(value))
    for column, spec in (_keys(f.get("derive") or {}, set(ent.column_names), f"{where}.derive")).items():
        _need(column not in derived, f"{where}.derive.{column}", "is also a constant")
        derived[column] = _derive(ent.column(column), spec, f"{where}.derive.{column}")
    reader = _reader({**(top.get("reader") or {}), **(f.get("reader") or {})}, f"{where}.reader", f.get("sheet"))

    def fmts(key: str, default: list[str]) -> tuple[str, ...]:
        return tuple(strptime_format(x) for x in _text_list(f.get(key) or top.get(key) or default, f"{where}.{key}"))

    rule = FileRule(
        mapping=name,
        source=str(f.get("source") or top.get("source") or ent.source),
        pattern=f["pattern"],
        regex=glob_to_regex(f["pattern"]),
        entity=ent.name,
        sheet=f.get("sheet"),
        headers=headers,
        values=values,
        timestamp_formats=fmts("timestamp_formats", DEFAULT_TIMESTAMP_FORMATS),
        date_formats=fmts("date_formats", DEFAULT_DATE_FORMATS),
        month_formats=fmts("month_formats", DEFAULT_MONTH_FORMATS),
        true_labels=_labels(booleans.get(True, booleans.get("true")), DEFAULT_TRUE),
        false_labels=_labels(booleans.get(False, booleans.get("false")), DEFAULT_FALSE),
        day_first_ambiguous=bool(f.get("flag_ambiguous_dates", top.get("flag_ambiguous_dates", True))),
        reader=reader,
        value_maps=value_maps,
        derived=derived,
        path=where.split(" files[")[0],
    )
    for column, d in derived.items():  # a constant enum value must be one the column accepts
        if d.kind == "constant" and ent.column(column).type == "enum":
            _need(
                rule.resolve_value(column, d.value) is not None,
                f"{where}.constants.{column}",
                f"{d.value!r} is not a value of {column}; allowed: "
                + ", ".join(f"{k} ({v})" for k, v in ent.column(column).values.items()),
            )
    return rule


def load_file(path: Path) -> list[FileRule]:
    try:
        top = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.constructor.ConstructorError as e:
        raise MappingError(
            f"{path}: YAML tags such as !!python/object are not allowed in a mapping "
            f"(configuration, not code): {e.problem}"
        ) from None
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from None
    _keys(top, TOP_KEYS, str(path))
    if not isinstance(top.get("files"), list):
        raise MappingError(f"{path}: needs a 'files:' list")
    name = str(top.get("name") or path.stem)
    return [_rule(name, top, f, f"{path} files[{i}]") for i, f in enumerate(top["files"])]


def load(dirs: list[Path] | None = None) -> Mappings:
    """Every mapping in `dirs` (default: ingest/mappings), in file-name order."""
    rules: list[FileRule] = []
    for d in dirs or [MAPPINGS_DIR]:
        files = [d] if d.is_file() else sorted(d.glob("*.yml")) + sorted(d.glob("*.yaml"))
        for p in files:
            rules.extend(load_file(p))
    return Mappings(rules)
