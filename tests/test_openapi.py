"""The OpenAPI document, and schemathesis against it: no 5xx, every response as documented."""

from __future__ import annotations

import schemathesis
from flask import Flask

from symptomcheck import create_app
from symptomcheck.rules.questions import BY_ID
from tests.helpers import RULES_FILE


def api_app() -> Flask:
    # Rate limits off: schemathesis sends hundreds of requests from one address.
    return create_app({"SECRET_KEY": "x", "RULES_FILE": str(RULES_FILE), "RATELIMIT_ENABLED": False,
                       "DATABASE_URL": "sqlite://"})  # fmt: skip


APP = api_app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


def test_the_document_lists_every_answer() -> None:
    body = APP.test_client().get("/api/v1/openapi.json").get_json()
    answers = body["paths"]["/api/v1/assessments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    properties = answers["properties"]["answers"]["properties"]
    assert sorted(properties) == sorted(BY_ID)
    assert properties["red_flags"]["items"]["enum"] == list(BY_ID["red_flags"].values)
    assert properties["pain_intensity"] == {"type": "integer", "minimum": 0, "maximum": 10}


@schema.parametrize()
def test_the_api_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()
