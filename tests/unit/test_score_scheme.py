"""The rulebook's `score:` section (docs/decisions.md D-135): read as the score scheme, and a wrong
section is refused with a message that says what is wrong."""

from __future__ import annotations

import pytest

from kefu import build, rulebook


@pytest.fixture
def with_score(monkeypatch):
    """Run rulebook.score_scheme() over the real settings with the score section replaced."""
    real = rulebook.settings()

    def use(section):
        monkeypatch.setattr(rulebook, "settings", lambda: {**real, "score": section})
        rulebook.score_scheme.cache_clear()
        return rulebook.score_scheme()

    yield use
    rulebook.score_scheme.cache_clear()


GOOD = {"base": 100, "cap": 30, "default_deduction": 2, "deductions": {"T1": 4, "A2": 0}, "grains": ["district"]}


def test_a_listed_measure_costs_its_deduction_the_others_the_default(with_score):
    s = with_score(GOOD)
    assert (s.base, s.cap) == (100.0, 30.0)
    assert s.deduction("T1") == 4.0 and s.deduction("A2") == 0.0 and s.deduction("T2") == 2.0
    district = s.measures("district")
    assert district["T1"] == 4.0 and "R3" not in district and "H2.1" not in district  # H2.1: queue grain only
    assert set(s.measures("technician")) == {m.id for m in rulebook.numeric_measures() if "technician" in m.grains}


@pytest.mark.parametrize(
    "change, words",
    [
        ({"deductions": {"R3": 5}}, "R3"),  # measured, no threshold: nothing to fail
        ({"deductions": {"ZZ9": 5}}, "ZZ9"),
        ({"cap": 120}, "cap"),
        ({"default_deduction": -1}, ">= 0"),
        ({"grains": ["company"]}, "company"),
        ({"base": "hundred"}, "numbers"),
    ],
)
def test_a_wrong_score_section_is_refused_naming_what_is_wrong(with_score, change, words):
    with pytest.raises(ValueError, match="rulebook score") as err:
        with_score({**GOOD, **change})
    assert words in str(err.value)


def test_the_seeds_carry_every_scored_measure_and_grain_with_its_points(with_score, monkeypatch):
    with_score(GOOD)
    files = build.seed_files()
    lines = files["rulebook_score_measures.csv"].splitlines()
    assert lines[0] == "measure_id,grain,deduction"
    assert "T1,district,4.0" in lines and "A2,district,0.0" in lines and "T2,district,2.0" in lines
    assert not any(",technician," in line for line in lines)  # only the grains the section lists
    assert files["rulebook_score_settings.csv"].splitlines() == ["base,cap", "100.0,30.0"]
