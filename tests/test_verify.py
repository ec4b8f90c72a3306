"""`flask rules verify`: the guarantees hold on today's rules, the encoding matches the engine, mutants are refused."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
import z3
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symptomcheck.cli import rules as rules_cli
from symptomcheck.rules import loader, verify, vignettes
from symptomcheck.rules.engine import assess
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.problems import Problem, RuleFileError
from symptomcheck.rules.questions import BY_ID, QUESTIONS, Kind
from tests.helpers import ROOT, RULES_FILE

GUARANTEES_FILE = ROOT / "guarantees.yaml"
HERE = Path(__file__).resolve().parent / "guarantees"
INVALID = sorted(path for path in (HERE / "invalid").glob("*.yaml") if path.name != "expected.yaml")
EXPECTED = yaml.safe_load((HERE / "invalid" / "expected.yaml").read_text(encoding="utf-8"))
RULES = loader.load(RULES_FILE)
GUARANTEES = verify.load_guarantees(GUARANTEES_FILE)
RULES_TEXT = RULES_FILE.read_text(encoding="utf-8")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(rules_cli, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


# --- today's rules ---------------------------------------------------------


def test_todays_rules_keep_every_guarantee_and_nothing_is_idle() -> None:
    report = verify.verify(RULES, GUARANTEES)
    assert [broken.guarantee.id for broken in report.broken] == []
    assert len(report.proved) == len(GUARANTEES.guarantees)
    assert report.warnings == ()


def test_the_guarantees_cover_triage_md() -> None:
    claims = [(guarantee.claim, guarantee.level, guarantee.when) for guarantee in GUARANTEES.guarantees]
    floors = {
        value
        for claim, _, when in claims
        if claim == "level_at_least" and when is not None
        for value in when.values_of("red_flags")
    }
    assert floors == set(BY_ID["red_flags"].values), "every red flag has its floor"
    exact_patterns = {guarantee.pattern for guarantee in GUARANTEES.guarantees if guarantee.pattern}
    assert exact_patterns == set(GUARANTEES.patterns)
    assert ("level_exactly_when", "self_care") in {(claim, level) for claim, level, _ in claims}
    more = {guarantee.answer_id for guarantee in GUARANTEES.guarantees if guarantee.answer_id}
    assert more == {"red_flags", "headache_days", "pain_intensity", "pain_relief_days", "impact"}
    assert "level_stays_whatever_follows" in {claim for claim, _, _ in claims}


def test_cli_proves_todays_rules_in_seconds() -> None:
    started = time.perf_counter()
    code, out, _ = run(str(RULES_FILE), "--guarantees", str(GUARANTEES_FILE))
    assert code == 0
    total = len(GUARANTEES.guarantees)
    assert re.fullmatch(
        rf"{re.escape(str(RULES_FILE))}: all {total} guarantees in .* hold, version .* \(\d+\.\d s\)\.\n", out
    )
    assert time.perf_counter() - started < 10


# --- the encoding is the engine --------------------------------------------


class Model:
    """The z3 encoding of rules.yaml on one answer set, read back for a given set of answers."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.answers = verify.AnswerVars("x")
        self.outcome = verify.outcome(rules, self.answers)
        self.solver = z3.Solver()
        self.solver.add(self.answers.well_formed())
        # One term carries the whole result (one eval, not fifty): level, default, pattern, a bit per rule shown.
        self.rule_ids = sorted(self.outcome.shown)
        bits = [z3.If(self.outcome.shown[rule_id], 2**bit, 0) for bit, rule_id in enumerate(self.rule_ids)]
        self.packed = z3.Sum(
            self.outcome.level,
            8 * z3.If(self.outcome.level_is_default, 1, 0),
            16 * (self.outcome.pattern + 1),
            256 * z3.Sum(bits),
        )
        # Ready-made literals: building z3 terms per example would cost more than solving.
        self.literals: dict[tuple[str, Any], Any] = {}
        for question in QUESTIONS:
            if question.kind is Kind.SINGLE:
                choice = self.answers.choice[question.id]
                for index in range(-1, len(question.values)):
                    self.literals[question.id, index] = choice == index
                continue
            answered = self.answers.answered[question.id]
            self.literals[question.id, True], self.literals[question.id, False] = answered, z3.Not(answered)
            if question.kind is Kind.MULTI:
                for value, tick in self.answers.ticked[question.id].items():
                    self.literals[question.id, value, True], self.literals[question.id, value, False] = (
                        tick,
                        z3.Not(tick),
                    )
            else:
                number = self.answers.number[question.id]
                for amount in range(question.minimum, question.maximum + 1):
                    self.literals[question.id, "=", amount] = number == amount

    def assumptions(self, answers: dict[str, Any]) -> list[Any]:
        facts = []
        for question in QUESTIONS:
            value = answers.get(question.id)
            if question.kind is Kind.SINGLE:
                facts.append(self.literals[question.id, question.values.index(value) if value else -1])
                continue
            facts.append(self.literals[question.id, value is not None])
            if question.kind is Kind.MULTI:
                facts += [self.literals[question.id, item, item in (value or ())] for item in question.values]
            elif value is not None:
                facts.append(self.literals[question.id, "=", value])
        return facts

    def result(self, answers: dict[str, Any]) -> tuple[str, bool, str | None, set[str]]:
        assert self.solver.check(*self.assumptions(answers)) == z3.sat
        packed = self.solver.model().eval(self.packed).as_long()
        level, is_default, pattern, shown = packed % 8, packed // 8 % 2, packed // 16 % 16 - 1, packed // 256
        return (
            self.rules.levels[level].id,
            bool(is_default),
            self.rules.patterns[pattern].id if pattern >= 0 else None,
            {rule_id for bit, rule_id in enumerate(self.rule_ids) if shown >> bit & 1},
        )


MODEL = Model(RULES)


def ticks(values: tuple[str, ...], mask: int) -> list[str]:
    return [value for bit, value in enumerate(values) if mask >> bit & 1]


def answer(question_id: str) -> st.SearchStrategy[Any]:
    question = BY_ID[question_id]
    if question.kind is Kind.SINGLE:
        return st.sampled_from(question.values)
    if question.kind is Kind.MULTI:  # one draw per question: much faster than a list strategy
        return st.integers(0, 2 ** len(question.values) - 1).map(lambda mask: ticks(question.values, mask))
    return st.integers(question.minimum, question.maximum)


STRATEGIES = {question.id: answer(question.id) for question in QUESTIONS}
complete_answers = st.fixed_dictionaries(STRATEGIES)
partial_answers = st.fixed_dictionaries({}, optional=STRATEGIES)
CROSS_CHECK = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def engine_result(answers: dict[str, Any]) -> tuple[str, bool, str | None, set[str]]:
    result = assess(RULES, answers)
    pattern = result.pattern.id if result.pattern else None
    return result.level.id, result.level_is_default, pattern, {rule.id for rule in result.fired}


@CROSS_CHECK
@given(complete_answers)
def test_encoding_matches_the_engine_on_complete_answers(answers: dict[str, Any]) -> None:
    assert MODEL.result(answers) == engine_result(answers)


@CROSS_CHECK
@given(partial_answers)
def test_encoding_matches_the_engine_on_partial_answers(answers: dict[str, Any]) -> None:
    assert MODEL.result(answers) == engine_result(answers)


def test_encoding_matches_the_engine_on_every_vignette() -> None:
    cases = vignettes.load(ROOT.parent / "shared" / "clinical" / "vignettes.yaml")
    cases += [case for path in sorted((ROOT / "tests" / "vignettes").glob("*.yaml")) for case in vignettes.load(path)]
    assert cases
    for case in cases:
        assert MODEL.result(dict(case.answers)) == engine_result(dict(case.answers)), case.id


# --- mutants: every under-triage change must be refused -----------------------


def rule_block(rule_id: str) -> tuple[int, int]:
    """Return the first and last line (0-based, inclusive) of one rule in rules.yaml."""
    starts = sorted(rule.line - 1 for rule in RULES.rules)
    start = next(rule.line - 1 for rule in RULES.rules if rule.id == rule_id)
    later = [line for line in starts if line > start]
    end = later[0] - 1 if later else len(RULES_TEXT.splitlines()) - 1
    return start, end


def lowered(rule_id: str, level: str, lower: str) -> str:
    lines = RULES_TEXT.splitlines(keepends=True)
    start, end = rule_block(rule_id)
    block = "".join(lines[start : end + 1])
    assert block.count(f"level: {level}\n") == 1, rule_id
    return "".join([*lines[:start], block.replace(f"level: {level}\n", f"level: {lower}\n"), *lines[end + 1 :]])


def removed(rule_id: str) -> str:
    lines = RULES_TEXT.splitlines(keepends=True)
    start, end = rule_block(rule_id)
    return "".join(lines[:start] + lines[end + 1 :])


ONE_DOWN = {"emergency": "urgent", "urgent": "soon"}
LOWERED = [(rule.id, rule.level.id) for rule in RULES.level_rules if rule.level and rule.level.id in ONE_DOWN]
RED_FLAG_RULES = [rule.id for rule in RULES.level_rules if rule.condition.values_of("red_flags")]


def refused_by(text: str) -> str:
    """Return who refuses a mutated rule file: 'loader', 'verify', or '' when both accept it."""
    try:
        mutant = loader.parse(text, "mutant.yaml")
    except RuleFileError:
        return "loader"
    return "verify" if verify.verify(mutant, GUARANTEES, warn=False, stop_at_broken=True).broken else ""


def test_there_are_mutants_of_each_kind() -> None:
    assert len(LOWERED) == 15
    assert len(RED_FLAG_RULES) == 21


@pytest.mark.parametrize(("rule_id", "level"), LOWERED, ids=[rule_id for rule_id, _ in LOWERED])
def test_verify_refuses_a_rule_moved_one_level_down(rule_id: str, level: str) -> None:
    assert refused_by(lowered(rule_id, level, ONE_DOWN[level])) == "verify"  # the loader alone lets these through


@pytest.mark.parametrize("rule_id", RED_FLAG_RULES)
def test_a_red_flag_rule_removed_is_refused(rule_id: str) -> None:
    assert refused_by(removed(rule_id)) in {"loader", "verify"}
    # The loader refuses most of these on its own; verify refuses every one, even past the loader.
    without = dataclasses.replace(RULES, rules=tuple(rule for rule in RULES.rules if rule.id != rule_id))
    assert verify.verify(without, GUARANTEES, warn=False, stop_at_broken=True).broken


def test_cli_prints_a_worked_case_that_fails_on_the_mutant_and_passes_on_the_rules(tmp_path: Path) -> None:
    mutant = tmp_path / "rules.yaml"
    mutant.write_text(lowered("urgent-fever", "urgent", "soon"), encoding="utf-8")
    code, out, _ = run(str(mutant), "--guarantees", str(GUARANTEES_FILE))
    assert code == 1
    line = next(guarantee.line for guarantee in GUARANTEES.guarantees if guarantee.id == "urgent-fever")
    assert f"BROKEN {GUARANTEES_FILE}:{line}: guarantee 'urgent-fever': " in out
    assert "  the guarantee demands: the level is urgent or more urgent\n" in out
    assert "  the rules give: soon, " in out
    summary = f"{mutant}: 1 of {len(GUARANTEES.guarantees)} guarantees in {GUARANTEES_FILE} are broken"
    assert re.search(rf"\n{re.escape(summary)} \(\d+\.\d s\)\.\n$", out)
    worked = "\n".join(line[4:] for line in out.splitlines() if line.startswith("    "))
    cases = tmp_path / "found.yaml"
    cases.write_text(worked, encoding="utf-8")
    (case,) = vignettes.load(cases)
    assert case.level == "urgent"
    assert "fever" in case.answers["red_flags"]
    assert vignettes.mismatch(loader.load(mutant), case)
    assert vignettes.mismatch(RULES, case) is None


def test_reports_rules_that_do_nothing(tmp_path: Path) -> None:
    idle = tmp_path / "rules.yaml"
    text = RULES_TEXT.replace(
        "        - at_most: [migraine_features, 1]\n", "        - at_most: [migraine_features, 4]\n"
    )
    text = text.replace(
        "        - level_is: [routine]\n        - pattern_is: [other_pattern, unclear]\n",
        "        - level_is: [routine]\n        - level_is: [urgent]\n        - pattern_is: [other_pattern, unclear]\n",
    )
    idle.write_text(text, encoding="utf-8")
    mutant = loader.load(idle)
    report = verify.verify(mutant, GUARANTEES)
    line_of = {rule.id: rule.line for rule in mutant.rules}
    assert f"{idle}:{line_of['where-primary-care']}: rule 'where-primary-care': can never fire" in report.warnings
    always = [warning for warning in report.warnings if warning.endswith("is always true")]
    assert always == [f"{idle}:{text.splitlines().index('        - at_most: [migraine_features, 4]') + 1}: "
                      "rule 'pattern-neck-likely': 'at_most' is always true"]  # fmt: skip


def test_reports_an_always_shadowed_pattern_rule(tmp_path: Path) -> None:
    shadowed = tmp_path / "rules.yaml"
    unsure = ", ".join(
        f"{{equals: [{answer_id}, unsure]}}" for answer_id in ("neck_origin", "headache_side", "movement_trigger")
    )
    rule = (
        "  - id: pattern-shadowed\n"
        f"    when: {{all: [{unsure}]}}\n"  # three unsure: 'unclear', declared first, always wins
        "    pattern: other_pattern\n"
        "    reason: Never shown.\n\n"
    )
    shadowed.write_text(
        RULES_TEXT.replace("  - id: pattern-unclear\n", rule + "  - id: pattern-unclear\n"), encoding="utf-8"
    )
    report = verify.verify(loader.load(shadowed), GUARANTEES)
    shadow = [warning for warning in report.warnings if "'pattern-shadowed'" in warning]
    where = f"{shadowed}:{_line_of(shadowed, 'pattern-shadowed')}: rule 'pattern-shadowed'"
    assert shadow == [f"{where}: always shadowed by an earlier pattern, so it never sets the pattern"]


def _line_of(path: Path, rule_id: str) -> int:
    return next(rule.line for rule in loader.load(path).rules if rule.id == rule_id)


def test_cli_exit_2_for_an_unusable_file(tmp_path: Path) -> None:
    code, _, err = run(str(RULES_FILE), "--guarantees", str(HERE / "invalid" / "unknown_value.yaml"))
    assert code == 2
    assert f"{HERE / 'invalid' / 'unknown_value.yaml'}:12: guarantee 'g2': 'feverr' is not an answer" in err
    code, _, err = run(str(ROOT / "tests" / "rules" / "invalid" / "unknown_answer.yaml"))
    assert code == 2
    assert "unknown_answer.yaml:16: rule 'r2':" in err


# --- guarantee files that cannot be used -------------------------------------


def test_guarantee_fixture_folder_is_complete() -> None:
    assert sorted(EXPECTED) == [path.name for path in INVALID], "each invalid file needs its expected errors"
    for name, errors in EXPECTED.items():
        assert errors, name
        for error in errors:
            assert set(error) == {"problem", "line", "guarantee"}, name
            assert error["problem"] in Problem.__members__, name


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.name)
def test_invalid_guarantee_file_reports_exactly_its_errors(path: Path) -> None:
    with pytest.raises(RuleFileError) as caught:
        verify.check_fit(RULES, verify.load_guarantees(path))
    found = [
        {"problem": error.problem.name, "line": error.line, "guarantee": error.rule_id} for error in caught.value.errors
    ]
    assert found == EXPECTED[path.name]
    for error in caught.value.errors:
        message = str(error)
        assert message.startswith(f"{path}:{error.line}: ")
        assert message.endswith(".")
        if error.rule_id:
            assert f"guarantee '{error.rule_id}'" in message
