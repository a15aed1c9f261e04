"""The layout shows the architecture (issue 20 point 4): production code does not lean on the
test-data generator, and each layer imports only what sits below it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_ingest_imports_nothing_from_the_generator() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imported_modules(p) if m.split(".")[0] == "generator")
        for p in sorted((ROOT / "ingest").rglob("*.py"))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"ingest/ must not import the test-data generator: {offenders}"


def test_the_import_scan_sees_a_generator_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from generator.formats import FORMATS\n", encoding="utf-8")
    assert "generator.formats" in _imported_modules(probe)


def test_intermediate_folders_are_named_after_the_mart_families() -> None:
    models = ROOT / "dbt_project" / "models"
    intermediate = {p.name for p in (models / "intermediate").iterdir() if p.is_dir()}
    marts = {p.name for p in (models / "marts").iterdir() if p.is_dir()}
    assert intermediate and intermediate <= marts, (
        f"intermediate folders without a mart family of that name: {sorted(intermediate - marts)} "
        f"(families: {sorted(marts)}; docs/style.md)"
    )
    empty = sorted(p.name for p in (models / "intermediate").iterdir() if p.is_dir() and not any(p.glob("*.sql")))
    assert not empty, f"empty intermediate folders: {empty}"
