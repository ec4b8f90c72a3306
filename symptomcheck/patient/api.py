"""The JSON API: the same questions, validation and engine as the pages; nothing stored."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from werkzeug.wrappers import Response

from symptomcheck.patient import openapi
from symptomcheck.records import exports
from symptomcheck.rules.engine import Result, check_and_assess, stops_early
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID, json_numbers_as_integers
from symptomcheck.web import i18n, rulebook, security
from symptomcheck.web.display import current_rules, disclaimer, say
from symptomcheck.web.security import limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
fhir_bp = Blueprint("fhir", __name__, url_prefix="/fhir")


@bp.post("/assessments")
@limiter.limit(security.ASSESSMENTS, methods=["POST"])
def create_assessment() -> tuple[Response, int]:
    if not request.is_json:
        return jsonify(error="Unsupported Media Type", message="Send the body as application/json."), 415
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    if body is None:
        return jsonify(error="Bad Request", message="The body is not valid JSON."), 400
    if not isinstance(body, dict) or set(body) != {"answers"} or not isinstance(body["answers"], dict):
        return jsonify(errors={"answers": 'Send one JSON object: {"answers": {...}}.'}), 422
    answers = json_numbers_as_integers(body["answers"])
    result, errors = check_and_assess(current_rules(), answers)
    if result is None:
        return jsonify(errors=errors), 422
    # Only an emergency comes back despite missing or malformed answers, beside their errors.
    if errors:
        return jsonify(errors=errors, assessment=as_json(result)), 422
    return current_app.response_class(result_body(result), mimetype="application/json"), 200


RESULT_BODIES_KEPT = 1024  # the results people reach are far fewer: a few levels, patterns and sets of reasons


def result_body(result: Result) -> str:
    """Return a result's JSON text, made once per app, language and result (it holds nothing of the answers)."""
    bodies: dict[tuple[Any, ...], str] = current_app.extensions.setdefault("api_result_bodies", {})
    key = (id(current_rules()), i18n.language(), result.level.id, result.level_is_default, result.pattern and
           result.pattern.id, tuple(rule.id for rule in result.fired))  # fmt: skip
    body = bodies.get(key)
    if body is None:
        if len(bodies) >= RESULT_BODIES_KEPT:
            bodies.clear()
        body = bodies[key] = current_app.json.dumps(as_json(result)) + "\n"
    return body


def as_json(result: Result) -> dict[str, Any]:
    """Return a result in the API's shape."""
    loaded = current_rules()
    return {
        "level": result.level.id,
        "level_is_default": result.level_is_default,
        "instruction": say(result.level.title),
        "advice": say(result.level.advice),
        "pattern": result.pattern.id if result.pattern else None,
        "pattern_text": say(result.pattern.title) if result.pattern else None,
        "reasons": [
            {"rule": rule.id, "text": say(rule.reason), "answers": sorted(rule.condition.answer_ids)}
            for rule in result.fired
        ],
        "notes": [say(note) for note in result.notes],
        "disclaimer": disclaimer(),
        "rules_version": result.rules_version,
        "rules_reviewed_by": loaded.reviewed_by,
        "rules_reviewed_on": loaded.reviewed_on.isoformat(),
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi.document(current_rules().version, emergency_flags(current_rules())))


def emergency_flags(loaded: RuleSet) -> list[list[str]]:
    """Return the smallest sets of red flags (one or two) that on their own, at any age, mean the most urgent level."""
    flags = BY_ID["red_flags"].values

    def settles(chosen: list[str]) -> bool:
        return all(stops_early(loaded, {"age_band": age, "red_flags": chosen}) for age in BY_ID["age_band"].values)

    singles = [flag for flag in flags if settles([flag])]
    pairs = [
        [first, second]
        for number, first in enumerate(flags)
        for second in flags[number + 1 :]
        if first not in singles and second not in singles and settles([first, second])
    ]
    return [[flag] for flag in singles] + pairs


def rules_signed() -> bool:
    """Say whether the rule file in use is the one the clinician signed: its SHA-256 is on the signed release note."""
    signed = current_app.config["RULES_SIGNED_SHA256"].strip().lower()
    return bool(signed) and signed == rulebook.file_digest(current_app.config["RULES_FILE"])


@fhir_bp.get(f"/Questionnaire/{exports.QUESTIONNAIRE_ID}")
def questionnaire() -> Response:
    # The canonical address (PUBLIC_URL), never one built from the request's Host header.
    canonical = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("fhir.questionnaire")
    rules = current_rules()
    body = exports.questionnaire(canonical, rules.version, rules_signed())
    return Response(json.dumps(body, indent=2), mimetype="application/fhir+json")
