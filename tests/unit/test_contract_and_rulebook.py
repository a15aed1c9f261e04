"""The data contract and the rulebook agree with each other, the catalogue and the docs."""

from pathlib import Path

import pytest

from kefu import contract, rulebook

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "kpi-catalogue.md"
SHARED_CATALOGUE = ROOT.parent / "shared" / "kpi-catalogue.md"


def test_every_catalogue_rule_has_a_rulebook_measure():
    catalogue_ids = rulebook.catalogue_rule_ids(CATALOGUE)
    assert len(catalogue_ids) == 47
    measured = {m.rule for m in rulebook.load().values()}
    assert set(catalogue_ids) - measured == set()
    assert measured - set(catalogue_ids) == set()


def test_project_copy_of_the_catalogue_matches_the_shared_one():
    if not SHARED_CATALOGUE.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert CATALOGUE.read_text(encoding="utf-8") == SHARED_CATALOGUE.read_text(encoding="utf-8")


def test_every_rule_with_a_number_reads_existing_contract_columns():
    ents = contract.load()
    for m in rulebook.load().values():
        if m.kind == "process":
            assert not m.reads, m.id
            continue
        assert m.reads, f"{m.id} reads no column: no rule may be left without data"
        for ref in m.reads:
            entity, column = ref.split(".")
            assert column in ents[entity].column_names, f"{m.id}: {ref} is not in the contract"


def test_numeric_measures_have_grains_comparison_and_target():
    for m in rulebook.numeric_measures():
        assert m.grains, m.id
        assert m.comparison in rulebook.COMPARISONS, m.id
        assert m.target is not None, m.id


def test_per_unit_targets_are_read_from_the_rulebook():
    s1 = rulebook.load()["S1"]
    assert s1.target_for("gotone_vip") == 0.90
    assert s1.passes(0.90, "gotone_vip") is True
    assert s1.passes(0.8999, "gotone_vip") is False
    assert s1.passes(0.85, "gotone") is True
    with pytest.raises(KeyError):
        s1.target_for("nonexistent")


def test_strict_comparisons_follow_the_regulation_wording():
    ms = rulebook.load()
    assert ms["S2"].passes(0.99) is False  # 高于99%: exactly 99% is not enough
    assert ms["A2"].passes(0.000015) is False  # 低于0.0015%
    assert ms["A2"].passes(0.0) is True
    assert ms["H2.2"].passes(0.005) is True  # ≤0.5%


def test_limits_parse_durations_and_working_days():
    ms = rulebook.load()
    assert ms["T1"].limit("emergency").duration.total_seconds() == 8 * 3600
    assert ms["T3"].limit("rural").working_days == 10
    assert ms["T8"].limit().duration.total_seconds() == 30 * 60
    assert ms["H1"].limit().duration.total_seconds() == 20


def test_pii_columns_are_flagged():
    pii = {(e.name, c.name) for e in contract.load().values() for c in e.columns if c.pii}
    for needed in [
        ("customers", "phone"),
        ("customers", "customer_name"),
        ("customers", "id_number"),
        ("customers", "address"),
        ("calls", "caller_phone"),
        ("technicians", "technician_name"),
    ]:
        assert needed in pii


def test_enum_labels_are_unique_within_a_column():
    for e in contract.load().values():
        for c in e.columns:
            labels = list(c.values.values())
            assert len(labels) == len(set(labels)), f"{e.name}.{c.name}"


def test_data_contract_doc_is_generated_from_the_contract():
    doc = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert doc == contract.to_markdown(), "run: kefu contract --markdown > docs/data-contract.md"
    for rule_id in rulebook.catalogue_rule_ids(CATALOGUE):
        assert f"| {rule_id} |" in doc or f"| {rule_id}." in doc
