"""Every worked case, the clinic's and ours, through the engine and through the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from symptomcheck.rules import vignettes
from symptomcheck.rules.loader import RuleSet
from tests.helpers import CLINICAL

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
