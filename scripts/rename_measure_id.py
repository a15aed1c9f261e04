"""One name per concept (issue 20 point 3, docs/style.md): a one-off rename, kept so it can be
re-applied to code written before it (another branch, before it is merged). It is not idempotent
(the new `rule_id` would be renamed again): run it once, on code from before the rename.

    python scripts/rename_measure_id.py            # rewrite the files in place, print what changed
    python scripts/rename_measure_id.py --diff     # print the change as a unified diff, write nothing

What it does, in every tracked text file (not docs/rule-index.md, which is generated, nor
benchmarks/results/, which are records, nor this script):
  - `rule_id` where it holds a rulebook measure (H2.1) becomes `measure_id`: kpi_rule_results and
    every table, frame, dict key and answer-key column that carries its key;
  - `catalogue_rule_id` (the catalogue rule, H2) becomes `rule_id`;
  - what already meant the catalogue rule keeps `rule_id`: the rulebook seed (`measures.rule_id`,
    `m.rule_id`), audit.kpi_breaches and the GX breach frames (expectations/gates.py,
    kefu/pipeline/nightly.py), the columns documented as "Catalogue rule id";
  - `is_hit` becomes `is_met` and the count of met items `hits` becomes `met_count` (dbt models);
  - `x as x` left by the rename becomes `x`.
Then regenerate what is generated from the code:
    python -m expectations.generate && python -m kefu.cli docs rule-index
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAT = "\x00CATALOGUE_RULE\x00"
SKIP_FILES = {
    "docs/rule-index.md",
    "scripts/rename_measure_id.py",
    "kefu/rule_index.py",
    "kefu/rulebook.py",
    "expectations/gates.py",
    "tests/unit/test_contract_and_rulebook.py",
}
SKIP_DIRS = ("benchmarks/results/", "docs/img/", "expectations/suites/")
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".j2", ".csv", ".toml", ".json", ".txt"}

# The catalogue rule, written as rule_id before the rename: kept as rule_id.
KEEP_CATALOGUE = [
    r"\bcatalogue_rule_id\b",
    r"(?<=\bmeasures\.)rule_id\b",
    r"(?<=\bm\.)rule_id\b(?=, m\.name_zh)",  # docs/analyst-guide.md: rulebook_measures as m
    r"(?<=measure_id: varchar, )rule_id\b",  # dbt_project.yml seed column types
    r'(?<="measure_id", )"rule_id"',  # kefu/build.py rulebook_measures.csv columns
    r"(?<=^measure_id,)rule_id\b",  # rulebook_measures.csv header
    r"\{measure_id: [^,]+, rule_id\b",  # unit-test mocks of rulebook_measures
    r"\brule_id\b(?=, measure_id, period_month)",  # the breach columns (expectations/README.md)
    r'"rule_id"(?=: m\.rule\b)',  # expectations/generate.py: an expectation's meta
    r'(?<=breaches\.groupby\()"rule_id"',  # kefu/pipeline/nightly.py: breaches by catalogue rule
    r"\brule_id\b(?=\n\s+description: Catalogue rule id)",  # yml columns that hold the catalogue rule
    r"\"rule_id\"(?=, \"条款\")",  # kefu/reports/workbook.py: the rulebook sheet's catalogue column
]
# Lines that said "measure AS rule_id, catalogue AS catalogue_rule_id" (or the reverse) at once.
WHOLE = [
    ("select catalogue_rule_id as rule_id, rule_id as measure_id,", f"select {CAT}, measure_id,"),
    ("select measure_id as rule_id, rule_id as catalogue_rule_id,", f"select measure_id, {CAT},"),
]
DBT_ONLY = [(r"\bis_hit\b", "is_met"), (r"\bhits\b", "met_count")]


def rename(text: str, path: str) -> str:
    for old, new in WHOLE:
        text = text.replace(old, new)
    for pattern in KEEP_CATALOGUE:
        text = re.sub(
            pattern, lambda m: m.group(0).replace("catalogue_rule_id", CAT).replace("rule_id", CAT), text, flags=re.M
        )
    text = re.sub(r"\brule_id\b", "measure_id", text)
    text = text.replace(CAT, "rule_id")
    if path.startswith("dbt_project/models/"):
        for pattern, new in DBT_ONLY:
            text = re.sub(pattern, new, text)
    # `x.measure_id as measure_id` / `measure_id as measure_id` left by the rename
    text = re.sub(r"\b((?:\w+\.)?(measure_id|rule_id)) as \2\b", r"\1", text)
    return text


def files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [
        p
        for p in out.splitlines()
        if Path(p).suffix in SUFFIXES and p not in SKIP_FILES and not p.startswith(SKIP_DIRS)
    ]


def main(argv: list[str]) -> int:
    import difflib

    diff = "--diff" in argv
    changed = []
    for rel in files():
        path = ROOT / rel
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        new = rename(text, rel)
        if new != text:
            changed.append(rel)
            if diff:
                sys.stdout.writelines(
                    difflib.unified_diff(text.splitlines(True), new.splitlines(True), f"a/{rel}", f"b/{rel}")
                )
            else:
                path.write_text(new, encoding="utf-8")
    if not diff:
        print("\n".join(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
