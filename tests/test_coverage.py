"""Coverage figures from the worked cases: the confusion matrix, under- and over-triage, idle rules, thresholds."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from examples import reaching
from symptomcheck.cli import rules
from symptomcheck.rules import coverage, vignettes
from symptomcheck.rules.vignettes import Vignette
from tests.helpers import CLINICAL, PUBLISHED_RULES, ROOT, RULES_FILE

ALL_CASES = [str(CLINICAL / "vignettes.yaml"), *sorted(str(path) for path in (ROOT / "tests/vignettes").glob("*.yaml"))]


def case(case_id: str, level: str, expect: str, pattern: str | None = None) -> Vignette:
    return Vignette(case_id, "A story.", reaching(level), expect, pattern)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(rules, list(args))
    return result.exit_code, result.stdout


def test_the_matrix_counts_expected_against_suggested() -> None:
    cases = [case("a", "urgent", "urgent"), case("b", "soon", "urgent"), case("c", "routine", "soon")]
    figures = coverage.measure(PUBLISHED_RULES, [*cases, case("d", "soon", "soon")])
    assert figures.count("urgent", "urgent") == 1
    assert figures.count("urgent", "soon") == 1  # b: under-triage
    assert figures.count("soon", "routine") == 1  # c: under-triage
    assert figures.count("soon", "soon") == 1
    assert [outcome.id for outcome in figures.under] == ["b", "c"]
    assert figures.over == ()
    assert figures.level_matches == 2


def test_over_triage_is_counted_apart() -> None:
    figures = coverage.measure(PUBLISHED_RULES, [case("up", "urgent", "soon")])
    assert [outcome.id for outcome in figures.over] == ["up"]
    assert figures.under == ()
    soon = next(cut for cut in figures.cuts if cut.level == "soon")
    assert (soon.true_positive, soon.needed) == (1, 1)
    urgent = next(cut for cut in figures.cuts if cut.level == "urgent")
    assert (urgent.true_negative, urgent.not_needed) == (0, 1)  # sent to care today though a week would do


def test_pattern_match_counts_only_cases_that_expect_one() -> None:
    figures = coverage.measure(
        PUBLISHED_RULES, [case("p1", "routine", "routine", "cgh_likely"), case("p2", "routine", "routine", "unclear")]
    )
    assert (figures.pattern_matches, figures.with_pattern) == (1, 2)
    assert figures.cases[1].triage == "match" and not figures.cases[1].matches
    assert coverage.case_line(figures.cases[1]).startswith("PATTERN p2: expected routine/unclear, suggested routine/")


def test_rules_no_case_fires_are_listed_and_shadowed_patterns_still_count_as_fired() -> None:
    figures = coverage.measure(PUBLISHED_RULES, [case("a", "routine", "routine")])
    fired = set(figures.cases[0].fired)
    assert {"pattern-neck-likely", "pattern-neck-possible", "routine-lasted-a-month", "where-neck-clinic"} <= fired
    assert "emergency-thunderclap" in figures.unfired
    assert set(figures.unfired) == {rule.id for rule in PUBLISHED_RULES.rules} - fired


def test_each_threshold_says_whether_cases_sit_on_both_sides() -> None:
    low = Vignette("low", "Mild.", reaching("self_care"), "self_care", None)  # pain 2, 2 days
    figures = coverage.measure(PUBLISHED_RULES, [low])
    by_answer = {(threshold.answer_id, threshold.boundary): threshold for threshold in figures.thresholds}
    assert set(by_answer) == {("headache_days", 5), ("pain_intensity", 4), ("pain_relief_days", 10)}
    pain = by_answer["pain_intensity", 4]
    assert (pain.below, pain.at_or_above, pain.both_sides) == (1, 0, False)
    assert "routine-more-than-mild-pain" in pain.rules and "self-care-new-and-mild" in pain.rules  # at_most: 3 is < 4
    figures = coverage.measure(PUBLISHED_RULES, [low, case("high", "routine", "routine")])
    pain = next(threshold for threshold in figures.thresholds if threshold.answer_id == "pain_intensity")
    assert (pain.below, pain.at_or_above, pain.both_sides) == (1, 1, True)


def test_answers_that_cannot_be_assessed_are_reported_not_counted() -> None:
    broken = Vignette("x", "Nothing.", {"age_band": "18_49", "red_flags": []}, "routine", None)
    figures = coverage.measure(PUBLISHED_RULES, [broken])
    assert figures.not_assessed[0].problem is not None and "not valid" in figures.not_assessed[0].problem
    assert figures.count("routine", "routine") == 0 and figures.matches == 0


def test_rules_test_prints_the_figures_for_todays_cases() -> None:
    code, out = run("test", *ALL_CASES)
    assert code == 0
    cases = [item for path in ALL_CASES for item in vignettes.load(path)]
    lines = out.splitlines()
    assert lines[0] == "Expected level (rows) against suggested level (columns):"
    emergencies = sum(1 for item in cases if item.level == "emergency")
    assert lines[2].split() == ["emergency", str(emergencies), "0", "0", "0", "0"]
    assert "Under-triage (less urgent than expected): 0" in lines
    assert "Over-triage (more urgent than expected): 0" in lines
    assert f"Exact match, level: {len(cases)} of {len(cases)} (100.0%)" in lines
    assert any(line.startswith("Rules no case fires: ") for line in lines)
    for answer_id in ("headache_days", "pain_intensity", "pain_relief_days"):
        threshold = next(line for line in lines if line.startswith(f"  {answer_id} >= "))
        assert "ONE SIDE ONLY" not in threshold  # the clinic's cases sit on both sides of every threshold
    assert lines[-1] == f"{len(cases)} of {len(cases)} vignettes match."


def test_verbose_prints_every_case_and_json_is_for_scripts() -> None:
    code, out = run("test", "--verbose", ALL_CASES[0])
    assert code == 0
    line = "OK v01-thunderclap: expected emergency, suggested emergency/no pattern (fired: emergency-thunderclap)"
    assert line in out.splitlines()
    code, out = run("test", "--json", ALL_CASES[0])
    assert code == 0
    figures = json.loads(out)
    assert figures["version"] == PUBLISHED_RULES.version
    assert figures["cases"] == figures["matches"] == len(figures["per_case"])
    assert figures["confusion_matrix"]["emergency"]["emergency"] >= 1
    assert figures["under_triage"] == []
    assert {threshold["answer_id"] for threshold in figures["thresholds"]} == {
        "headache_days", "pain_intensity", "pain_relief_days"
    }  # fmt: skip


def test_under_triage_exits_1_and_is_named(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    rule = "when: {contains: [red_flags, myelopathy]}\n    level: "
    weakened = tmp_path / "rules.yaml"
    weakened.write_text(text.replace(rule + "urgent", rule + "soon"), encoding="utf-8")
    code, out = run("test", "--rules", str(weakened), ALL_CASES[0])
    assert code == 1
    assert "MISMATCH v15-myelopathy: expected level urgent, got soon (UNDER-TRIAGE)" in out
    assert "Under-triage (less urgent than expected): 1 (v15-myelopathy)" in out
    code, out = run("test", "--rules", str(weakened), "--json", ALL_CASES[0])
    assert code == 1
    assert json.loads(out)["under_triage"] == ["v15-myelopathy"]
