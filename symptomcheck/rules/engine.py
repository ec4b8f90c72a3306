"""Turn answers into a suggestion: a pure function over a plain dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from symptomcheck.rules.conditions import Derived
from symptomcheck.rules.loader import Level, Pattern, Rule, RuleSet
from symptomcheck.rules.questions import SCREENING_IDS, check_answers, missing_answers

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
        """Return the notes of the fired rules, in the order shown."""
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
    levels = [rule.level for rule in level_rules if rule.level]
    level = min(levels, key=_rank, default=rules.default_level)

    note_rules = _fired(rules.note_rules, answers, Derived(pattern_id, level.id))
    level_rules.sort(key=lambda rule: _rank(rule.level) if rule.level else 0)
    shown = level_rules + [rule for rule in pattern_rules if rule.pattern == pattern] + note_rules
    return Result(level, not levels, pattern, tuple(shown), rules.version)


def _fired(rules: tuple[Rule, ...], answers: Mapping[str, Any], derived: Derived) -> list[Rule]:
    """Return the rules whose condition is true (not false, not unknown)."""
    return [rule for rule in rules if rule.condition.test(answers, derived)]


def _rank(item: Level | Pattern) -> int:
    return item.rank


def valid_part(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers that are known and well formed, leaving out every one with a problem."""
    errors = check_answers(raw)
    return {key: value for key, value in raw.items() if key not in errors}


def stops_early(rules: RuleSet, answers: Mapping[str, Any]) -> bool:
    """Say whether the valid answers given so far reach the most urgent level, whatever comes next.

    Sound because a rule fires only on True, and an answer not yet given is
    "not known", never False: more answers cannot stop a fired rule firing.
    """
    return _settles(rules, assess(rules, valid_part(answers)))


def _settles(rules: RuleSet, result: Result) -> bool:
    """Say whether a result is the most urgent level, reached by a rule (not the default)."""
    return result.level == rules.most_urgent and not result.level_is_default


def problems(rules: RuleSet, raw: Mapping[str, Any]) -> dict[str, str]:
    """Return a message per answer id that is malformed, unknown, contradictory or missing.

    Only the first answers are required when they alone mean the most urgent level.
    """
    missing = missing_answers(raw)
    if missing:  # only then does it matter whether the first answers alone mean the most urgent level
        screening = {key: raw[key] for key in SCREENING_IDS if key in raw}
        if stops_early(rules, screening):
            missing = missing_answers(raw, SCREENING_IDS)
    return {**dict.fromkeys(missing, REQUIRED), **check_answers(raw)}


def check_and_assess(rules: RuleSet, raw: Mapping[str, Any]) -> tuple[Result | None, dict[str, str]]:
    """Check a full or stopped-early set of answers; return the result (or None) and every problem found.

    When the valid answers already mean the most urgent level, that result is
    given even if other answers are missing or malformed: it must never wait.
    """
    errors = problems(rules, raw)
    if not errors:
        return assess(rules, raw), errors
    early = assess(rules, valid_part(raw))
    return (early if _settles(rules, early) else None), errors


def assess_submission(rules: RuleSet, raw: Mapping[str, Any]) -> Result:
    """Check a full or stopped-early set of answers and assess it; raise InvalidAnswers when it cannot be."""
    result, errors = check_and_assess(rules, raw)
    if result is None:
        raise InvalidAnswers(errors)
    return result
