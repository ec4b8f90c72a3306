"""The questions in code match the contract in shared/clinical/questionnaire.md."""

from __future__ import annotations

import re

import pytest

from symptomcheck.questions import BY_ID, QUESTIONS, Kind, check_answers, missing_answers
from tests.helpers import CLINICAL


def contract() -> dict[str, tuple[str, tuple[str, ...], tuple[int, int] | None]]:
    """Read each answer id's type, values and range from questionnaire.md's tables."""
    questions: dict[str, tuple[str, tuple[str, ...], tuple[int, int] | None]] = {}
    red_flag_values: list[str] = []
    header = ""
    for line in (CLINICAL / "questionnaire.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = ""
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not header:
            header = cells[0]
            continue
        if set(cells[0]) <= {"-"}:
            continue
        if header == "id":
            answer_id, kind, values = cells[0].strip("`"), cells[1], cells[2]
            numbers = re.fullmatch(r"integer (\d+) to (\d+)", kind)
            bounds = (int(numbers[1]), int(numbers[2])) if numbers else None
            questions[answer_id] = (kind.split()[0].rstrip(","), tuple(re.findall(r"`([^`]+)`", values)), bounds)
        elif header == "value":
            red_flag_values.append(cells[0].strip("`"))
    kind, _, bounds = questions["red_flags"]
    questions["red_flags"] = (kind, tuple(red_flag_values), bounds)
    return questions


def test_contract_is_read() -> None:
    assert len(contract()) == len(QUESTIONS) == 18
    assert len(contract()["red_flags"][1]) == 15


@pytest.mark.parametrize("answer_id", list(contract()))
def test_question_matches_contract(answer_id: str) -> None:
    kind, values, bounds = contract()[answer_id]
    question = BY_ID[answer_id]
    assert question.kind.value == kind
    if question.kind is Kind.INTEGER:
        assert (question.minimum, question.maximum) == bounds
    else:
        assert question.values == values


def test_questions_are_in_contract_order() -> None:
    assert [question.id for question in QUESTIONS] == list(contract())


def test_every_choice_has_words() -> None:
    for question in QUESTIONS:
        assert question.label and question.error
        assert all(choice.label for choice in question.choices)


@pytest.mark.parametrize(
    ("raw", "answer_id", "fragment"),
    [
        ({"age_band": 18}, "age_band", "Must be a string"),
        ({"age_band": "old"}, "age_band", "'old' is not an answer"),
        ({"red_flags": "thunderclap"}, "red_flags", "Must be a list"),
        ({"red_flags": ["thunderclap", 3]}, "red_flags", "Must be a list of strings"),
        ({"red_flags": ["headache"]}, "red_flags", "'headache' not an answer"),
        ({"red_flags": ["fever", "fever"]}, "red_flags", "twice"),
        ({"headache_days": "4"}, "headache_days", "whole number"),
        ({"headache_days": True}, "headache_days", "whole number"),
        ({"headache_days": 4.0}, "headache_days", "whole number"),
        ({"pain_intensity": 11}, "pain_intensity", "from 0 to 10"),
        ({"pain_intensity": -1}, "pain_intensity", "from 0 to 10"),
        ({"neck_pain": "yes"}, "neck_pain", "no question"),
    ],
)
def test_check_answers_names_the_problem(raw: dict[str, object], answer_id: str, fragment: str) -> None:
    errors = check_answers(raw)
    assert list(errors) == [answer_id]
    assert fragment in errors[answer_id]


def test_check_answers_accepts_every_listed_value() -> None:
    for question in QUESTIONS:
        if question.kind is Kind.SINGLE:
            assert all(not check_answers({question.id: value}) for value in question.values)
        elif question.kind is Kind.MULTI:
            assert not check_answers({question.id: list(question.values)})
            assert not check_answers({question.id: []})
        else:
            assert not check_answers({question.id: question.minimum})
            assert not check_answers({question.id: question.maximum})


def test_missing_answers_keeps_question_order() -> None:
    assert missing_answers({"red_flags": []})[:3] == ["age_band", "neck_origin", "headache_side"]
    assert missing_answers({"red_flags": []}, ("age_band", "red_flags")) == ["age_band"]
