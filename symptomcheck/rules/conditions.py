"""The operators a rule's `when` may use: checked and compiled in one place.

A condition is a one-key mapping whose key is the operator. Evaluation uses
three values: True, False, and None for "not known yet" (an answer that has
not been given). A rule fires only on True, so a rule that fires on some of
the answers still fires once the rest are given: a person can be shown the
most urgent advice before they answer every question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from symptomcheck.rules.marked import MarkedList, MarkedMap
from symptomcheck.rules.problems import Problem
from symptomcheck.rules.questions import BY_ID, Kind, Question

Verdict = bool | None


class Derived(NamedTuple):
    """What the engine has worked out so far: later rules may test it."""

    pattern: str | None = None
    level: str | None = None


Test = Callable[[Mapping[str, Any], Derived], Verdict]


@dataclass(frozen=True)
class Condition:
    """A compiled `when`: its test, and what it looks at (for reasons and for checks)."""

    test: Test
    answer_ids: frozenset[str]
    derived: frozenset[str]  # which of 'pattern' and 'level' it tests
    values: frozenset[tuple[str, str]] = frozenset()  # (answer id, value) pairs it looks for
    # (operator, line, operand, ...), sub-conditions as Conditions: what `verify` encodes for the solver.
    tree: tuple[Any, ...] = ()

    def values_of(self, answer_id: str) -> frozenset[str]:
        """Return the values of one answer that this condition looks for."""
        return frozenset(value for answer, value in self.values if answer == answer_id)


class Checker(Protocol):
    patterns: frozenset[str]
    levels: frozenset[str]

    def error(self, problem: Problem, line: int, **details: object) -> None: ...


Compiler = Callable[[Any, int, Checker], Condition | None]


def compile_condition(node: Any, line: int, checker: Checker) -> Condition | None:
    """Check one condition and return it compiled, or None after reporting errors."""
    if not isinstance(node, MarkedMap) or len(node) != 1:
        checker.error(Problem.WRONG_TYPE, line, key="when", expected="a mapping with exactly one operator")
        return None
    for key, key_line in node.repeated_keys:
        checker.error(Problem.DUPLICATE_KEY, key_line, key=key)
    ((operator, operand),) = node.items()
    compiler = OPERATORS.get(operator)
    if compiler is None:
        checker.error(Problem.UNKNOWN_OPERATOR, node.line, operator=operator, expected=", ".join(OPERATORS))
        return None
    return compiler(operand, node.line_of(operator), checker)


def _logic_test(tests: list[Test], decisive: bool) -> Test:
    """Return `all` (decisive=False) or `any` (decisive=True): stop at the first decisive verdict."""

    def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
        unknown = False
        for part in tests:
            verdict = part(answers, derived)
            if verdict is decisive:
                return decisive
            unknown = unknown or verdict is None
        return None if unknown else not decisive

    return test


def _compile_list(operator: str, operand: Any, line: int, checker: Checker) -> list[Condition] | None:
    if not isinstance(operand, MarkedList) or not operand:
        checker.error(Problem.OPERATOR_SHAPE, line, operator=operator, shape="a non-empty list of conditions")
        return None
    lines = operand.item_lines
    parts = [compile_condition(item, item_line, checker) for item, item_line in zip(operand, lines, strict=True)]
    if any(part is None for part in parts):
        return None
    return [part for part in parts if part is not None]


def _combined(parts: list[Condition], test: Test, tree: tuple[Any, ...]) -> Condition:
    return Condition(
        test,
        frozenset().union(*(part.answer_ids for part in parts)),
        frozenset().union(*(part.derived for part in parts)),
        frozenset().union(*(part.values for part in parts)),
        tree,
    )


def _logic(operator: str, decisive: bool) -> Compiler:
    """Compile `all` (a False decides) and `any` (a True decides)."""

    def compile_logic(operand: Any, line: int, checker: Checker) -> Condition | None:
        parts = _compile_list(operator, operand, line, checker)
        if parts is None:
            return None
        return _combined(parts, _logic_test([part.test for part in parts], decisive), (operator, line, *parts))

    return compile_logic


def _not(operand: Any, line: int, checker: Checker) -> Condition | None:
    part = compile_condition(operand, line, checker)
    if part is None:
        return None
    inner = part.test

    def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
        verdict = inner(answers, derived)
        return None if verdict is None else not verdict

    return _combined([part], test, ("not", line, part))


def _counting(operator: str, at_least: bool) -> Compiler:
    shape = "a mapping with 'count' (a whole number) and 'of' (a list of conditions)"

    def compile_count(operand: Any, line: int, checker: Checker) -> Condition | None:
        if not isinstance(operand, MarkedMap) or set(operand) != {"count", "of"}:
            checker.error(Problem.OPERATOR_SHAPE, line, operator=operator, shape=shape)
            return None
        for key, key_line in operand.repeated_keys:
            checker.error(Problem.DUPLICATE_KEY, key_line, key=key)
        parts = _compile_list(operator, operand["of"], operand.line_of("of"), checker)
        count = operand["count"]
        if parts is None:
            return None
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= len(parts):
            checker.error(Problem.BAD_COUNT, operand.line_of("count"), minimum=0, maximum=len(parts))
            return None
        tests = [part.test for part in parts]

        def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
            verdicts = [test(answers, derived) for test in tests]
            known_true = verdicts.count(True)
            possible_true = known_true + verdicts.count(None)
            if at_least:
                return True if known_true >= count else False if possible_true < count else None
            return False if known_true > count else True if possible_true <= count else None

        return _combined(parts, test, (operator, line, count, *parts))

    return compile_count


def _question(operator: str, operand: Any, line: int, checker: Checker, kinds: tuple[Kind, ...]) -> Question | None:
    """Return the question named by an `[answer_id, value]` operand, checking its kind."""
    if not isinstance(operand, MarkedList) or len(operand) != 2 or not isinstance(operand[0], str):
        checker.error(Problem.OPERATOR_SHAPE, line, operator=operator, shape="a list of an answer id and a value")
        return None
    question = BY_ID.get(operand[0])
    if question is None:
        checker.error(Problem.UNKNOWN_ANSWER, operand.item_lines[0], answer=operand[0])
        return None
    if question.kind not in kinds:
        checker.error(Problem.WRONG_ANSWER_KIND, line, operator=operator, answer=question.id, kind=question.kind.value)
        return None
    return question


def _known_values(question: Question, values: Any, line: int, checker: Checker) -> bool:
    if not isinstance(values, list) or not values:
        return False
    unknown = [value for value in values if value not in question.values]
    for value in unknown:
        checker.error(Problem.UNKNOWN_VALUE, line, value=value, answer=question.id, expected=", ".join(question.values))
    return not unknown


def _choice_test(operator: str, kind: Kind, many: bool) -> Compiler:
    """Compile `equals`, `one_of`, `contains` and `contains_any`."""

    def compile_choice(operand: Any, line: int, checker: Checker) -> Condition | None:
        question = _question(operator, operand, line, checker, (kind,))
        if question is None:
            return None
        value = operand[1]
        values = value if many else [value]
        value_line = operand.item_lines[1]
        if many and (not isinstance(value, list) or not value):
            checker.error(Problem.OPERATOR_SHAPE, line, operator=operator, shape="a list of values as its second item")
            return None
        if not _known_values(question, values, value_line, checker):
            return None
        answer_id, wanted = question.id, frozenset(values)

        def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
            answer = answers.get(answer_id)
            if answer is None:
                return None
            if kind is Kind.SINGLE:
                return answer in wanted
            return not wanted.isdisjoint(answer)

        looked_for = frozenset((answer_id, value) for value in wanted)
        return Condition(test, frozenset({answer_id}), frozenset(), looked_for, (operator, line, answer_id, wanted))

    return compile_choice


def _bound(operator: str, at_least: bool) -> Compiler:
    """Compile `at_least` and `at_most`: a number's value, or how many choices are ticked."""

    def compile_bound(operand: Any, line: int, checker: Checker) -> Condition | None:
        question = _question(operator, operand, line, checker, (Kind.INTEGER, Kind.MULTI))
        if question is None:
            return None
        limit = operand[1]
        low, high = (question.minimum, question.maximum) if question.kind is Kind.INTEGER else (0, len(question.values))
        if isinstance(limit, bool) or not isinstance(limit, int) or not low <= limit <= high:
            checker.error(
                Problem.OUT_OF_RANGE, operand.item_lines[1], value=limit, answer=question.id, minimum=low, maximum=high
            )
            return None
        answer_id, counts = question.id, question.kind is Kind.MULTI

        def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
            answer = answers.get(answer_id)
            if answer is None:
                return None
            amount = len(answer) if counts else answer
            return amount >= limit if at_least else amount <= limit

        return Condition(test, frozenset({answer_id}), frozenset(), tree=(operator, line, answer_id, limit))

    return compile_bound


def _derived_is(operator: str, what: str) -> Compiler:
    """Compile `pattern_is` and `level_is`, which test what earlier rules decided."""

    def compile_derived(operand: Any, line: int, checker: Checker) -> Condition | None:
        declared = checker.patterns if what == "pattern" else checker.levels
        if not isinstance(operand, MarkedList) or not operand:
            checker.error(Problem.OPERATOR_SHAPE, line, operator=operator, shape=f"a non-empty list of {what} ids")
            return None
        undeclared = [item for item in operand if not isinstance(item, str) or item not in declared]
        for item in undeclared:
            problem = Problem.UNDECLARED_PATTERN if what == "pattern" else Problem.UNDECLARED_LEVEL
            checker.error(problem, line, **{what: item})
        if undeclared:
            return None
        wanted = frozenset(operand)

        def test(answers: Mapping[str, Any], derived: Derived) -> Verdict:
            known = derived.pattern if what == "pattern" else derived.level
            return None if known is None else known in wanted

        return Condition(test, frozenset(), frozenset({what}), tree=(operator, line, wanted))

    return compile_derived


OPERATORS: Mapping[str, Compiler] = {
    "all": _logic("all", decisive=False),
    "any": _logic("any", decisive=True),
    "not": _not,
    "at_least_of": _counting("at_least_of", at_least=True),
    "at_most_of": _counting("at_most_of", at_least=False),
    "equals": _choice_test("equals", Kind.SINGLE, many=False),
    "one_of": _choice_test("one_of", Kind.SINGLE, many=True),
    "contains": _choice_test("contains", Kind.MULTI, many=False),
    "contains_any": _choice_test("contains_any", Kind.MULTI, many=True),
    "at_least": _bound("at_least", at_least=True),
    "at_most": _bound("at_most", at_least=False),
    "pattern_is": _derived_is("pattern_is", "pattern"),
    "level_is": _derived_is("level_is", "level"),
}
