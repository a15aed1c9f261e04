"""Issue 20 "one of each": every rule-family list, the amber margin, the pass/fail decision and the
company unit are written in one place (kefu/rulebook.yml, and the dbt macros that read it); the
code base is grepped for copies (D-145, D-146).

Searched: the tracked source files (Python, SQL, yml, Jinja templates) outside tests/, docs/, the
files generated from the rulebook, the benchmark floor and the generator (whose synthetic-data plan
names measures on purpose: the answer key stays independent of the code it checks)."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest

from kefu import build, rulebook

ROOT = Path(__file__).resolve().parents[2]
SOURCE_SUFFIXES = (".py", ".sql", ".yml", ".yaml", ".j2", ".toml")
# The one place (the rulebook), and the files written from it by kefu/build.py / expectations/generate.py.
THE_ONE_PLACE = {"kefu/rulebook.yml"}
GENERATED = (
    "dbt_project/macros/generated/",
    "dbt_project/seeds/generated/",
    "dbt_project/tests/fixtures/",
    "expectations/suites/",
)
NOT_SEARCHED = ("tests/", "docs/", "benchmarks/", "generator/")


def source_files() -> dict[str, str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    out = {}
    for rel in listed:
        if not rel.endswith(SOURCE_SUFFIXES) or rel in THE_ONE_PLACE or rel.startswith(GENERATED + NOT_SEARCHED):
            continue
        path = ROOT / rel
        if path.is_file():
            out[rel] = path.read_text(encoding="utf-8", errors="replace")
    return out


def list_patterns(first: str, second: str) -> list[re.Pattern]:
    """Two measures of a family written as members of one list: quoted and comma-separated
    ('C1', 'C2' / "C1", "C2") in code, or an inline yml list (values: [C1, C2])."""
    a, b = re.escape(first), re.escape(second)
    return [
        re.compile(rf"(['\"]){a}\1\s*,\s*\1{b}\1"),
        re.compile(rf"^\s*(?:-\s*)?[\w]+:\s*\[[^\]\n]*\b{a}\s*,\s*{b}\b", re.M),
    ]


def copies_of_family_lists(files: dict[str, str]) -> list[str]:
    found = []
    for family in rulebook.families():
        ids = rulebook.family_measures(family)
        for first, second in itertools.pairwise(ids):
            for rel, text in files.items():
                for pattern in list_patterns(first, second):
                    for m in pattern.finditer(text):
                        line = text.count("\n", 0, m.start()) + 1
                        found.append(f"{rel}:{line}: family {family} list ({first}, {second}, …)")
    return found


def test_the_finder_finds_a_typed_family_list():
    """The search can fail: a hand-typed list of each kind is found."""
    typed = {
        "a.py": 'RULES = ["A1", "A2", "A3", "A4", "A6"]\n',
        "b.sql": "where measure_id in ('H1', 'H2.1', 'H2.2')\n",
        "c.yml": "          - accepted_values:\n              arguments:\n                values: [N1, N2]\n",
        "d.yml": "description: Notices (N1, N2) given late.\n",
    }  # prose names rules: not a list
    found = copies_of_family_lists(typed)
    assert {f.split(":")[0] for f in found} == {"a.py", "b.sql", "c.yml"}, found


def test_every_rule_family_list_is_in_the_rulebook_only():
    found = copies_of_family_lists(source_files())
    assert found == [], (
        "rule-family lists typed outside kefu/rulebook.yml (read rulebook.family_measures / "
        "page_measures, or the dbt macro rulebook_family):\n" + "\n".join(found)
    )


def test_the_amber_margin_and_the_verdict_are_decided_once():
    """The amber margin is a rulebook setting; the comparison of value with threshold (pass/fail) and
    the amber test are written once, in dbt_project/macros/rulebook.sql (the generator's oracle
    judges independently through kefu.rulebook.Measure.passes, by design)."""
    files = source_files()
    margin = re.compile(r"AMBER_MARGIN\s*=|amber_margin\s*[:=]\s*\d|<=\s*\d*\.\d+\s*\*\s*abs\(", re.I)
    verdict = re.compile(r"when\s+'(?:>=|<=|>|<)'\s+then")
    margins = [rel for rel, text in files.items() if margin.search(text)]
    verdicts = [rel for rel, text in files.items() if verdict.search(text)]
    assert margins == [], margins
    assert verdicts == ["dbt_project/macros/rulebook.sql"], verdicts


def test_the_company_unit_is_not_typed_in_sql():
    typed = [f"{rel}: 'ALL'" for rel, text in source_files().items() if rel.endswith(".sql") and "'ALL'" in text]
    assert typed == [], typed


def test_the_generated_rulebook_macro_is_current():
    for name, text in build.macro_files().items():
        committed = (build.GENERATED_MACROS / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"macros/generated/{name} is stale: run `python -c 'from kefu import build; build.write_seeds()'`"
        )


def test_families_cover_every_measure_and_pages_list_their_rules_in_rulebook_order():
    fams = rulebook.families()
    assert list(fams) == ["T", "N", "C", "V", "H", "S", "P", "B", "A", "R"]
    judged = [i for f in fams for i in rulebook.family_measures(f)]
    assert sorted(judged) == sorted(m.id for m in rulebook.numeric_measures())
    order = rulebook.display_order()
    for page in ("callbacks", "hotline", "vip", "districts"):
        ids = rulebook.page_measures(page)
        assert ids == sorted(ids, key=order.get) and ids
    assert rulebook.page_measures("callbacks")[-1] == "P1"  # P1 is on the callbacks page, family P
    assert rulebook.family_measures("C") == [f"C{i}" for i in range(1, 10)]
    with pytest.raises(KeyError, match="no family 'X'"):
        rulebook.family_measures("X")


def test_a_measure_of_an_undeclared_family_is_refused(monkeypatch):
    real = rulebook.settings()
    monkeypatch.setattr(
        rulebook, "settings", lambda: {**real, "families": [{"id": "T", "name_zh": "工单", "name_en": "Tickets"}]}
    )
    rulebook.families.cache_clear()
    try:
        with pytest.raises(ValueError, match="which `families:` does not list"):
            rulebook.families()
    finally:
        rulebook.families.cache_clear()
