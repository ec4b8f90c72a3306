"""What can be wrong with a rule file, each problem a named message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Problem(Enum):
    YAML_SYNTAX = "the file is not valid YAML: {detail}"
    NOT_FOUND = "the file cannot be read: {detail}"
    WRONG_TYPE = "'{key}' must be {expected}"
    MISSING_KEY = "'{key}' is missing"
    UNKNOWN_KEY = "'{key}' is not a known key here; use one of: {expected}"
    DUPLICATE_KEY = "'{key}' appears twice in the same block"
    DUPLICATE_ID = "the {what} id '{id}' is used more than once"
    UNKNOWN_OPERATOR = "'{operator}' is not a known operator; use one of: {expected}"
    OPERATOR_SHAPE = "'{operator}' needs {shape}"
    UNKNOWN_ANSWER = "'{answer}' is not a question in the questionnaire"
    UNKNOWN_VALUE = "'{value}' is not an answer to '{answer}'; use one of: {expected}"
    WRONG_ANSWER_KIND = "'{operator}' cannot test '{answer}', which is a {kind} question"
    OUT_OF_RANGE = "{value} is outside what '{answer}' can be ({minimum} to {maximum})"
    BAD_COUNT = "'count' must be a whole number from {minimum} to {maximum}"
    UNDECLARED_LEVEL = "the level '{level}' is not declared under 'levels'"
    UNDECLARED_PATTERN = "the pattern '{pattern}' is not declared under 'patterns'"
    SETS_NOTHING = "the rule sets nothing; give it a 'level', a 'pattern' or a 'note'"
    TESTS_WHAT_IT_SETS = "a rule that sets a {sets} cannot test the {tests}; only later rules can"
    RED_FLAG_WITHOUT_RULE = (
        "the red flag '{value}' on its own (age band {age_band}) reaches no level more urgent than '{default}'"
    )
    LEVEL_AND_PATTERN = "a rule sets a level or a pattern, not both; split it in two so each reason is shown"
    BAD_BRACES = "'{key}' has a '{{' or '}}' that is not part of a placeholder such as {{emergency_number}}"
    UNKNOWN_PLACEHOLDER = "'{{{name}}}' is not a known placeholder; use one of: {expected}"
    # Guarantee files (`flask rules verify`).
    CLAIM_COUNT = "a guarantee makes exactly one claim; use one of: {expected}"
    NOT_IN_RULES = "the {what} '{id}' is not declared in the rule file {rules}"
    NOT_RANKED = "the rule file declares the level '{level}', which is missing from 'levels' here"


@dataclass(frozen=True)
class RuleError:
    problem: Problem
    file: str
    line: int
    rule_id: str | None
    details: dict[str, object]
    what: str = "rule"  # or "guarantee": what rule_id names

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        rule = f"{self.what} '{self.rule_id}': " if self.rule_id else ""
        return f"{where}{rule}{self.problem.value.format(**self.details)}."


class RuleFileError(Exception):
    """A rule file that cannot be used, with every problem found in it."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = sorted(errors, key=lambda error: error.line)
        super().__init__("\n".join(str(error) for error in self.errors))
