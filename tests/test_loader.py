"""The rule loader: valid files load, and each broken file gets exactly its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from symptomcheck.rules import loader
from symptomcheck.rules.problems import Problem, RuleFileError
from tests.helpers import RULES_FILE

HERE = Path(__file__).resolve().parent / "rules"
VALID = sorted((HERE / "valid").glob("*.yaml"))
INVALID = sorted(path for path in (HERE / "invalid").glob("*.yaml") if path.name != "expected.yaml")
EXPECTED = yaml.safe_load((HERE / "invalid" / "expected.yaml").read_text(encoding="utf-8"))


def test_fixture_folders_are_complete() -> None:
    assert VALID
    assert sorted(EXPECTED) == [path.name for path in INVALID], "each invalid file needs its expected errors"
    for name, errors in EXPECTED.items():
        assert errors, name
        for error in errors:
            assert set(error) == {"problem", "line", "rule"}, name
            assert error["problem"] in Problem.__members__, name


def test_every_problem_has_a_broken_file() -> None:
    guarantee_files = yaml.safe_load(
        (HERE.parent / "guarantees" / "invalid" / "expected.yaml").read_text(encoding="utf-8")
    )
    covered = {error["problem"] for errors in [*EXPECTED.values(), *guarantee_files.values()] for error in errors}
    assert covered | {"NOT_FOUND"} == set(Problem.__members__)


@pytest.mark.parametrize("path", [RULES_FILE, *VALID], ids=lambda path: path.name)
def test_valid_file_loads(path: Path) -> None:
    loaded = loader.load(path)
    assert loaded.rules
    assert loaded.default_level in loaded.levels


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.name)
def test_invalid_file_reports_exactly_its_errors(path: Path) -> None:
    with pytest.raises(RuleFileError) as caught:
        loader.load(path)
    found = [
        {"problem": error.problem.name, "line": error.line, "rule": error.rule_id} for error in caught.value.errors
    ]
    assert found == EXPECTED[path.name]
    for error in caught.value.errors:
        message = str(error)
        assert message.startswith(f"{path}:{error.line}: ")
        assert message.endswith(".")
        assert "\n" not in message
        if error.rule_id:
            assert f"rule '{error.rule_id}'" in message


def test_missing_file_is_reported() -> None:
    with pytest.raises(RuleFileError) as caught:
        loader.load(HERE / "no-such-file.yaml")
    assert [error.problem for error in caught.value.errors] == [Problem.NOT_FOUND]
    assert "no-such-file.yaml" in str(caught.value)


def test_all_errors_are_collected_not_just_the_first() -> None:
    text = (HERE / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    text += (
        "  - id: a\n    when: {equals: [nope, 'yes']}\n    level: routine\n    reason: A.\n"
        "  - id: b\n    when: {equals: [neck_origin, maybe]}\n    level: urgent\n    reason: B.\n"
    )
    with pytest.raises(RuleFileError) as caught:
        loader.parse(text, "inline.yaml")
    assert [error.problem for error in caught.value.errors] == [
        Problem.UNKNOWN_ANSWER,
        Problem.UNKNOWN_VALUE,
        Problem.UNDECLARED_LEVEL,
    ]


def test_levels_and_patterns_keep_their_declared_order() -> None:
    loaded = loader.load(RULES_FILE)
    assert [level.id for level in loaded.levels] == ["emergency", "urgent", "soon", "routine", "self_care"]
    assert [level.rank for level in loaded.levels] == [0, 1, 2, 3, 4]
    assert [pattern.id for pattern in loaded.patterns] == ["unclear", "cgh_likely", "cgh_possible", "other_pattern"]


def test_a_broken_rule_file_stops_the_app(tmp_path: Path) -> None:
    from symptomcheck import create_app

    broken = tmp_path / "rules.yaml"
    broken.write_text((HERE / "invalid" / "unknown_answer.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SystemExit) as caught:
        create_app({"SECRET_KEY": "x", "RULES_FILE": str(broken)})
    message = str(caught.value)
    assert "cannot start" in message
    assert f"{broken}:16: rule 'r2': 'neck_orign' is not a question in the questionnaire." in message


@pytest.mark.parametrize(("covered", "uncovered"), [("under_18", "18_49"), ("50_plus", "under_18")])
def test_a_red_flag_covered_at_one_age_band_only_is_reported_for_another(covered: str, uncovered: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        loader.load(HERE / "invalid" / f"red_flag_only_at_{covered}.yaml")
    (problem,) = caught.value.errors
    assert problem.problem is Problem.RED_FLAG_WITHOUT_RULE
    assert f"the red flag 'myelopathy' on its own (age band {uncovered})" in str(problem)
