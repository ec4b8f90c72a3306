"""Worked cases: one person's answers and the suggestion a clinician expects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from symptomcheck.rules.engine import InvalidAnswers, Result, assess_submission
from symptomcheck.rules.loader import RuleSet

CASE_KEYS = {"id", "story", "answers", "expect"}
EXPECT_KEYS = {"level", "pattern"}


class VignetteFileError(ValueError):
    """A vignette file whose shape is wrong, so its cases cannot be trusted."""


@dataclass(frozen=True)
class Vignette:
    id: str
    story: str
    answers: Mapping[str, Any]
    level: str
    pattern: str | None


def load(path: str | Path) -> list[Vignette]:
    """Read a vignette file, refusing unknown or missing keys."""
    try:
        cases = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise VignetteFileError(f"{path}: cannot read vignettes: {exc}") from exc
    if not isinstance(cases, list):
        raise VignetteFileError(f"{path}: must be a list of cases")
    return [_case(path, number, case) for number, case in enumerate(cases, start=1)]


def _case(path: str | Path, number: int, case: Any) -> Vignette:
    where = f"{path}: case {number}"
    if not isinstance(case, dict) or set(case) != CASE_KEYS:
        raise VignetteFileError(f"{where}: needs exactly the keys {sorted(CASE_KEYS)}")
    expect = case["expect"]
    if not isinstance(expect, dict) or "level" not in expect or not set(expect) <= EXPECT_KEYS:
        raise VignetteFileError(f"{where} ({case['id']}): 'expect' needs 'level' and may have 'pattern', nothing else")
    if not isinstance(case["answers"], dict):
        raise VignetteFileError(f"{where} ({case['id']}): 'answers' must be a mapping")
    return Vignette(str(case["id"]), str(case["story"]), case["answers"], expect["level"], expect.get("pattern"))


def mismatch(rules: RuleSet, vignette: Vignette) -> str | None:
    """Say how the suggestion differs from the expected one, or None when it matches."""
    try:
        result = assess_submission(rules, vignette.answers)
    except InvalidAnswers as exc:
        return f"answers are not valid: {exc.errors}"
    problems = []
    if result.level.id != vignette.level:
        problems.append(f"expected level {vignette.level}, got {result.level.id}")
    if vignette.pattern is not None and pattern_id(result) != vignette.pattern:
        problems.append(f"expected pattern {vignette.pattern}, got {pattern_id(result)}")
    if not problems:
        return None
    fired = ", ".join(rule.id for rule in result.fired) or "none"
    return f"{'; '.join(problems)} (rules that fired: {fired})"


def pattern_id(result: Result) -> str | None:
    """Return the id of the result's pattern, or None."""
    return result.pattern.id if result.pattern else None
