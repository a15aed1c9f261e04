"""The rule index (docs/rule-index.md): from a rule ID to everything that implements it, one click each.

    kefu docs rule-index            write docs/rule-index.md
    kefu docs rule-index --check    exit 1 when the committed file is stale

For each measure of the rulebook, in rulebook order: its rulebook entry and catalogue row, the dbt
models that name it (SQL, or the model's yml descriptions and accepted values, or a wide mart's
`<id>_value` columns), the dbt unit tests whose rows hold it as `measure_id` / `rule_id`, the Python
tests that name it as a quoted string, its threshold expectation (expectations/suites), its
dashboard page (the rulebook's `page:` key) and the report sections that show it. Everything is
found in the files themselves, so the index cannot drift: tests/unit/test_rule_index.py fails when the
committed file differs from what this module writes.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from kefu import rulebook

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where built: the models' yml parse 10x faster
ROOT = Path(__file__).resolve().parents[1]
INDEX_FILE = ROOT / "docs" / "rule-index.md"
MODELS = ROOT / "dbt_project" / "models"
SUITES = ROOT / "expectations" / "suites"
TESTS = ROOT / "tests"
VIEWS = ROOT / "dashboards" / "views"
REPORTS = ROOT / "kefu" / "reports"
TEMPLATES = REPORTS / "templates"

# the report sections a measure can appear in, found by their heading in the templates
MONTHLY_SECTIONS = ("二、指标一览", "三、未达标规则明细")
WEEKLY_SECTION = "一、工单时限"
# the weekly summary (R2) reads marts.fct_ticket_sla: one row per ticket and measure of the time
# limits int_ticket_sla_parts applies (and the measures defined as one of them, rulebook same_as)
WEEKLY_SOURCE = "int_ticket_sla_parts"
# the workbook sheets of the wide marts (kefu/reports/workbook.py): a measure with a column there is on it
WIDE_SHEETS = {
    "kpi_district_monthly": "片区考核 District A1-A6",
    "kpi_technician_monthly": "维修人员记分卡 Technicians",
}
WIDE = ("value", "passed", "threshold", "numerator", "denominator", "status", "months_passed")


@dataclass(frozen=True)
class Hit:
    """A place that names a measure: a label and a path (from the repository root) with a line."""

    label: str
    path: Path
    line: int

    def link(self) -> str:
        return f"[{self.label}](../{self.path.relative_to(ROOT).as_posix()}#L{self.line})"


def rel(path: Path) -> str:
    return "../" + path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------ how a measure is named


@cache
def id_pattern(measure_ids: tuple[str, ...]) -> re.Pattern:
    """A measure id as a word: T1 but not T10 or T1.2, H2.1 but not H2.10; lowercase in wide columns."""
    alts = "|".join(re.escape(m) for m in sorted(measure_ids, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_.])({alts})(?![A-Za-z0-9_]|\.[0-9])")


@cache
def wide_pattern(measure_id: str) -> re.Pattern:
    stem = measure_id.lower().replace(".", "_")
    return re.compile(rf"(?<![a-z0-9_]){re.escape(stem)}_(?:{'|'.join(WIDE)})\b")


_RANGE = re.compile(r"(?<![A-Za-z0-9_.])([A-Z])(\d+)\s*(?:–|-|…|\.\.\.?)\s*\1?(\d+)(?![0-9])")


def names(text: str, measure: rulebook.Measure) -> bool:
    """Whether text names the measure: its id, its catalogue rule's id (H2 for H2.1), a range that
    holds it (T1–T9, V1…V7) or a wide mart column (t9_value)."""
    ids = (measure.id,) + ((measure.rule,) if measure.rule != measure.id else ())
    if id_pattern(ids).search(text) or wide_pattern(measure.id).search(text):
        return True
    if "." in measure.id:
        return False
    letter, number = measure.id[0], int(measure.id[1:])
    return any(m.group(1) == letter and int(m.group(2)) <= number <= int(m.group(3)) for m in _RANGE.finditer(text))


def first_line(path: Path, measure: rulebook.Measure, lines: list[str] | None = None, model: str | None = None) -> int:
    """The first line naming the measure; in a yml of several models, within that model's entry."""
    lines = lines if lines is not None else path.read_text(encoding="utf-8").splitlines()
    start, end = 1, len(lines)
    if model is not None:
        start = next(
            (i for i, line in enumerate(lines, 1) if re.match(rf"^\s*- name: {re.escape(model)}\s*$", line)), 1
        )
        indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
        entry_end = re.compile(rf"^\s{{0,{indent}}}(- name: |[^\s-])")
        end = next((i - 1 for i, line in enumerate(lines, 1) if i > start and entry_end.match(line)), end)
    return next((i for i in range(start, end + 1) if names(lines[i - 1], measure)), start)


_KEYED = re.compile(r"""(\w+_id)["']?\s*[:=]\s*$""")


def quotes(source: str, measure_id: str) -> bool:
    """Whether Python source quotes the measure id as a string ("T9"), but not as the value of
    another id (a call or customer id "C5" in a test row): `"call_id": "C5"` does not count."""
    for hit in re.finditer(rf"""["']{re.escape(measure_id)}["']""", source):
        key = _KEYED.search(source[max(0, hit.start() - 40) : hit.start()])
        if key is None or key.group(1) in ("rule_id", "measure_id", "catalogue_rule_id"):
            return True
    return False


# ------------------------------------------------------------------ the layers


def rulebook_lines() -> dict[str, int]:
    lines = rulebook.RULEBOOK_FILE.read_text(encoding="utf-8").splitlines()
    return {m.group(1): i for i, line in enumerate(lines, 1) if (m := re.match(r"^  - id: (\S+)", line))}


def catalogue_lines() -> dict[str, int]:
    path = ROOT / "docs" / "kpi-catalogue.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    return {m.group(1): i for i, line in enumerate(lines, 1) if (m := re.match(r"^\|\s*([A-Z]\d+)\s*\|", line))}


def _yml_docs(entry: dict) -> str:
    """A model's yml text that says what it holds: descriptions and accepted values, not unit-test rows."""
    parts = [str(entry.get("description", ""))]
    for col in entry.get("columns") or []:
        parts.append(f"{col.get('name', '')} {col.get('description', '')}")
        for test in col.get("data_tests") or col.get("tests") or []:
            if isinstance(test, dict) and "accepted_values" in test:
                spec = test["accepted_values"]
                values = (spec.get("arguments") or spec).get("values", [])
                parts.append(" ".join(str(v) for v in values))
    return "\n".join(parts)


@dataclass(frozen=True)
class Project:
    """What the index reads once: models (sql + yml docs), unit tests, Python tests, suites, pages."""

    models: dict[str, tuple[Path, str, Path | None, str]]  # name -> (sql, sql text, yml, yml docs)
    unit_tests: list[tuple[str, str, Path, int, set[str]]]  # (model, name, yml, line, measure ids in rows)
    py_tests: list[tuple[str, Path, int, str]]  # (test name, file, line, source)
    suites: dict[str, tuple[Path, int, dict]]  # measure id -> (suite, line, expectation)
    pages: dict[str, str]  # view name -> title

    @classmethod
    def read(cls) -> Project:
        models: dict[str, tuple[Path, str, Path | None, str]] = {}
        for sql in sorted(MODELS.rglob("*.sql")):
            models[sql.stem] = (sql, sql.read_text(encoding="utf-8"), None, "")
        unit_tests = []
        for yml in sorted(MODELS.rglob("*.yml")):
            text = yml.read_text(encoding="utf-8")
            lines = text.splitlines()
            raw = yaml.load(text, Loader=Loader) or {}
            for entry in raw.get("models") or []:
                if entry.get("name") in models:
                    sql, sql_text, _, _ = models[entry["name"]]
                    models[entry["name"]] = (sql, sql_text, yml, _yml_docs(entry))
            for test in raw.get("unit_tests") or []:
                held: set[str] = set()
                for block in [*(test.get("given") or []), test.get("expect") or {}]:
                    for row in block.get("rows") or []:
                        if isinstance(row, dict):
                            held |= {str(row[k]) for k in ("measure_id", "rule_id", "same_as") if row.get(k)}
                line = next(
                    (i for i, s in enumerate(lines, 1) if re.match(rf"^\s*- name: {re.escape(test['name'])}\s*$", s)), 1
                )
                unit_tests.append((test["model"], test["name"], yml, line, held))
        py_tests = []
        for path in sorted(p for p in TESTS.rglob("test_*.py") if p.name != "test_rule_index.py"):  # not its own
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # parametrize rows too
                    py_tests.append((node.name, path, node.lineno, "\n".join(lines[start - 1 : node.end_lineno])))
        suites: dict[str, tuple[Path, int, dict]] = {}
        for path in sorted(SUITES.glob("thresholds.*.json")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for exp in json.loads("\n".join(lines))["expectations"]:
                mid = exp.get("meta", {}).get("measure_id")
                if mid:
                    line = next((i for i, s in enumerate(lines, 1) if exp["description"] in s), 1)
                    suites[mid] = (path, line, exp)
        app = (ROOT / "dashboards" / "app.py").read_text(encoding="utf-8")
        pages = dict(re.findall(r'st\.Page\(\s*"views/(\w+)\.py",\s*title="([^"]+)"', app))  # any layout
        return cls(models, unit_tests, py_tests, suites, pages)


def layer(path: Path) -> str:
    return path.relative_to(MODELS).parts[0]


def template_line(template: str, heading: str) -> int:
    lines = (TEMPLATES / template).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if heading in line)


# ------------------------------------------------------------------ one measure


def entry(m: rulebook.Measure, project: Project, rb_lines: dict[str, int], cat_lines: dict[str, int]) -> dict:
    """Every place that implements measure m, as Markdown links, by layer."""
    models = []
    for name, (sql, text, yml, docs) in project.models.items():
        if names(text, m):
            models.append((layer(sql), Hit(name, sql, first_line(sql, m, text.splitlines()))))
        elif yml is not None and names(docs, m):
            models.append((layer(sql), Hit(name, yml, first_line(yml, m, model=name))))
    if m.is_numeric and not any(h.label == "kpi_rule_results" for _, h in models):
        sql = project.models["kpi_rule_results"][0]
        models.append(("marts", Hit("kpi_rule_results", sql, 1)))  # every measure judged against a threshold
    unit = [Hit(f"{model}: {name}", yml, line) for model, name, yml, line, held in project.unit_tests if m.id in held]
    py = [Hit(f"{path.stem}::{name}", path, line) for name, path, line, src in project.py_tests if quotes(src, m.id)]
    suite = project.suites.get(m.id)
    source = project.models[WEEKLY_SOURCE]
    weekly = m.is_numeric and any(
        names(source[1] + source[3], x) for x in [m] + ([rulebook.load()[m.same_as]] if m.same_as else [])
    )
    return {
        "models": models,
        "unit": unit,
        "py": py,
        "suite": suite,
        "weekly": weekly,
        "rulebook": rb_lines[m.id],
        "catalogue": cat_lines.get(m.rule),
    }


def anchor(measure_id: str) -> str:
    return measure_id.lower().replace(".", "-")


def render() -> str:
    """docs/rule-index.md as this module writes it."""
    from kefu.reports.workbook import GRAINS as SHEETS

    project = Project.read()
    rb_lines, cat_lines = rulebook_lines(), catalogue_lines()
    measures = list(rulebook.load().values())
    entries = {m.id: entry(m, project, rb_lines, cat_lines) for m in measures}
    rb, cat = rel(rulebook.RULEBOOK_FILE), rel(ROOT / "docs" / "kpi-catalogue.md")
    monthly, weekly = TEMPLATES / "monthly.html.j2", TEMPLATES / "weekly.html.j2"

    out = [
        "<!-- generated by `kefu docs rule-index` (kefu/rule_index.py): do not edit by hand -->",
        "# Rule index · 规则索引",
        "",
        "From a rule ID to everything that implements it: its rulebook entry (the one place its",
        "threshold is written), the dbt models that name it, its tests, its threshold expectation,",
        "its dashboard page and the report sections that show it. Generated from the files",
        "themselves: `kefu docs rule-index` rewrites this page, and `tests/unit/test_rule_index.py` fails",
        'when it is stale. A model "names" a rule when its SQL, its yml descriptions or accepted',
        "values, or a wide mart's `<id>_value` column name it (ranges such as T1–T9 included);",
        "tests are dbt unit tests whose rows hold the measure id, and Python tests that quote it.",
        "",
        "| ID | 名称 · name | kind | grains | page | expectation |",
        "|---|---|---|---|---|---|",
    ]
    for m in measures:
        e = entries[m.id]
        suite = f"[{e['suite'][0].stem}]({rel(e['suite'][0])}#L{e['suite'][1]})" if e["suite"] else "—"
        page = m.spec.get("page")
        page_link = f"[{page}]({rel(VIEWS / f'{page}.py')})" if page else "—"
        out.append(
            f"| [{m.id}](#{anchor(m.id)}) | {m.name_zh} · {m.name_en} | {m.kind} | "
            f"{', '.join(m.grains) or '—'} | {page_link} | {suite} |"
        )

    for m in measures:
        e = entries[m.id]
        out += ["", f'<a id="{anchor(m.id)}"></a>', f"## {m.id} {m.name_zh} · {m.name_en}", ""]
        threshold = f"{m.comparison} {m.target}" if m.comparison else "no threshold"
        extra = f", same items as {m.same_as}" if m.same_as else ""
        out.append(
            f"- **Rulebook**: [kefu/rulebook.yml]({rb}#L{e['rulebook']}) — source {m.source or '—'}, "
            f"{m.kind}, grains {', '.join(m.grains) or '—'}, {threshold}{extra}"
        )
        if e["catalogue"]:
            out.append(f"- **Catalogue**: [docs/kpi-catalogue.md]({cat}#L{e['catalogue']}) (rule {m.rule})")
        for name in ("staging", "intermediate", "marts", "utilities"):
            hits = [h for lay, h in e["models"] if lay == name]
            if hits:
                out.append(f"- **dbt {name}**: " + ", ".join(h.link() for h in hits))
        if not e["models"]:
            out.append("- **dbt models**: none (a duty without a number: documented, not computed)")
        out.append("- **dbt unit tests**: " + (", ".join(h.link() for h in e["unit"]) or "none"))
        exact = "none by name (the exactness tests compare every row with the answer key)" if m.is_numeric else "none"
        out.append("- **Python tests**: " + (", ".join(h.link() for h in e["py"]) or exact))
        if e["suite"]:
            path, line, exp = e["suite"]
            out.append(
                f"- **Expectation**: [{path.stem}]({rel(path)}#L{line}) — `{exp['type']}`, "
                f"severity {exp.get('severity', '—')}"
            )
        else:
            out.append("- **Expectation**: none (no threshold to check)")
        page = m.spec.get("page")
        url = "/" if page == "overview" else f"/{page}"  # the overview is the default page
        pages = [f"[{project.pages.get(page, page)} `{url}`]({rel(VIEWS / f'{page}.py')})"] if page else []
        if page != "overview" and m.grains:
            pages.append(f"[{project.pages['overview']} `/`]({rel(VIEWS / 'overview.py')})")
        if "technician" in m.grains:
            pages.append(f"[{project.pages['technicians']} `/technicians`]({rel(VIEWS / 'technicians.py')})")
        out.append("- **Dashboard**: " + (", ".join(pages) or "— (a report duty: see Reports)"))
        reports = []
        if m.is_numeric:
            reports += [
                f"monthly PDF [{s}]({rel(monthly)}#L{template_line(monthly.name, s)})" for s in MONTHLY_SECTIONS
            ]
            sheets = [f"{SHEETS[g][0]} {SHEETS[g][1]}" for g in m.grains if g in SHEETS]
            marts = {h.label for _, h in e["models"]}
            sheets += [sheet for mart, sheet in WIDE_SHEETS.items() if mart in marts]
            reports.append("workbook sheets " + ", ".join(f"「{s}」" for s in sheets))
        if e["weekly"]:
            reports.append(f"weekly R2 [{WEEKLY_SECTION}]({rel(weekly)}#L{template_line(weekly.name, WEEKLY_SECTION)})")
        reports.append("workbook 「规定原文 Regulations」")
        code = [
            Hit(path.relative_to(REPORTS).as_posix(), path, first_line(path, m))
            for path in sorted([*REPORTS.glob("*.py"), *TEMPLATES.glob("*.j2")])
            if names(path.read_text(encoding="utf-8"), m)
        ]
        if code:
            reports.append("report code naming it: " + ", ".join(h.link() for h in code))
        out.append("- **Reports**: " + "; ".join(reports))
    return "\n".join(out) + "\n"


def write(path: Path = INDEX_FILE) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


def is_stale(path: Path = INDEX_FILE) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != render()
