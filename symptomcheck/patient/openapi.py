"""The OpenAPI 3 document of the JSON API, built from the one definition of the questions."""

from __future__ import annotations

from typing import Any

from symptomcheck.rules.questions import QUESTIONS, SCREENING_IDS, Kind, Question

PROBLEM = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def _answer_schema(question: Question) -> dict[str, Any]:
    if question.kind is Kind.INTEGER:
        return {"type": "integer", "minimum": question.minimum, "maximum": question.maximum}
    choice = {"type": "string", "enum": list(question.values)}
    if question.kind is Kind.SINGLE:
        return {**choice, "description": question.label}
    return {"type": "array", "items": choice, "uniqueItems": True, "description": question.label}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": PROBLEM}}}


def document(version: str, emergency_flags: list[list[str]]) -> dict[str, Any]:
    """Return the OpenAPI document for POST /api/v1/assessments.

    `emergency_flags` are the sets of red flags that on their own mean an
    emergency: with all of one set ticked, the first two answers are enough.
    """
    ticked = [{"allOf": [{"contains": {"const": flag}} for flag in flags]} for flags in emergency_flags]
    answers = {
        "type": "object",
        "additionalProperties": False,
        "description": "Answer ids and values of questionnaire.md. Every answer is needed, except that when "
        f"{' and '.join(SCREENING_IDS)} already mean an emergency, those two are enough. "
        "treatment_result is 'not_tried' exactly when treatments_tried is empty; otherwise both get an error.",
        "properties": {question.id: _answer_schema(question) for question in QUESTIONS},
        "anyOf": [
            {"required": [question.id for question in QUESTIONS]},
            {"required": list(SCREENING_IDS), "properties": {"red_flags": {"anyOf": ticked}}},
        ],
    }
    text = {"type": "string"}
    assessment = {
        "type": "object",
        "required": [
            "level",
            "level_is_default",
            "instruction",
            "advice",
            "pattern",
            "reasons",
            "notes",
            "disclaimer",
            "rules_version",
            "rules_reviewed_by",
            "rules_reviewed_on",
        ],
        "properties": {
            "level": text,
            "level_is_default": {"type": "boolean"},
            "instruction": text,
            "advice": text,
            "pattern": {"type": ["string", "null"]},
            "pattern_text": {"type": ["string", "null"]},
            "reasons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["rule", "text", "answers"],
                    "properties": {"rule": text, "text": text, "answers": {"type": "array", "items": text}},
                },
            },
            "notes": {"type": "array", "items": text},
            "disclaimer": text,
            "rules_version": text,
            "rules_reviewed_by": text,
            "rules_reviewed_on": {"type": "string", "format": "date"},
        },
    }
    invalid = {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {"type": "object", "additionalProperties": text},
            "assessment": {
                **assessment,
                "description": "Given when the valid answers already mean an emergency: it is never held back.",
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "symptomcheck", "version": version, "description": "A self-check, not a diagnosis."},
        "paths": {
            "/api/v1/assessments": {
                "post": {
                    "summary": "Suggest how soon and where to seek care for a set of answers. Nothing is stored.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["answers"],
                                    "additionalProperties": False,
                                    "properties": {"answers": answers},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The suggestion",
                            "content": {"application/json": {"schema": assessment}},
                        },
                        "400": _problem("The body is not valid JSON."),
                        "413": _problem("The body is too large."),
                        "415": _problem("The body is not JSON."),
                        "422": {
                            "description": "Answers missing, unknown or malformed, one message per answer id.",
                            "content": {"application/json": {"schema": invalid}},
                        },
                        "429": _problem("Too many requests from this address."),
                    },
                }
            }
        },
    }
