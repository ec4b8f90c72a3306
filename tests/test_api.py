"""The JSON API: the same validation and engine as the pages, answered in JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examples import COMPLETE
from tests.helpers import PUBLISHED_RULES, RULES_VERSION

URL = "/api/v1/assessments"


def test_assessment_returns_the_whole_suggestion(client: FlaskClient) -> None:
    response = client.post(URL, json={"answers": COMPLETE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["level"] == "routine"
    assert body["level_is_default"] is False
    assert body["instruction"] == "Book a regular visit."
    assert body["pattern"] == "cgh_likely"
    assert body["pattern_text"].startswith("Your answers share many features")
    assert {
        "rule": "routine-lasted-a-month",
        "text": "Your headaches have gone on for a month or more.",
        "answers": ["duration"],
    } in body["reasons"]
    assert "not a diagnosis" in body["disclaimer"]
    assert "call 911" in body["disclaimer"]
    assert body["rules_version"] == RULES_VERSION
    assert body["rules_reviewed_on"] == PUBLISHED_RULES.reviewed_on.isoformat()


def test_emergency_needs_only_the_first_two_answers(client: FlaskClient) -> None:
    response = client.post(URL, json={"answers": {"age_band": "18_49", "red_flags": ["thunderclap"]}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["level"] == "emergency"
    assert body["instruction"] == "Call 911 or go to the nearest emergency room now."
    assert body["pattern"] is None


def test_the_emergency_number_comes_from_configuration(make_app: Callable[..., Flask]) -> None:
    app = make_app(EMERGENCY_NUMBER="112")
    body = app.test_client().post(URL, json={"answers": {"age_band": "18_49", "red_flags": ["vision_loss"]}}).get_json()
    assert body["instruction"] == "Call 112 or go to the nearest emergency room now."
    assert "call 112 now" in body["disclaimer"]


def test_missing_answers_are_listed_one_by_one(client: FlaskClient) -> None:
    response = client.post(URL, json={"answers": {"age_band": "18_49", "red_flags": []}})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == set(COMPLETE) - {"age_band", "red_flags"}
    assert errors["pain_intensity"] == "Answer this question."


@pytest.mark.parametrize(
    ("change", "answer_id", "fragment"),
    [
        ({"pain_intensity": "7"}, "pain_intensity", "whole number"),
        ({"pain_intensity": 12}, "pain_intensity", "from 0 to 10"),
        ({"red_flags": "none"}, "red_flags", "list of strings"),
        ({"duration": "ages"}, "duration", "'ages' is not an answer"),
        ({"neck_hurts": "yes"}, "neck_hurts", "no question"),
        ({"age_band": None}, "age_band", "Must be a string"),
    ],
)
def test_each_bad_answer_gets_its_own_error(
    client: FlaskClient, change: dict[str, Any], answer_id: str, fragment: str
) -> None:
    response = client.post(URL, json={"answers": {**COMPLETE, **change}})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [answer_id]
    assert fragment in errors[answer_id]


def test_body_that_is_not_json_gets_415(client: FlaskClient) -> None:
    response = client.post(URL, data="age_band=18_49", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["message"] == "Send the body as application/json."


def test_broken_json_gets_400(client: FlaskClient) -> None:
    response = client.post(URL, data='{"answers": {', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"] == "The body is not valid JSON."


@pytest.mark.parametrize("body", [[], "answers", {"answers": []}, {"answers": COMPLETE, "extra": 1}, {}])
def test_body_of_the_wrong_shape_gets_422(client: FlaskClient, body: Any) -> None:
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert "answers" in response.get_json()["errors"]


def test_wrong_method_is_answered_in_json(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method Not Allowed"


def test_nothing_is_kept_between_calls(client: FlaskClient) -> None:
    client.post(URL, json={"answers": COMPLETE})
    response = client.post(URL, json={"answers": {"age_band": "18_49"}})
    errors = response.get_json()["errors"]
    assert errors["red_flags"] == "Answer this question."
    assert "age_band" not in errors
    assert "Set-Cookie" not in response.headers


def test_an_emergency_is_answered_even_with_other_bad_answers(client: FlaskClient) -> None:
    answers = {"age_band": "18_49", "red_flags": ["thunderclap"], "pain_intensity": True}
    response = client.post(URL, json={"answers": answers})
    assert response.status_code == 422
    body = response.get_json()
    assert list(body["errors"]) == ["pain_intensity"]
    assert body["assessment"]["level"] == "emergency"
    assert body["assessment"]["instruction"] == "Call 911 or go to the nearest emergency room now."


def test_deeply_nested_json_is_a_400_not_a_crash(client: FlaskClient) -> None:
    response = client.post(URL, data="[" * 100_000, content_type="application/json")
    assert response.status_code in {400, 413}
    assert response.is_json


@pytest.mark.parametrize("depth", [2_000, 30_000])
def test_deep_nesting_under_the_size_limit_is_a_400_from_the_nesting_guard(client: FlaskClient, depth: int) -> None:
    body = '{"answers": ' + "[" * depth + "]" * depth + "}"
    assert len(body.encode()) < 64 * 1024  # under MAX_CONTENT_LENGTH: it is parsed, not refused for its size
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad Request", "message": "The body is not valid JSON."}


def test_contradicting_treatments_get_an_error_under_both_ids(client: FlaskClient) -> None:
    answers = {**COMPLETE, "treatments_tried": [], "treatment_result": "good_relief"}
    response = client.post(URL, json={"answers": answers})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"treatments_tried", "treatment_result"}
    assert "What have you tried" in errors["treatment_result"]


def test_an_emergency_without_an_age_is_still_answered(client: FlaskClient) -> None:
    response = client.post(URL, json={"answers": {"red_flags": ["bladder_bowel"]}})
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {"age_band": "Answer this question."}
    assert body["assessment"]["level"] == "emergency"


def test_the_injury_and_vomiting_pair_needs_only_the_first_two_answers(client: FlaskClient) -> None:
    answers = {"age_band": "50_plus", "red_flags": ["recent_injury", "wakes_with_vomiting"]}
    response = client.post(URL, json={"answers": answers})
    assert response.status_code == 200
    assert response.get_json()["level"] == "emergency"
