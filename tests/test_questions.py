"""The questions in code match the contract in shared/clinical/questionnaire.md."""

from __future__ import annotations

import re

import pytest

from symptomcheck.rules.questions import (
    BY_ID,
    NOTHING_TRIED_BUT_HELPED,
    QUESTIONS,
    TRIED_BUT_NOT_TRIED,
    Kind,
    check_answers,
    missing_answers,
)
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
    assert len(contract()["red_flags"][1]) == 16


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


@pytest.mark.parametrize(
    ("tried", "result", "message"),
    [
        (["physical_therapy"], "not_tried", TRIED_BUT_NOT_TRIED),
        ([], "partial_relief", NOTHING_TRIED_BUT_HELPED),
        ([], "good_relief", NOTHING_TRIED_BUT_HELPED),
    ],
)
def test_treatments_and_their_result_must_agree(tried: list[str], result: str, message: str) -> None:
    errors = check_answers({"treatments_tried": tried, "treatment_result": result})
    assert errors == {"treatments_tried": message, "treatment_result": message}
    assert "What have you tried" in message and "How much did it help" in message


@pytest.mark.parametrize(("tried", "result"), [([], "not_tried"), (["injections"], "no_relief")])
def test_treatments_that_agree_pass(tried: list[str], result: str) -> None:
    assert check_answers({"treatments_tried": tried, "treatment_result": result}) == {}


def test_a_malformed_treatment_answer_is_reported_alone() -> None:
    errors = check_answers({"treatments_tried": "rest", "treatment_result": "not_tried"})
    assert list(errors) == ["treatments_tried"]
    assert "Must be a list" in errors["treatments_tried"]


def test_the_weakness_sign_does_not_narrow_to_sudden_signs() -> None:
    flags = {choice.value: choice for choice in BY_ID["red_flags"].choices}
    words = f"{flags['neuro_deficit'].label} {flags['neuro_deficit'].hint}".lower()
    assert "came on fast" not in words and "slowly" in words
    hands = f"{flags['myelopathy'].label} {flags['myelopathy'].hint}".lower()
    assert "suddenly" not in hands and "bladder" not in hands
    assert "bladder" in flags["bladder_bowel"].label.lower()


def test_every_question_is_on_exactly_one_page_in_the_questionnaires_order() -> None:
    from symptomcheck.patient.forms import PAGES

    asked = [answer_id for page in PAGES for answer_id in page.answer_ids]
    assert asked == [question.id for question in QUESTIONS]  # none missing, none twice, none out of order
    assert len({page.slug for page in PAGES}) == len(PAGES)


def test_every_number_has_a_unit_to_show() -> None:
    from symptomcheck.web.display import UNITS

    assert set(UNITS) == {question.id for question in QUESTIONS if question.kind is Kind.INTEGER}
