"""Turn answers into a suggestion: a pure function over a plain dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from symptomcheck.conditions import Derived
from symptomcheck.questions import SCREENING_IDS, check_answers, missing_answers
from symptomcheck.ruleset import Level, Pattern, Rule, RuleSet

REQUIRED = "Answer this question."


@dataclass(frozen=True)
class Result:
    level: Level
    level_is_default: bool
    pattern: Pattern | None
    fired: tuple[Rule, ...]  # the rules whose reasons are shown, most urgent first
    rules_version: str

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(rule.note for rule in self.fired if rule.note)


class InvalidAnswers(ValueError):
    """Answers that cannot be assessed, with a message per answer id."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(", ".join(sorted(errors)))


def assess(rules: RuleSet, answers: Mapping[str, Any]) -> Result:
    """Evaluate every rule; the most urgent level and the first declared pattern win."""
    pattern_rules = _fired(rules.pattern_rules, answers, Derived())
    pattern = min((rule.pattern for rule in pattern_rules if rule.pattern), key=_rank, default=None)
    pattern_id = pattern.id if pattern else None

    level_rules = _fired(rules.level_rules, answers, Derived(pattern_id))
    levels = [rule.level for rule in pattern_rules + level_rules if rule.level]
    level = min(levels, key=_rank, default=rules.default_level)

    note_rules = _fired(rules.note_rules, answers, Derived(pattern_id, level.id))
    level_rules.sort(key=lambda rule: _rank(rule.level) if rule.level else 0)
    shown = level_rules + [rule for rule in pattern_rules if rule.pattern == pattern] + note_rules
    return Result(level, not levels, pattern, tuple(shown), rules.version)


def _fired(rules: tuple[Rule, ...], answers: Mapping[str, Any], derived: Derived) -> list[Rule]:
    return [rule for rule in rules if rule.condition.test(answers, derived)]


def _rank(item: Level | Pattern) -> int:
    return item.rank


def is_settled(rules: RuleSet, answers: Mapping[str, Any]) -> bool:
    """Say whether these answers already reach the most urgent level, whatever comes next."""
    return assess(rules, answers).level == rules.most_urgent


def assess_submission(rules: RuleSet, raw: Mapping[str, Any]) -> Result:
    """Check a full or stopped-early set of answers and assess it; raise InvalidAnswers."""
    errors = check_answers(raw)
    if errors:
        raise InvalidAnswers(errors)
    missing = missing_answers(raw, SCREENING_IDS)
    if not missing and not is_settled(rules, {key: raw[key] for key in SCREENING_IDS}):
        missing = missing_answers(raw)
    if missing:
        raise InvalidAnswers(dict.fromkeys(missing, REQUIRED))
    return assess(rules, raw)
