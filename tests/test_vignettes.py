"""Every worked case, the clinic's and ours, through the engine, the API and the form pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examples import page_posts
from symptomcheck import create_app
from symptomcheck.patient.forms import PAGES
from symptomcheck.rules import vignettes
from symptomcheck.rules.loader import RuleSet
from tests.helpers import CLINICAL, text_of
from tests.test_journey import Patient

FILES = [CLINICAL / "vignettes.yaml", *sorted((Path(__file__).parent / "vignettes").glob("*.yaml"))]
CASES = [case for path in FILES for case in vignettes.load(path)]


def test_the_clinic_vignettes_are_all_here() -> None:
    shared = vignettes.load(CLINICAL / "vignettes.yaml")
    assert len(shared) >= 16
    assert len({case.id for case in CASES}) == len(CASES), "vignette ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_engine_matches_vignette(rules: RuleSet, case: vignettes.Vignette) -> None:
    assert vignettes.mismatch(rules, case) is None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_api_matches_vignette(client: FlaskClient, case: vignettes.Vignette) -> None:
    response = client.post("/api/v1/assessments", json={"answers": case.answers})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["level"] == case.level
    if case.pattern:
        assert body["pattern"] == case.pattern


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- id: x\n  story: s\n  answers: {}\n  expect: {levl: routine}\n", "'expect' needs 'level'"),
        ("- id: x\n  story: s\n  answers: {}\n  expect: {level: routine, patern: x}\n", "nothing else"),
        ("- id: x\n  answers: {}\n  expect: {level: routine}\n", "needs exactly the keys"),
        ("id: x\n", "must be a list"),
    ],
)
def test_a_misspelt_vignette_file_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(vignettes.VignetteFileError, match=fragment):
        vignettes.load(path)


def test_mismatch_names_the_rules_that_fired(rules: RuleSet) -> None:
    case = vignettes.Vignette("x", "s", {"age_band": "18_49", "red_flags": ["thunderclap"]}, "routine", None)
    assert vignettes.mismatch(rules, case) == (
        "expected level routine, got emergency (rules that fired: emergency-thunderclap)"
    )


@pytest.fixture(scope="module")
def form_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    # Rate limits off: one test client walks every case, far more posts than a person makes in a minute.
    url = f"sqlite:///{tmp_path_factory.mktemp('forms') / 'forms.db'}"
    return create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, "RATELIMIT_ENABLED": False})


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_form_matches_vignette(form_app: Flask, rules: RuleSet, case: vignettes.Vignette) -> None:
    """Answer the pages as a person would, as far as the case goes; the result page shows the expected level."""
    patient = Patient(form_app.test_client())
    for page in PAGES:
        if not all(answer_id in case.answers for answer_id in page.answer_ids):
            break  # a case that stops early (an emergency) gives only the first answers
        ((slug, fields),) = page_posts({key: case.answers[key] for key in page.answer_ids}, [page])
        response = patient.submit(f"/questions/{slug}", fields)
        assert response.status_code == 302, f"{slug} refused the case's answers"
        if response.location == "/result":
            break
    result = patient.read("/result")
    level = rules.level(case.level)
    assert result.h1 is not None
    assert result.h1.get_text(strip=True) == level.title.format(emergency_number="911", clinic_name="")
    pattern = next((item for item in rules.patterns if item.id == case.pattern), None)
    if pattern is not None and level.rank >= 2:  # the pattern is shown from "soon" down
        assert pattern.title in text_of(result)
