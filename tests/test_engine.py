"""The engine: three-valued conditions, precedence, defaults, and what a result carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from examples import COMPLETE
from symptomcheck.rules import loader
from symptomcheck.rules.conditions import Derived
from symptomcheck.rules.engine import REQUIRED, InvalidAnswers, assess, assess_submission, stops_early
from symptomcheck.rules.loader import RuleSet
from tests.helpers import RULES_VERSION

VALID = Path(__file__).parent / "rules" / "valid"


def one_rule(when: str, extra_levels: str = "") -> RuleSet:
    """Return a rule set whose only extra rule sets `routine` when `when` holds."""
    text = (VALID / "minimal.yaml").read_text(encoding="utf-8").replace("default_level: routine", "default_level: low")
    text = text.replace("levels:\n", "levels:\n" + extra_levels)
    text = text.replace("patterns:", "  - {id: low, title: Low., advice: Low.}\npatterns:")
    text += f"  - id: probe\n    when: {when}\n    level: routine\n    reason: Probe.\n"
    return loader.parse(text, "probe.yaml")


@pytest.mark.parametrize(
    ("when", "answers", "fires"),
    [
        ("{equals: [neck_origin, 'yes']}", {"neck_origin": "yes"}, True),
        ("{equals: [neck_origin, 'yes']}", {"neck_origin": "no"}, False),
        ("{equals: [neck_origin, 'yes']}", {}, None),
        ("{not: {equals: [neck_origin, 'yes']}}", {}, None),
        ("{not: {equals: [neck_origin, 'yes']}}", {"neck_origin": "no"}, True),
        ("{any: [{equals: [neck_origin, 'yes']}, {equals: [duration, over_3_months]}]}", {"neck_origin": "yes"}, True),
        ("{any: [{equals: [neck_origin, 'yes']}, {equals: [duration, over_3_months]}]}", {"neck_origin": "no"}, None),
        ("{all: [{equals: [neck_origin, 'yes']}, {equals: [duration, over_3_months]}]}", {"neck_origin": "no"}, False),
        ("{all: [{equals: [neck_origin, 'yes']}, {equals: [duration, over_3_months]}]}", {"neck_origin": "yes"}, None),
        ("{one_of: [duration, [under_1_month, 1_to_3_months]]}", {"duration": "1_to_3_months"}, True),
        ("{contains: [radiation, arm]}", {"radiation": ["arm", "behind_eye"]}, True),
        ("{contains: [radiation, arm]}", {"radiation": []}, False),
        ("{contains_any: [radiation, [arm, behind_eye]]}", {"radiation": ["behind_eye"]}, True),
        ("{at_least: [pain_intensity, 4]}", {"pain_intensity": 4}, True),
        ("{at_least: [pain_intensity, 4]}", {"pain_intensity": 3}, False),
        ("{at_most: [migraine_features, 1]}", {"migraine_features": ["nausea"]}, True),
        ("{at_most: [migraine_features, 1]}", {"migraine_features": ["nausea", "throbbing"]}, False),
        (
            "{at_least_of: {count: 2, of: [{equals: [neck_origin, 'yes']}, {equals: [neck_stiffness, 'yes']}]}}",
            {"neck_origin": "yes"},
            None,
        ),
        (
            "{at_least_of: {count: 2, of: [{equals: [neck_origin, 'yes']}, {equals: [neck_stiffness, 'yes']}]}}",
            {"neck_origin": "no"},
            False,
        ),
        (
            "{at_most_of: {count: 1, of: [{equals: [neck_origin, 'yes']}, {equals: [neck_stiffness, 'yes']}]}}",
            {"neck_origin": "no"},
            True,
        ),
        (
            "{at_most_of: {count: 1, of: [{equals: [neck_origin, 'yes']}, {equals: [neck_stiffness, 'yes']}]}}",
            {"neck_origin": "yes"},
            None,
        ),
    ],
)
def test_condition_is_true_false_or_not_yet_known(when: str, answers: dict[str, Any], fires: bool | None) -> None:
    probe = next(rule for rule in one_rule(when).rules if rule.id == "probe")
    assert probe.condition.test(answers, Derived()) is fires


def test_only_a_true_condition_fires() -> None:
    result = assess(one_rule("{not: {equals: [neck_origin, 'yes']}}"), {"age_band": "18_49", "red_flags": []})
    assert [rule.id for rule in result.fired] == []


def test_no_level_rule_gives_the_declared_default_and_says_so() -> None:
    result = assess(one_rule("{equals: [neck_origin, 'yes']}"), {"neck_origin": "no", "red_flags": []})
    assert result.level.id == "low"
    assert result.level_is_default


def test_most_urgent_level_wins_and_its_reasons_come_first(rules: RuleSet) -> None:
    result = assess(rules, {**COMPLETE, "red_flags": ["progressive", "fever"]})
    assert result.level.id == "urgent"
    assert not result.level_is_default
    ranks = [rule.level.rank for rule in result.fired if rule.level]
    assert ranks == sorted(ranks)
    assert result.fired[0].id == "urgent-fever"
    assert "soon-getting-worse" in [rule.id for rule in result.fired]


def test_first_declared_pattern_wins(rules: RuleSet) -> None:
    answers = {**COMPLETE, "neck_stiffness": "yes"}
    fired_patterns = [rule.pattern.id for rule in rules.pattern_rules if rule.condition.test(answers, Derived())]
    assert fired_patterns == ["cgh_likely", "cgh_possible"]
    result = assess(rules, answers)
    assert result.pattern is not None and result.pattern.id == "cgh_likely"
    assert [rule.id for rule in result.fired if rule.pattern] == ["pattern-neck-likely"]


def test_notes_can_depend_on_level_and_pattern(rules: RuleSet) -> None:
    routine = assess(rules, COMPLETE)
    assert routine.level.id == "routine"
    assert "A spine and headache clinic is a good choice for your visit." in routine.notes
    urgent = assess(rules, {**COMPLETE, "red_flags": ["fever"]})
    assert not any("spine and headache clinic" in note for note in urgent.notes)


def test_result_carries_the_rule_set_version(rules: RuleSet) -> None:
    assert assess(rules, COMPLETE).rules_version == rules.version == RULES_VERSION


def test_screening_answers_alone_settle_an_emergency(rules: RuleSet) -> None:
    screening = {"age_band": "50_plus", "red_flags": ["vision_loss"]}
    assert stops_early(rules, screening)
    assert assess_submission(rules, screening).level.id == "emergency"
    assert not stops_early(rules, {"age_band": "50_plus", "red_flags": ["fever"]})
    assert not stops_early(rules, {"age_band": "50_plus", "red_flags": ["vision_loss", "nonsense"]})


def test_emergency_advice_is_given_even_when_other_answers_are_bad(rules: RuleSet) -> None:
    answers = {"age_band": "18_49", "red_flags": ["thunderclap"], "pain_intensity": True, "nonsense": 1}
    result = assess_submission(rules, answers)
    assert result.level.id == "emergency"
    assert [rule.id for rule in result.fired] == ["emergency-thunderclap"]


def test_valid_full_answers_keep_every_reason_on_an_emergency(rules: RuleSet) -> None:
    result = assess_submission(rules, {**COMPLETE, "red_flags": ["thunderclap"]})
    assert result.level.id == "emergency"
    assert result.pattern is not None


def test_a_non_emergency_needs_every_answer(rules: RuleSet) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        assess_submission(rules, {"age_band": "18_49", "red_flags": ["fever"]})
    assert set(caught.value.errors) == set(COMPLETE) - {"age_band", "red_flags"}
    assert set(caught.value.errors.values()) == {REQUIRED}


def test_screening_answers_are_always_required(rules: RuleSet) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        assess_submission(rules, {key: value for key, value in COMPLETE.items() if key != "red_flags"})
    assert caught.value.errors == {"red_flags": REQUIRED}


def test_malformed_answers_are_refused_before_assessing(rules: RuleSet) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        assess_submission(rules, {**COMPLETE, "pain_intensity": "7", "duration": "forever"})
    assert set(caught.value.errors) == {"pain_intensity", "duration"}


def test_every_red_flag_value_is_watched_by_a_level_rule(rules: RuleSet) -> None:
    from symptomcheck.rules.questions import BY_ID

    watched = {value for rule in rules.rules if rule.level for value in rule.condition.values_of("red_flags")}
    assert watched == set(BY_ID["red_flags"].values)


@pytest.mark.parametrize(
    "flags", [["bladder_bowel"], ["recent_injury", "wakes_with_vomiting"], ["myelopathy", "bladder_bowel"]]
)
def test_new_emergency_flags_stop_early(rules: RuleSet, flags: list[str]) -> None:
    screening = {"age_band": "under_18", "red_flags": flags}
    assert stops_early(rules, screening)
    assert assess_submission(rules, screening).level.id == "emergency"


def test_an_emergency_from_a_later_page_stops_there(rules: RuleSet) -> None:
    so_far = {"age_band": "18_49", "red_flags": ["pregnant_postpartum"], "migraine_features": ["visual_aura"]}
    assert not stops_early(rules, {key: so_far[key] for key in ("age_band", "red_flags")})
    assert stops_early(rules, so_far)
    result = assess_submission(rules, so_far)
    assert result.level.id == "emergency"
    assert "emergency-pregnant-and-sight-change" in [rule.id for rule in result.fired]


def test_contradicting_treatments_are_refused_under_both_ids(rules: RuleSet) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        assess_submission(rules, {**COMPLETE, "treatments_tried": ["injections"], "treatment_result": "not_tried"})
    assert set(caught.value.errors) == {"treatments_tried", "treatment_result"}
