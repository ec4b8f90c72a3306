"""Read a rule file, check all of it, and compile it once."""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from symptomcheck.rules import marked
from symptomcheck.rules.conditions import Condition, Derived, compile_condition
from symptomcheck.rules.problems import Problem, RuleError, RuleFileError
from symptomcheck.rules.questions import BY_ID

# The rule set the clinic publishes, at the top of the project.
PUBLISHED_RULES_FILE = Path(__file__).resolve().parents[2] / "rules.yaml"

PLACEHOLDERS = ("emergency_number", "clinic_name")

TOP_KEYS = ("version", "reviewed_by", "reviewed_on", "default_level", "levels", "patterns", "rules")
LEVEL_KEYS = ("id", "title", "advice")
PATTERN_KEYS = ("id", "title", "advice")
RULE_KEYS = ("id", "when", "level", "pattern", "note", "reason")
RULE_REQUIRED = ("id", "when", "reason")


@dataclass(frozen=True)
class Level:
    id: str
    title: str
    advice: str
    rank: int  # 0 is the most urgent


@dataclass(frozen=True)
class Pattern:
    id: str
    title: str
    advice: str
    rank: int  # 0 wins over every other pattern


@dataclass(frozen=True)
class Rule:
    id: str
    condition: Condition
    reason: str
    line: int
    level: Level | None = None
    pattern: Pattern | None = None
    note: str | None = None


@dataclass(frozen=True)
class RuleSet:
    version: str
    reviewed_by: str
    reviewed_on: datetime.date
    levels: tuple[Level, ...]
    patterns: tuple[Pattern, ...]
    default_level: Level
    rules: tuple[Rule, ...]
    source: str

    # Evaluated in three rounds: patterns, then levels (which may test the
    # pattern), then notes (which may test both).
    @cached_property
    def pattern_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.pattern)

    @cached_property
    def level_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.level)

    @cached_property
    def note_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if not rule.pattern and not rule.level)

    @property
    def most_urgent(self) -> Level:
        return self.levels[0]

    def level(self, level_id: str) -> Level:
        """Return the declared level with this id."""
        return next(level for level in self.levels if level.id == level_id)


class FileChecker:
    """Collects every problem in one file, each with its line and rule id."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[RuleError] = []
        self.rule_id: str | None = None
        self.patterns: frozenset[str] = frozenset()
        self.levels: frozenset[str] = frozenset()

    def error(self, problem: Problem, line: int, **details: object) -> None:
        self.errors.append(RuleError(problem, self.source, line, self.rule_id, details))

    def keys(self, node: marked.MarkedMap, allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
        for key, line in node.repeated_keys:
            self.error(Problem.DUPLICATE_KEY, line, key=key)
        for key in node:
            if key not in allowed:
                self.error(Problem.UNKNOWN_KEY, node.line_of(key), key=key, expected=", ".join(allowed))
        for key in required:
            if key not in node:
                self.error(Problem.MISSING_KEY, node.line, key=key)

    def text(self, node: marked.MarkedMap, key: str) -> str:
        value = node.get(key)
        if key not in node:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.error(Problem.WRONG_TYPE, node.line_of(key), key=key, expected="non-empty text")
            return ""
        try:
            fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(value)]
        except ValueError:
            self.error(Problem.BAD_BRACES, node.line_of(key), key=key)
            return ""
        names = [name for name, _, _ in fields if name is not None]
        if any(spec or conversion for name, spec, conversion in fields if name is not None):
            self.error(Problem.BAD_BRACES, node.line_of(key), key=key)  # only a plain {name} is filled in
            return ""
        for name in names:
            if name not in PLACEHOLDERS:
                self.error(Problem.UNKNOWN_PLACEHOLDER, node.line_of(key), name=name, expected=", ".join(PLACEHOLDERS))
        return value.strip()

    def mappings(self, node: marked.MarkedMap, key: str) -> list[marked.MarkedMap]:
        """Return the list under `key`, keeping only its items that are mappings."""
        items = node.get(key)
        if key not in node:
            return []
        if not isinstance(items, marked.MarkedList) or not items:
            self.error(Problem.WRONG_TYPE, node.line_of(key), key=key, expected="a non-empty list")
            return []
        kept = []
        for item, line in zip(items, items.item_lines, strict=True):
            if isinstance(item, marked.MarkedMap):
                kept.append(item)
            else:
                self.error(Problem.WRONG_TYPE, line, key=key, expected="a list of mappings")
        return kept

    def unique_ids(self, what: str, nodes: list[marked.MarkedMap]) -> None:
        seen: set[str] = set()
        for node in nodes:
            node_id = node.get("id")
            if not isinstance(node_id, str):
                continue  # reported by identifier()
            if node_id in seen:
                self.error(Problem.DUPLICATE_ID, node.line_of("id"), what=what, id=node_id)
            seen.add(node_id)

    def identifier(self, node: marked.MarkedMap) -> str:
        value = node.get("id")
        if "id" in node and (not isinstance(value, str) or not value):
            self.error(Problem.WRONG_TYPE, node.line_of("id"), key="id", expected="text")
            return ""
        return value if isinstance(value, str) else ""


def load(path: str | Path) -> RuleSet:
    """Read, check and compile a rule file; raise RuleFileError listing every problem."""
    return parse(read_file(path), str(path))


def read_file(path: str | Path) -> str:
    """Return a rule or guarantee file's text; raise RuleFileError when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError([RuleError(Problem.NOT_FOUND, str(path), 0, None, {"detail": exc})]) from exc


def read_mapping(text: str, source: str) -> marked.MarkedMap:
    """Return a file's YAML as a mapping that keeps each value's line; raise RuleFileError naming the line."""
    try:
        document = marked.load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        detail = exc.problem or "unreadable"
        raise RuleFileError([RuleError(Problem.YAML_SYNTAX, source, line, None, {"detail": detail})]) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        detail = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise RuleFileError([RuleError(Problem.YAML_SYNTAX, source, 0, None, {"detail": detail})]) from exc
    if not isinstance(document, marked.MarkedMap):
        raise RuleFileError(
            [RuleError(Problem.WRONG_TYPE, source, 1, None, {"key": "the file", "expected": "a mapping"})]
        )
    return document


def parse(text: str, source: str = "<rules>") -> RuleSet:
    """Check and compile rule-file text; raise RuleFileError listing every problem."""
    checker = FileChecker(source)
    document = read_mapping(text, source)
    try:
        ruleset = _build(document, checker)
    except RecursionError as exc:
        detail = "a condition is nested too deeply"
        raise RuleFileError([RuleError(Problem.YAML_SYNTAX, source, 0, None, {"detail": detail})]) from exc
    if checker.errors or ruleset is None:
        raise RuleFileError(checker.errors)
    return ruleset


def _build(document: marked.MarkedMap, checker: FileChecker) -> RuleSet | None:
    checker.keys(document, TOP_KEYS, TOP_KEYS)
    version = document.get("version")
    if "version" in document and not isinstance(version, str):
        expected = "text in quotes (YAML reads 1.10 as the number 1.1)"
        checker.error(Problem.WRONG_TYPE, document.line_of("version"), key="version", expected=expected)
    reviewed_by = checker.text(document, "reviewed_by")
    reviewed_on = document.get("reviewed_on")
    if "reviewed_on" in document and not isinstance(reviewed_on, datetime.date):
        checker.error(
            Problem.WRONG_TYPE, document.line_of("reviewed_on"), key="reviewed_on", expected="a date (YYYY-MM-DD)"
        )

    levels = _declared(checker, document, "levels", LEVEL_KEYS, Level)
    patterns = _declared(checker, document, "patterns", PATTERN_KEYS, Pattern)
    levels_by_id = {level.id: level for level in levels}
    patterns_by_id = {pattern.id: pattern for pattern in patterns}
    checker.patterns = frozenset(patterns_by_id)
    checker.levels = frozenset(levels_by_id)

    default_level = levels_by_id.get(str(document.get("default_level")))
    if "default_level" in document and default_level is None and levels:
        checker.error(Problem.UNDECLARED_LEVEL, document.line_of("default_level"), level=document["default_level"])

    rule_nodes = checker.mappings(document, "rules")
    checker.unique_ids("rule", rule_nodes)
    rules = [_rule(node, checker, levels_by_id, patterns_by_id) for node in rule_nodes]
    checker.rule_id = None
    if rule_nodes:  # with no usable rules, every red flag would be reported again
        _check_red_flags_covered(rules, default_level, document, checker)

    if checker.errors or default_level is None or not isinstance(reviewed_on, datetime.date):
        return None
    return RuleSet(
        version=str(version),
        reviewed_by=reviewed_by,
        reviewed_on=reviewed_on,
        levels=tuple(levels),
        patterns=tuple(patterns),
        default_level=default_level,
        rules=tuple(rule for rule in rules if rule is not None),
        source=checker.source,
    )


def _declared(
    checker: FileChecker, document: marked.MarkedMap, key: str, keys: tuple[str, ...], kind: Any
) -> list[Any]:
    """Return the declared levels or patterns, in order (most urgent or most specific first)."""
    nodes = checker.mappings(document, key)
    checker.unique_ids(key.rstrip("s"), nodes)
    declared = []
    for rank, node in enumerate(nodes):
        checker.keys(node, keys, keys)
        declared.append(kind(checker.identifier(node), checker.text(node, "title"), checker.text(node, "advice"), rank))
    return declared


def _rule(
    node: marked.MarkedMap,
    checker: FileChecker,
    levels: dict[str, Level],
    patterns: dict[str, Pattern],
) -> Rule | None:
    checker.rule_id = None  # an id that is not text is reported without a rule id
    checker.rule_id = checker.identifier(node) or None
    checker.keys(node, RULE_KEYS, RULE_REQUIRED)
    reason = checker.text(node, "reason")
    note = checker.text(node, "note") or None
    level = levels.get(str(node.get("level")))
    if "level" in node and level is None:
        checker.error(Problem.UNDECLARED_LEVEL, node.line_of("level"), level=node["level"])
    pattern = patterns.get(str(node.get("pattern")))
    if "pattern" in node and pattern is None:
        checker.error(Problem.UNDECLARED_PATTERN, node.line_of("pattern"), pattern=node["pattern"])
    if not {"level", "pattern", "note"} & set(node):
        checker.error(Problem.SETS_NOTHING, node.line)
    if {"level", "pattern"} <= set(node):
        checker.error(Problem.LEVEL_AND_PATTERN, node.line)
    condition = compile_condition(node["when"], node.line_of("when"), checker) if "when" in node else None
    if condition is not None:
        sets = "pattern" if "pattern" in node else "level" if "level" in node else None
        forbidden = {"pattern": {"pattern", "level"}, "level": {"level"}, None: set()}[sets]
        for tested in sorted(condition.derived & forbidden):
            checker.error(Problem.TESTS_WHAT_IT_SETS, node.line_of("when"), sets=sets, tests=tested)
    if condition is None or not checker.rule_id:
        return None
    return Rule(checker.rule_id, condition, reason, node.line, level, pattern, note)


def _check_red_flags_covered(
    rules: list[Rule | None], default_level: Level | None, document: marked.MarkedMap, checker: FileChecker
) -> None:
    """Report each red flag that, on its own, at some age, does not reach a level above the default."""
    if default_level is None:
        return
    level_rules = [rule for rule in rules if rule is not None and rule.level is not None and not rule.pattern]
    for value in BY_ID["red_flags"].values:
        for age_band in BY_ID["age_band"].values:
            answers = {"age_band": age_band, "red_flags": [value]}
            reached = [
                rule.level.rank for rule in level_rules if rule.level and rule.condition.test(answers, Derived())
            ]
            if min(reached, default=default_level.rank) >= default_level.rank:
                checker.error(
                    Problem.RED_FLAG_WITHOUT_RULE, document.line_of("rules"), value=value, age_band=age_band,
                    default=default_level.id,
                )  # fmt: skip
                break
