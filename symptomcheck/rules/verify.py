"""Prove a rule set's guarantees over every possible set of answers, with the z3 solver.

Each answer set, complete or partial, is a handful of z3 variables; each
condition becomes a pair of z3 booleans (is true, is false), so "not known"
is exact, as in the compiled closures; the engine's three rounds (patterns,
then levels, then notes) become z3 terms over those variables. A guarantee
holds when the solver finds no answer set that breaks it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3

from symptomcheck.rules import marked
from symptomcheck.rules.conditions import Condition, Derived, compile_condition
from symptomcheck.rules.engine import assess
from symptomcheck.rules.loader import FileChecker, Rule, RuleSet, read_file, read_mapping
from symptomcheck.rules.problems import Problem, RuleError, RuleFileError
from symptomcheck.rules.questions import BY_ID, QUESTIONS, SCREENING_IDS, Kind

DEFAULT_GUARANTEES = Path(__file__).resolve().parents[2] / "guarantees.yaml"

# complete: every question answered; partial: age_band and red_flags answered,
# any other may be missing (what the early stop sees); any: every question may be missing.
ANSWER_SETS = ("complete", "partial", "any")
# Claims that hold "when" a condition is true, and those that stand alone.
WHEN_CLAIMS = ("level_at_least", "level_exactly_when", "pattern_exactly_when", "note_never_when", "note_always_when")
SOLVED_CLAIMS = (*WHEN_CLAIMS, "level_never_lower_when_more", "level_stays_whatever_follows")
TEXT_CLAIMS = ("advice_says", "texts_never_say")
CLAIMS = (*SOLVED_CLAIMS, *TEXT_CLAIMS)
TOP_KEYS = ("levels", "patterns", "guarantees")
GUARANTEE_KEYS = ("id", "says", "answers", "when", *CLAIMS)
NOTE_PICKS = ("rules", "mentioning", "other_than")

Truth = tuple[Any, Any]  # z3 booleans: (the condition is true, the condition is false)


@dataclass(frozen=True)
class Notes:
    """Which notes a note claim is about: named rules, notes mentioning words, or every note but some."""

    how: str
    items: tuple[str, ...]

    def picks(self, rule: Rule) -> bool:
        """Say whether this rule's note is one of those meant."""
        if rule.note is None:
            return False
        if self.how == "rules":
            return rule.id in self.items
        if self.how == "other_than":
            return rule.id not in self.items
        return any(word.lower() in rule.note.lower() for word in self.items)


@dataclass(frozen=True)
class Guarantee:
    id: str
    says: str
    line: int
    claim: str
    answers: str = "complete"
    when: Condition | None = None
    level: str | None = None
    pattern: str | None = None
    notes: Notes | None = None
    answer_id: str | None = None
    given: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuaranteeSet:
    levels: tuple[str, ...]  # most urgent first, as triage.md ranks them
    patterns: tuple[str, ...]
    guarantees: tuple[Guarantee, ...]
    source: str
    levels_line: int
    patterns_line: int


class _GuaranteeChecker(FileChecker):
    """The rule loader's checker, naming guarantees instead of rules in its messages."""

    def error(self, problem: Problem, line: int, **details: object) -> None:
        self.errors.append(RuleError(problem, self.source, line, self.rule_id, details, "guarantee"))


def load_guarantees(path: str | Path) -> GuaranteeSet:
    """Read, check and compile a guarantee file; raise RuleFileError listing every problem."""
    return parse_guarantees(read_file(path), str(path))


def parse_guarantees(text: str, source: str = "<guarantees>") -> GuaranteeSet:
    """Check and compile guarantee-file text; raise RuleFileError listing every problem."""
    document = read_mapping(text, source)
    checker = _GuaranteeChecker(source)
    checker.keys(document, TOP_KEYS, TOP_KEYS)
    levels = _ids(checker, document, "levels")
    patterns = _ids(checker, document, "patterns")
    checker.levels, checker.patterns = frozenset(levels), frozenset(patterns)
    nodes = checker.mappings(document, "guarantees")
    checker.unique_ids("guarantee", nodes)
    try:
        guarantees = [_guarantee(node, checker) for node in nodes]
    except RecursionError as exc:
        deep: dict[str, object] = {"detail": "a condition is nested too deeply"}
        raise RuleFileError([RuleError(Problem.YAML_SYNTAX, source, 0, None, deep)]) from exc
    if checker.errors:
        raise RuleFileError(checker.errors)
    return GuaranteeSet(
        tuple(levels),
        tuple(patterns),
        tuple(guarantee for guarantee in guarantees if guarantee is not None),
        source,
        document.line_of("levels"),
        document.line_of("patterns"),
    )


def _ids(checker: FileChecker, node: marked.MarkedMap, key: str) -> list[str]:
    """Return a non-empty list of distinct ids under `key`, reporting anything else."""
    items = node.get(key)
    if key not in node:
        return []
    if not isinstance(items, marked.MarkedList) or not items or not all(isinstance(item, str) for item in items):
        checker.error(Problem.WRONG_TYPE, node.line_of(key), key=key, expected="a non-empty list of ids")
        return []
    seen: set[str] = set()
    for item, line in zip(items, items.item_lines, strict=True):
        if item in seen:
            checker.error(Problem.DUPLICATE_ID, line, what=key.rstrip("s"), id=item)
        seen.add(item)
    return list(items)


def _guarantee(node: marked.MarkedMap, checker: FileChecker) -> Guarantee | None:
    checker.rule_id = None
    checker.rule_id = checker.identifier(node) or None
    checker.keys(node, GUARANTEE_KEYS, ("id", "says"))
    says = checker.text(node, "says")
    claims = [key for key in CLAIMS if key in node]
    if len(claims) != 1:
        checker.error(Problem.CLAIM_COUNT, node.line, expected=", ".join(CLAIMS))
        return None
    (claim,) = claims
    value, line = node[claim], node.line_of(claim)
    needs = {"when": claim in WHEN_CLAIMS, "answers": claim in SOLVED_CLAIMS}
    for key, needed in needs.items():
        if needed and key not in node:
            checker.error(Problem.MISSING_KEY, node.line, key=key)
        elif not needed and key in node:
            allowed = ["id", "says", *(other for other, wanted in needs.items() if wanted), claim]
            checker.error(Problem.UNKNOWN_KEY, node.line_of(key), key=key, expected=", ".join(allowed))
    answers = node.get("answers", "complete")
    if answers not in ANSWER_SETS:
        checker.error(
            Problem.WRONG_TYPE, node.line_of("answers"), key="answers", expected="one of: " + ", ".join(ANSWER_SETS)
        )
    when = compile_condition(node["when"], node.line_of("when"), checker) if "when" in node else None
    fields: dict[str, Any] = {}
    if claim in ("level_at_least", "level_exactly_when"):
        fields["level"] = _declared(checker, value, line, "level")
    elif claim == "pattern_exactly_when":
        fields["pattern"] = _declared(checker, value, line, "pattern")
    elif claim in ("note_never_when", "note_always_when"):
        fields["notes"] = _notes(checker, value, line)
    elif claim == "level_never_lower_when_more":
        fields["answer_id"] = _answer(checker, value, line, claim, (Kind.MULTI, Kind.INTEGER))
    elif claim == "level_stays_whatever_follows":
        if _shape(checker, value, line, claim, {"level", "given"}, "a mapping with 'level' and 'given'"):
            fields["level"] = _declared(checker, value["level"], value.line_of("level"), "level")
            given = _words(checker, value, "given")
            for answer_id in given:
                _answer(checker, answer_id, value.line_of("given"), claim, tuple(Kind))
            fields["given"] = given
    elif claim == "advice_says":
        if _shape(checker, value, line, claim, {"level", "words"}, "a mapping with 'level' and 'words'"):
            fields["level"] = _declared(checker, value["level"], value.line_of("level"), "level")
            fields["words"] = _words(checker, value, "words")
    else:
        fields["words"] = _words(checker, node, claim)
    if checker.errors or not checker.rule_id:
        return None
    return Guarantee(checker.rule_id, says, node.line, claim, str(answers), when, **fields)


def _shape(checker: FileChecker, value: Any, line: int, claim: str, keys: set[str], shape: str) -> bool:
    if not isinstance(value, marked.MarkedMap) or set(value) != keys:
        checker.error(Problem.OPERATOR_SHAPE, line, operator=claim, shape=shape)
        return False
    for key, key_line in value.repeated_keys:
        checker.error(Problem.DUPLICATE_KEY, key_line, key=key)
    return True


def _declared(checker: FileChecker, value: Any, line: int, what: str) -> str:
    declared = checker.levels if what == "level" else checker.patterns
    if not isinstance(value, str) or value not in declared:
        problem = Problem.UNDECLARED_LEVEL if what == "level" else Problem.UNDECLARED_PATTERN
        checker.error(problem, line, **{what: value})
        return ""
    return value


def _words(checker: FileChecker, node: marked.MarkedMap, key: str) -> tuple[str, ...]:
    items = node.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item for item in items):
        checker.error(Problem.WRONG_TYPE, node.line_of(key), key=key, expected="a non-empty list of text")
        return ()
    return tuple(items)


def _notes(checker: FileChecker, value: Any, line: int) -> Notes | None:
    shape = f"a mapping with one of: {', '.join(NOTE_PICKS)}"
    if not isinstance(value, marked.MarkedMap) or len(value) != 1 or next(iter(value)) not in NOTE_PICKS:
        checker.error(Problem.OPERATOR_SHAPE, line, operator="note", shape=shape)
        return None
    ((how, _),) = value.items()
    return Notes(how, _words(checker, value, how))


def _answer(checker: FileChecker, value: Any, line: int, claim: str, kinds: tuple[Kind, ...]) -> str:
    question = BY_ID.get(value) if isinstance(value, str) else None
    if question is None:
        checker.error(Problem.UNKNOWN_ANSWER, line, answer=value)
        return ""
    if question.kind not in kinds:
        checker.error(Problem.WRONG_ANSWER_KIND, line, operator=claim, answer=question.id, kind=question.kind.value)
        return ""
    return question.id


class AnswerVars:
    """One answer set as z3 variables: each question is answered or not, and has a value."""

    def __init__(self, name: str) -> None:
        self.choice: dict[str, Any] = {}  # single: the value's index, -1 when unanswered
        self.ticked: dict[str, dict[str, Any]] = {}  # multi: a boolean per value
        self.number: dict[str, Any] = {}  # integer: its value
        self.answered: dict[str, Any] = {}
        for question in QUESTIONS:
            var = f"{name}.{question.id}"
            if question.kind is Kind.SINGLE:
                self.choice[question.id] = z3.Int(var)
                self.answered[question.id] = self.choice[question.id] >= 0
                continue
            self.answered[question.id] = z3.Bool(f"{var}?")
            if question.kind is Kind.MULTI:
                self.ticked[question.id] = {value: z3.Bool(f"{var}.{value}") for value in question.values}
            else:
                self.number[question.id] = z3.Int(var)

    def count(self, answer_id: str) -> Any:
        """Return how many boxes of a multi question are ticked."""
        return z3.Sum([z3.If(tick, 1, 0) for tick in self.ticked[answer_id].values()])

    def well_formed(self) -> list[Any]:
        """Return the ranges of every variable; an unanswered question has one fixed value, so models are unique."""
        facts = []
        for question in QUESTIONS:
            answered = self.answered[question.id]
            if question.kind is Kind.SINGLE:
                choice = self.choice[question.id]
                facts.append(z3.And(choice >= -1, choice < len(question.values)))
            elif question.kind is Kind.MULTI:
                facts.append(z3.Implies(z3.Not(answered), z3.Not(z3.Or(list(self.ticked[question.id].values())))))
            else:
                number = self.number[question.id]
                in_range = z3.And(number >= question.minimum, number <= question.maximum)
                facts += [in_range, z3.Implies(z3.Not(answered), number == question.minimum)]
        return facts

    def agreeing(self) -> Any:
        """Return that treatments and their result agree when both are given (answers that do not are refused)."""
        tried, result = "treatments_tried", "treatment_result"
        nothing_tried = z3.Not(z3.Or(list(self.ticked[tried].values())))
        not_tried = self.choice[result] == BY_ID[result].values.index("not_tried")
        return z3.Implies(z3.And(self.answered[tried], self.answered[result]), not_tried == nothing_tried)

    def in_set(self, answers: str) -> list[Any]:
        """Return the facts of one kind of answer set: complete, partial or any."""
        required = {"complete": tuple(BY_ID), "partial": SCREENING_IDS, "any": ()}[answers]
        return [self.agreeing(), *(self.answered[answer_id] for answer_id in required)]

    def same(self, other: AnswerVars, answer_id: str) -> Any:
        """Return that one question is answered alike in both answer sets."""
        if answer_id in self.choice:
            return self.choice[answer_id] == other.choice[answer_id]
        values = [self.answered[answer_id] == other.answered[answer_id]]
        if answer_id in self.ticked:
            values += [tick == other.ticked[answer_id][value] for value, tick in self.ticked[answer_id].items()]
        else:
            values.append(self.number[answer_id] == other.number[answer_id])
        return z3.And(values)

    def fixed_to(self, answers: Mapping[str, Any]) -> list[Any]:
        """Return the facts that make these variables one given answer set."""
        facts = []
        for question in QUESTIONS:
            given = question.id in answers
            value = answers.get(question.id)
            if question.kind is Kind.SINGLE:
                facts.append(self.choice[question.id] == (question.values.index(value) if given else -1))
                continue
            facts.append(self.answered[question.id] == given)
            if question.kind is Kind.MULTI:
                ticked = set(value or ())
                facts += [tick == (item in ticked) for item, tick in self.ticked[question.id].items()]
            elif given:
                facts.append(self.number[question.id] == value)
        return facts

    def read(self, model: Any) -> dict[str, Any]:
        """Return the answer set a model gives, as the engine takes it, in question order."""
        answers: dict[str, Any] = {}
        for question in QUESTIONS:
            if not z3.is_true(model.eval(self.answered[question.id], model_completion=True)):
                continue
            if question.kind is Kind.SINGLE:
                answers[question.id] = question.values[model.eval(self.choice[question.id]).as_long()]
            elif question.kind is Kind.MULTI:
                ticks = self.ticked[question.id]
                answers[question.id] = [
                    value for value in question.values if z3.is_true(model.eval(ticks[value], model_completion=True))
                ]
            else:
                answers[question.id] = model.eval(self.number[question.id], model_completion=True).as_long()
        return answers


@dataclass(frozen=True)
class _Context:
    """What a condition is evaluated against: answers, and the pattern and level known so far (-1: none yet)."""

    answers: AnswerVars
    pattern: Any
    level: Any
    pattern_ranks: Mapping[str, int]
    level_ranks: Mapping[str, int]


def truth(condition: Condition, context: _Context) -> Truth:
    """Return z3 booleans for "the condition is true" and "the condition is false" (neither: not known)."""
    operator, _line, *operands = condition.tree
    answers = context.answers
    if operator in ("all", "any"):
        parts = [truth(part, context) for part in operands]
        trues, falses = [part[0] for part in parts], [part[1] for part in parts]
        if operator == "all":
            return z3.And(trues), z3.Or(falses)
        return z3.Or(trues), z3.And(falses)
    if operator == "not":
        is_true, is_false = truth(operands[0], context)
        return is_false, is_true
    if operator in ("at_least_of", "at_most_of"):
        count, *subconditions = operands
        parts = [truth(part, context) for part in subconditions]
        known_true = z3.Sum([z3.If(is_true, 1, 0) for is_true, _ in parts])
        possibly_true = z3.Sum([z3.If(is_false, 0, 1) for _, is_false in parts])
        if operator == "at_least_of":
            return known_true >= count, possibly_true < count
        return possibly_true <= count, known_true > count
    if operator in ("pattern_is", "level_is"):
        (wanted,) = operands
        known, ranks = (context.pattern, context.pattern_ranks) if operator == "pattern_is" else (
            context.level, context.level_ranks
        )  # fmt: skip
        hit = z3.Or([known == ranks[item] for item in sorted(wanted)])
        return z3.And(known >= 0, hit), z3.And(known >= 0, z3.Not(hit))
    answer_id, wanted = operands
    question = BY_ID[answer_id]
    if operator in ("equals", "one_of"):
        hit = z3.Or([answers.choice[answer_id] == question.values.index(value) for value in sorted(wanted)])
    elif operator in ("contains", "contains_any"):
        hit = z3.Or([answers.ticked[answer_id][value] for value in sorted(wanted)])
    else:
        amount = answers.number[answer_id] if question.kind is Kind.INTEGER else answers.count(answer_id)
        hit = amount >= wanted if operator == "at_least" else amount <= wanted
    answered = answers.answered[answer_id]
    return z3.And(answered, hit), z3.And(answered, z3.Not(hit))


@dataclass(frozen=True)
class Outcome:
    """The engine's result over one answer set, as z3 terms."""

    pattern: Any  # the winning pattern's rank, -1 for none
    level: Any  # the level's rank in the rule file
    level_is_default: Any
    fired: Mapping[str, Any]  # rule id -> its condition is true, in its round
    shown: Mapping[str, Any]  # rule id -> its reason (and note) is in the result
    context: _Context  # the final pattern and level, for a guarantee's `when`


def outcome(rules: RuleSet, answers: AnswerVars) -> Outcome:
    """Encode `engine.assess`: patterns first (the first declared wins), the most urgent level, then notes."""
    pattern_ranks = {pattern.id: pattern.rank for pattern in rules.patterns}
    level_ranks = {level.id: level.rank for level in rules.levels}
    none = z3.IntVal(-1)
    start = _Context(answers, none, none, pattern_ranks, level_ranks)
    fired = {rule.id: truth(rule.condition, start)[0] for rule in rules.pattern_rules}
    pattern = none
    for declared in reversed(rules.patterns):
        hits = [fired[rule.id] for rule in rules.pattern_rules if rule.pattern and rule.pattern.id == declared.id]
        pattern = z3.If(z3.Or(hits), declared.rank, pattern)
    with_pattern = _Context(answers, pattern, none, pattern_ranks, level_ranks)
    fired |= {rule.id: truth(rule.condition, with_pattern)[0] for rule in rules.level_rules}
    level = z3.IntVal(rules.default_level.rank)
    for declared_level in reversed(rules.levels):
        hits = [fired[rule.id] for rule in rules.level_rules if rule.level and rule.level.id == declared_level.id]
        level = z3.If(z3.Or(hits), declared_level.rank, level)
    level_is_default = z3.Not(z3.Or([fired[rule.id] for rule in rules.level_rules]))
    final = _Context(answers, pattern, level, pattern_ranks, level_ranks)
    fired |= {rule.id: truth(rule.condition, final)[0] for rule in rules.note_rules}
    shown = dict(fired)
    for rule in rules.pattern_rules:
        if rule.pattern:
            shown[rule.id] = z3.And(fired[rule.id], pattern == rule.pattern.rank)
    return Outcome(pattern, level, level_is_default, fired, shown, final)


@dataclass(frozen=True)
class Case:
    """One answer set the solver found, and what the engine makes of it."""

    answers: dict[str, Any]
    level: str
    pattern: str | None
    fired: tuple[str, ...]
    expect_level: str  # for the worked case: what the guarantee demands, or what the rules give
    expect_pattern: str | None = None


@dataclass(frozen=True)
class Broken:
    guarantee: Guarantee
    demands: str
    cases: tuple[Case, ...] = ()
    found: str = ""  # for text claims: the text that breaks it


@dataclass(frozen=True)
class Report:
    proved: tuple[Guarantee, ...]
    broken: tuple[Broken, ...]
    warnings: tuple[str, ...]
    seconds: float


class _Prover:
    """One solver over the rule set's outcome on one answer set (and a second copy for comparisons)."""

    def __init__(self, rules: RuleSet, guarantees: GuaranteeSet) -> None:
        self.rules = rules
        self.urgency = {level: rank for rank, level in enumerate(guarantees.levels)}  # triage.md's order
        self.solver = z3.Solver()
        self.first = AnswerVars("a")
        self.solver.add(self.first.well_formed())
        self.outcome = outcome(rules, self.first)
        self._second: tuple[AnswerVars, Outcome] | None = None

    @property
    def second(self) -> tuple[AnswerVars, Outcome]:
        if self._second is None:
            answers = AnswerVars("b")
            self.solver.add(answers.well_formed())
            self._second = (answers, outcome(self.rules, answers))
        return self._second

    def level_is(self, result: Outcome, level_id: str) -> Any:
        return result.level == self.rules.level(level_id).rank

    def urgency_of(self, result: Outcome) -> Any:
        """Return the result's level as its rank in the guarantee file (0: most urgent)."""
        term = z3.IntVal(len(self.urgency))
        for level in self.rules.levels:
            term = z3.If(result.level == level.rank, self.urgency[level.id], term)
        return term

    def at_least(self, result: Outcome, level_id: str) -> Any:
        return self.urgency_of(result) <= self.urgency[level_id]

    def possible(self, *facts: Any) -> bool:
        """Say whether some answer set satisfies every fact."""
        self.solver.push()
        self.solver.add(*facts)
        found = bool(self.solver.check() == z3.sat)
        self.solver.pop()
        return found

    def example(self, *facts: Any) -> Any:
        """Return a model of the facts, as plain as can be (few boxes ticked, small numbers), or None."""
        if not self.possible(*facts):
            return None
        plain = z3.Optimize()
        plain.add(*self.solver.assertions(), *facts)
        copies = [self.first] + ([self._second[0]] if self._second else [])
        for answers in copies:
            for ticks in answers.ticked.values():
                for tick in ticks.values():
                    plain.add_soft(z3.Not(tick))
            for number in answers.number.values():
                plain.add_soft(number == 0)
        plain.check()
        return plain.model()


def verify(rules: RuleSet, guarantees: GuaranteeSet, *, warn: bool = True, stop_at_broken: bool = False) -> Report:
    """Prove each guarantee over every answer set of its kind, and list rules and conditions that do nothing."""
    started = time.perf_counter()
    check_fit(rules, guarantees)
    prover = _Prover(rules, guarantees)
    proved, broken, warnings = [], [], []
    for guarantee in guarantees.guarantees:
        failure, notes = _prove(prover, guarantee)
        warnings += [f"{guarantees.source}:{guarantee.line}: guarantee '{guarantee.id}': {note}" for note in notes]
        if failure is None:
            proved.append(guarantee)
            continue
        broken.append(failure)
        if stop_at_broken:
            break
    if warn:
        warnings += _idle(prover)
    return Report(tuple(proved), tuple(broken), tuple(warnings), time.perf_counter() - started)


def check_fit(rules: RuleSet, guarantees: GuaranteeSet) -> None:
    """Raise RuleFileError when the guarantees name levels or patterns the rules lack, or cannot rank a level."""
    errors = []
    declared = {"level": {level.id for level in rules.levels}, "pattern": {pattern.id for pattern in rules.patterns}}
    named = {
        "level": (guarantees.levels, guarantees.levels_line),
        "pattern": (guarantees.patterns, guarantees.patterns_line),
    }
    for what, (ids, line) in named.items():
        for missing in [item for item in ids if item not in declared[what]]:
            details: dict[str, object] = {"what": what, "id": missing, "rules": rules.source}
            errors.append(RuleError(Problem.NOT_IN_RULES, guarantees.source, line, None, details))
    for level in rules.levels:
        if level.id not in guarantees.levels:
            errors.append(
                RuleError(Problem.NOT_RANKED, guarantees.source, guarantees.levels_line, None, {"level": level.id})
            )
    if errors:
        raise RuleFileError(errors)


def _prove(prover: _Prover, guarantee: Guarantee) -> tuple[Broken | None, list[str]]:
    """Return how the guarantee breaks (None when it holds), and notes on guarantees that prove nothing."""
    if guarantee.claim in TEXT_CLAIMS:
        return _prove_text(prover.rules, guarantee), []
    first, result = prover.first, prover.outcome
    answer_set = first.in_set(guarantee.answers)
    notes = []
    if guarantee.claim in WHEN_CLAIMS:
        assert guarantee.when is not None
        holds = truth(guarantee.when, result.context)[0]
        if not prover.possible(*answer_set, holds):
            notes.append("its 'when' never holds, so it proves nothing")
        if guarantee.notes and not any(guarantee.notes.picks(rule) for rule in prover.rules.rules):
            notes.append("it names no note of the rule set, so it proves nothing")
        breaking, demands = _when_claim(prover, guarantee, holds)
        model = prover.example(*answer_set, breaking)
        if model is None:
            return None, notes
        complete = prover.example(*first.in_set("complete"), breaking)  # a worked case `rules test` can run
        model = complete if complete is not None else model
        return Broken(guarantee, demands, (_case(prover.rules, first.read(model), guarantee),)), notes
    second, later = prover.second
    facts = [*answer_set, *second.in_set(guarantee.answers)]
    if guarantee.claim == "level_never_lower_when_more":
        answer_id = guarantee.answer_id
        assert answer_id is not None
        facts += [first.same(second, other) for other in BY_ID if other != answer_id]
        facts += [first.answered[answer_id], second.answered[answer_id], _more(first, second, answer_id)]
        facts.append(prover.urgency_of(later) > prover.urgency_of(result))
        demands = f"more {answer_id} never gives a less urgent level"
    else:
        assert guarantee.level is not None
        facts += [first.same(second, given) for given in guarantee.given]
        facts += [z3.Not(first.answered[other]) for other in BY_ID if other not in guarantee.given]
        facts += [prover.level_is(result, guarantee.level), z3.Not(result.level_is_default)]
        facts.append(z3.Not(prover.level_is(later, guarantee.level)))
        demands = f"{guarantee.level} on {', '.join(guarantee.given)} alone stays {guarantee.level} whatever follows"
    model = prover.example(*facts)
    if model is None:
        return None, notes
    before, after = first.read(model), second.read(model)
    first_case = _case(prover.rules, before, guarantee)
    return Broken(guarantee, demands, (first_case, _case(prover.rules, after, guarantee, first_case.level))), notes


def _when_claim(prover: _Prover, guarantee: Guarantee, holds: Any) -> tuple[Any, str]:
    """Return what an answer set breaking a `when` claim satisfies, and what the guarantee demands."""
    result = prover.outcome
    if guarantee.claim == "level_at_least":
        assert guarantee.level is not None
        breaking = z3.And(holds, z3.Not(prover.at_least(result, guarantee.level)))
        return breaking, f"the level is {guarantee.level} or more urgent"
    if guarantee.claim == "level_exactly_when":
        assert guarantee.level is not None
        demands = f"the level is {guarantee.level} when the condition holds, and only then"
        return holds != prover.level_is(result, guarantee.level), demands
    if guarantee.claim == "pattern_exactly_when":
        assert guarantee.pattern is not None
        is_pattern = result.pattern == _pattern_rank(prover.rules, guarantee.pattern)
        demands = f"the pattern is {guarantee.pattern} when the condition holds, and only then"
        return holds != is_pattern, demands
    assert guarantee.notes is not None
    picked = [rule for rule in prover.rules.rules if guarantee.notes.picks(rule)]
    any_shown = z3.Or([result.shown[rule.id] for rule in picked])
    described = f"{guarantee.notes.how.replace('_', ' ')} {', '.join(guarantee.notes.items)}"
    if guarantee.claim == "note_never_when":
        return z3.And(holds, any_shown), f"no note ({described}) shows when the condition holds"
    return z3.And(holds, z3.Not(any_shown)), f"a note ({described}) shows when the condition holds"


def _pattern_rank(rules: RuleSet, pattern_id: str) -> int:
    return next(pattern.rank for pattern in rules.patterns if pattern.id == pattern_id)


def _more(first: AnswerVars, second: AnswerVars, answer_id: str) -> Any:
    """Return that the second answer set has more of one answer: a larger number, or every box ticked and more."""
    if answer_id in first.number:
        return second.number[answer_id] > first.number[answer_id]
    ticks, more_ticks = first.ticked[answer_id], second.ticked[answer_id]
    return z3.And(
        z3.And([z3.Implies(ticks[value], more_ticks[value]) for value in ticks]),
        z3.Or([z3.And(more_ticks[value], z3.Not(ticks[value])) for value in ticks]),
    )


def _case(rules: RuleSet, answers: dict[str, Any], guarantee: Guarantee, expect_level: str | None = None) -> Case:
    """Run the engine itself on a found answer set, so what is printed is what a person would be told."""
    result = assess(rules, answers)
    pattern = result.pattern.id if result.pattern else None
    expect_pattern = None
    if guarantee.when and guarantee.when.test(answers, Derived(pattern, result.level.id)) is True:
        if guarantee.claim in ("level_at_least", "level_exactly_when"):
            expect_level = guarantee.level
        elif guarantee.claim == "pattern_exactly_when":
            expect_pattern = guarantee.pattern
    fired = tuple(rule.id for rule in result.fired)
    return Case(answers, result.level.id, pattern, fired, expect_level or result.level.id, expect_pattern)


def _texts(rules: RuleSet) -> Iterator[tuple[str, str]]:
    """Yield every text a person may read, with where it is."""
    for level in rules.levels:
        yield f"level '{level.id}'", f"{level.title} {level.advice}"
    for pattern in rules.patterns:
        yield f"pattern '{pattern.id}'", f"{pattern.title} {pattern.advice}"
    for rule in rules.rules:
        yield f"{rules.source}:{rule.line}: rule '{rule.id}'", f"{rule.reason} {rule.note or ''}"


def _prove_text(rules: RuleSet, guarantee: Guarantee) -> Broken | None:
    if guarantee.claim == "advice_says":
        assert guarantee.level is not None
        level = rules.level(guarantee.level)
        text = f"{level.title} {level.advice}".lower()
        missing = [word for word in guarantee.words if word.lower() not in text]
        demands = f"the {level.id} advice says: {'; '.join(guarantee.words)}"
        return Broken(guarantee, demands, found=f"it does not say: {'; '.join(missing)}") if missing else None
    found = [
        f"{where} says '{word}'"
        for where, text in _texts(rules)
        for word in guarantee.words
        if word.lower() in text.lower()
    ]
    demands = f"no text says: {'; '.join(guarantee.words)}"
    return Broken(guarantee, demands, found="; ".join(found)) if found else None


def _idle(prover: _Prover) -> list[str]:
    """Return warnings for rules that never fire or never win, and conditions that are always true or false."""
    rules, result, first = prover.rules, prover.outcome, prover.first
    warnings = []
    anything, complete = first.in_set("any"), first.in_set("complete")
    final = result.context
    none = z3.IntVal(-1)
    rounds = {
        "pattern": _Context(first, none, none, final.pattern_ranks, final.level_ranks),
        "level": _Context(first, result.pattern, none, final.pattern_ranks, final.level_ranks),
        "note": final,
    }
    for rule in rules.rules:
        where = f"{rules.source}:{rule.line}: rule '{rule.id}'"
        if not prover.possible(*anything, result.fired[rule.id]):
            warnings.append(f"{where}: can never fire")
        elif not prover.possible(*anything, result.shown[rule.id]):
            warnings.append(f"{where}: always shadowed by an earlier pattern, so it never sets the pattern")
        context = rounds["pattern" if rule.pattern else "level" if rule.level else "note"]
        for condition in _subconditions(rule.condition):
            is_true, is_false = truth(condition, context)
            operator, line = condition.tree[:2]
            if not prover.possible(*complete, z3.Not(is_true)):
                warnings.append(f"{rules.source}:{line}: rule '{rule.id}': '{operator}' is always true")
            elif not prover.possible(*complete, z3.Not(is_false)):
                warnings.append(f"{rules.source}:{line}: rule '{rule.id}': '{operator}' is always false")
    return warnings


def _subconditions(condition: Condition) -> Iterator[Condition]:
    """Yield a condition and every condition inside it."""
    yield condition
    for operand in condition.tree[2:]:
        if isinstance(operand, Condition):
            yield from _subconditions(operand)
