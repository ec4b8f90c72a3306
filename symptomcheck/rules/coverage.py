"""How well the worked cases test a rule set: study-style figures and what no case reaches.

A worked case is a vignette: answers and the level (and maybe the pattern) a
clinician expects. Under-triage, a suggestion less urgent than expected, is
the failure that matters most (triage.md, section 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from symptomcheck.rules.conditions import Condition, Derived
from symptomcheck.rules.engine import InvalidAnswers, assess_submission
from symptomcheck.rules.loader import Rule, RuleSet
from symptomcheck.rules.questions import BY_ID, Kind
from symptomcheck.rules.vignettes import Vignette, pattern_id


@dataclass(frozen=True)
class CaseOutcome:
    """One worked case: what a clinician expects and what the rules suggest."""

    id: str
    story: str
    expected_level: str
    expected_pattern: str | None
    level: str | None  # None: the answers could not be assessed
    pattern: str | None
    fired: tuple[str, ...]  # every rule whose condition holds, in file order
    problem: str | None  # why the answers could not be assessed
    triage: str  # "match", "under", "over" or "not assessed"

    @property
    def level_matches(self) -> bool:
        return self.level == self.expected_level

    @property
    def pattern_matches(self) -> bool | None:
        """Say whether the pattern is the expected one, or None when the case expects none."""
        return None if self.expected_pattern is None else self.pattern == self.expected_pattern

    @property
    def matches(self) -> bool:
        return self.level_matches and self.pattern_matches is not False


@dataclass(frozen=True)
class Threshold:
    """A number a rule compares, and how many cases sit on each side of where the rule's answer changes."""

    answer_id: str
    boundary: int  # the rule's answer changes between boundary - 1 and boundary
    rules: tuple[str, ...]
    below: int
    at_or_above: int

    @property
    def both_sides(self) -> bool:
        return self.below > 0 and self.at_or_above > 0


@dataclass(frozen=True)
class Cut:
    """Sensitivity and specificity of "at least this urgent", as a study would report them."""

    level: str
    true_positive: int
    needed: int  # cases a clinician puts at this level or more urgent
    true_negative: int
    not_needed: int


@dataclass(frozen=True)
class Coverage:
    levels: tuple[str, ...]  # most urgent first
    cases: tuple[CaseOutcome, ...]
    unfired: tuple[str, ...]  # rule ids no case fires
    thresholds: tuple[Threshold, ...]
    cuts: tuple[Cut, ...]

    def count(self, expected: str, suggested: str) -> int:
        """Return how many cases a clinician puts at `expected` and the rules at `suggested`."""
        return sum(1 for case in self.cases if case.expected_level == expected and case.level == suggested)

    @property
    def under(self) -> tuple[CaseOutcome, ...]:
        return tuple(case for case in self.cases if case.triage == "under")

    @property
    def over(self) -> tuple[CaseOutcome, ...]:
        return tuple(case for case in self.cases if case.triage == "over")

    @property
    def not_assessed(self) -> tuple[CaseOutcome, ...]:
        return tuple(case for case in self.cases if case.triage == "not assessed")

    @property
    def level_matches(self) -> int:
        return sum(1 for case in self.cases if case.level_matches)

    @property
    def with_pattern(self) -> int:
        return sum(1 for case in self.cases if case.expected_pattern is not None)

    @property
    def pattern_matches(self) -> int:
        return sum(1 for case in self.cases if case.pattern_matches)

    @property
    def matches(self) -> int:
        return sum(1 for case in self.cases if case.matches)


def measure(rules: RuleSet, cases: Sequence[Vignette]) -> Coverage:
    """Run every case and gather the figures."""
    ranks = {level.id: level.rank for level in rules.levels}
    outcomes = tuple(_outcome(rules, ranks, case) for case in cases)
    fired = {rule_id for case in outcomes for rule_id in case.fired}
    levels = tuple(level.id for level in rules.levels)
    return Coverage(
        levels=levels,
        cases=outcomes,
        unfired=tuple(rule.id for rule in rules.rules if rule.id not in fired),
        thresholds=tuple(_thresholds(rules, cases)),
        cuts=tuple(_cut(level, levels, outcomes) for level in levels[:-1]),
    )


def _outcome(rules: RuleSet, ranks: dict[str, int], case: Vignette) -> CaseOutcome:
    try:
        result = assess_submission(rules, case.answers)
    except InvalidAnswers as exc:
        problem = f"answers are not valid: {', '.join(sorted(exc.errors))}"
        return CaseOutcome(case.id, case.story, case.level, case.pattern, None, None, (), problem, "not assessed")
    pattern = pattern_id(result)
    fired = tuple(rule.id for rule in rules.rules if _fires(rule, case.answers, pattern, result.level.id))
    expected_rank = ranks.get(case.level)
    got_rank = result.level.rank
    if expected_rank is None or expected_rank == got_rank:
        triage = "match" if expected_rank is not None else "not assessed"
    else:
        triage = "under" if got_rank > expected_rank else "over"
    unknown = f"expected level {case.level} is not a level of the rule set"
    doubt = None if expected_rank is not None else unknown
    return CaseOutcome(case.id, case.story, case.level, case.pattern, result.level.id, pattern, fired, doubt, triage)


def _fires(rule: Rule, answers: Any, pattern: str | None, level: str) -> bool:
    """Say whether a rule's condition holds, in the round the engine checks it (a shadowed pattern rule too)."""
    derived = Derived() if rule.pattern else Derived(pattern) if rule.level else Derived(pattern, level)
    return rule.condition.test(answers, derived) is True


def number_bounds(condition: Condition) -> Iterator[tuple[str, int]]:
    """Yield (answer id, boundary) for every number this condition compares: x >= boundary, or x < boundary."""
    operator, _line, *operands = condition.tree
    if operator in {"at_least", "at_most"}:
        answer_id, limit = operands
        if BY_ID[answer_id].kind is Kind.INTEGER:
            yield answer_id, limit if operator == "at_least" else limit + 1
    for operand in operands:
        if isinstance(operand, Condition):
            yield from number_bounds(operand)


def _thresholds(rules: RuleSet, cases: Sequence[Vignette]) -> Iterator[Threshold]:
    users: dict[tuple[str, int], list[str]] = {}
    for rule in rules.rules:
        for bound in number_bounds(rule.condition):
            if rule.id not in users.setdefault(bound, []):
                users[bound].append(rule.id)
    for (answer_id, boundary), rule_ids in sorted(users.items()):
        values = [case.answers[answer_id] for case in cases if isinstance(case.answers.get(answer_id), int)]
        below = sum(1 for value in values if value < boundary)
        yield Threshold(answer_id, boundary, tuple(rule_ids), below, len(values) - below)


def _cut(level: str, levels: tuple[str, ...], cases: tuple[CaseOutcome, ...]) -> Cut:
    urgent_enough = set(levels[: levels.index(level) + 1])
    assessed = [case for case in cases if case.level is not None and case.expected_level in levels]
    needed = [case for case in assessed if case.expected_level in urgent_enough]
    not_needed = [case for case in assessed if case.expected_level not in urgent_enough]
    return Cut(
        level,
        true_positive=sum(1 for case in needed if case.level in urgent_enough),
        needed=len(needed),
        true_negative=sum(1 for case in not_needed if case.level not in urgent_enough),
        not_needed=len(not_needed),
    )


def rate(part: int, whole: int) -> str:
    """Return 'part of whole (percent)', or 'part of whole' when whole is 0."""
    return f"{part} of {whole} ({100 * part / whole:.1f}%)" if whole else f"{part} of {whole}"


def summary(coverage: Coverage) -> list[str]:
    """Return the figures as plain text lines, for the terminal and the release note."""
    width = max(len(level) for level in (*coverage.levels, "expected"))
    header = " ".join(f"{level:>{len(level)}}" for level in coverage.levels)
    lines = ["Expected level (rows) against suggested level (columns):", f"  {'':<{width}} {header}"]
    for expected in coverage.levels:
        row = " ".join(f"{coverage.count(expected, got):>{len(got)}}" for got in coverage.levels)
        lines.append(f"  {expected:<{width}} {row}")
    total = len(coverage.cases)
    lines += [
        f"Under-triage (less urgent than expected): {len(coverage.under)}"
        + (f" ({', '.join(case.id for case in coverage.under)})" if coverage.under else ""),
        f"Over-triage (more urgent than expected): {len(coverage.over)}"
        + (f" ({', '.join(case.id for case in coverage.over)})" if coverage.over else ""),
    ]
    if coverage.not_assessed:
        lines.append(f"Not assessed: {', '.join(case.id for case in coverage.not_assessed)}")
    lines += [
        f"Exact match, level: {rate(coverage.level_matches, total)}",
        f"Exact match, pattern (cases that expect one): {rate(coverage.pattern_matches, coverage.with_pattern)}",
        "At least this urgent (sensitivity; specificity):",
    ]
    for cut in coverage.cuts:
        sensitivity, specificity = rate(cut.true_positive, cut.needed), rate(cut.true_negative, cut.not_needed)
        lines.append(f"  {cut.level}: {sensitivity}; {specificity}")
    lines.append(f"Rules no case fires: {', '.join(coverage.unfired) or 'none'}")
    lines.append("Numbers the rules compare (cases below / at or above the threshold):")
    for threshold in coverage.thresholds:
        sides = "" if threshold.both_sides else "  ONE SIDE ONLY"
        lines.append(
            f"  {threshold.answer_id} >= {threshold.boundary} ({', '.join(threshold.rules)}): "
            f"{threshold.below} below, {threshold.at_or_above} at or above{sides}"
        )
    return lines


def as_json(coverage: Coverage) -> dict[str, Any]:
    """Return the figures as plain values, for scripts."""
    return {
        "levels": list(coverage.levels),
        "confusion_matrix": {
            expected: {got: coverage.count(expected, got) for got in coverage.levels} for expected in coverage.levels
        },
        "cases": len(coverage.cases),
        "matches": coverage.matches,
        "level_matches": coverage.level_matches,
        "pattern_matches": coverage.pattern_matches,
        "cases_with_pattern": coverage.with_pattern,
        "under_triage": [case.id for case in coverage.under],
        "over_triage": [case.id for case in coverage.over],
        "not_assessed": [case.id for case in coverage.not_assessed],
        "at_least": {cut.level: asdict(cut) for cut in coverage.cuts},
        "unfired_rules": list(coverage.unfired),
        "thresholds": [asdict(threshold) | {"both_sides": threshold.both_sides} for threshold in coverage.thresholds],
        "per_case": [asdict(case) | {"matches": case.matches} for case in coverage.cases],
    }


def case_line(case: CaseOutcome) -> str:
    """Return one case as a line: how it compares, expected and suggested, and the rules that fired."""
    mark = {"match": "OK", "under": "UNDER-TRIAGE", "over": "OVER-TRIAGE", "not assessed": "NOT ASSESSED"}[case.triage]
    if case.triage == "match" and not case.matches:
        mark = "PATTERN"
    expected = case.expected_level + (f"/{case.expected_pattern}" if case.expected_pattern else "")
    if case.level is None:
        return f"{mark} {case.id}: expected {expected}; {case.problem}"
    got = f"{case.level}/{case.pattern or 'no pattern'}"
    return f"{mark} {case.id}: expected {expected}, suggested {got} (fired: {', '.join(case.fired) or 'none'})"
