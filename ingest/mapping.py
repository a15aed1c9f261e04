"""Source mappings: how one source system's exports map onto the data contract.

A mapping is a YAML file in ingest/mappings/ (or a folder given in the ingest
configuration). Everything a mapping does not say comes from the contract
(kefu/contract.yml): a column is found under its canonical name or its Chinese
header, an enum value is accepted as its Chinese label or its canonical value,
booleans as 是/否 or true/false. See docs/ingest.md for the format.
"""

from __future__ import annotations

import re
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
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
]
DEFAULT_DATE_FORMATS = ["%Y/%m/%d", "%Y年%m月%d日", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
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

    @property
    def contract_entity(self) -> contract.Entity:
        return contract.entity(self.entity)

    def column_for(self, header: Any) -> str | None:
        return self.headers.get(normalise_header(header))

    def enum_labels(self, column: str) -> dict[str, str]:
        """Export label (lower-cased) -> canonical value for an enum column."""
        col = self.contract_entity.column(column)
        out = {k.casefold(): k for k in col.values}
        out.update({v.casefold(): k for k, v in col.values.items()})
        out.update(self.values.get(column, {}))
        return out

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
            cols = {r.column_for(h) for h in header} - {None}
            required = set(r.contract_entity.identity_columns)
            if required <= cols:
                scored.append((len(cols), r))
        scored.sort(key=lambda t: -t[0])
        return [r for _, r in scored]


def _labels(spec: Any, defaults: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([str(x).casefold() for x in (spec or [])] + defaults))


def _rule(name: str, top: dict[str, Any], f: dict[str, Any], where: str) -> FileRule:
    for k in ("pattern", "entity"):
        if k not in f:
            raise MappingError(f"{where}: a files entry needs '{k}'")
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
                    raise MappingError(f"{where}: header {export_header!r} maps to {canonical!r}, "
                                       f"not a column of {ent.name}")
                continue  # a mapping-wide header for another entity
            headers[normalise_header(export_header)] = canonical
    values: dict[str, dict[str, str]] = {}
    for spec in (top.get("values") or {}, f.get("values") or {}):
        for column, labels in spec.items():
            if column not in ent.column_names:
                continue
            col = ent.column(column)
            for label, canonical in (labels or {}).items():
                if col.type == "enum" and str(canonical) not in col.values:
                    raise MappingError(f"{where}: {column} value {label!r} maps to {canonical!r}, allowed: "
                                       + ", ".join(col.values))
                values.setdefault(column, {})[str(label).casefold()] = str(canonical)
    booleans = {**(top.get("booleans") or {}), **(f.get("booleans") or {})}

    def fmts(key: str, default: list[str]) -> tuple[str, ...]:
        return tuple(f.get(key) or top.get(key) or default)

    return FileRule(
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
    )


def load_file(path: Path) -> list[FileRule]:
    try:
        top = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from None
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
