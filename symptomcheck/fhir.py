"""HL7 FHIR R4 resources: the questionnaire, and each stored request as a response to it."""

from __future__ import annotations

import datetime
from typing import Any

from symptomcheck.models import ContactRequest
from symptomcheck.questions import QUESTIONS, Kind

QUESTIONNAIRE_ID = "cervicogenic-headache-self-check"
ANSWER_SYSTEM = f"urn:symptomcheck:{QUESTIONNAIRE_ID}"


def questionnaire(url: str, version: str) -> dict[str, Any]:
    """Return the Questionnaire resource: one item per answer id, linkId = the id."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": url,
        "version": version,
        "name": "CervicogenicHeadacheSelfCheck",
        "title": "Headache and neck pain self-check",
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_item(question) for question in QUESTIONS],
    }


def _item(question: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.label, "required": True}
    if question.kind is Kind.INTEGER:
        item["type"] = "integer"
        return item
    item["type"] = "choice"
    item["repeats"] = question.kind is Kind.MULTI
    item["answerOption"] = [
        {"valueCoding": {"system": ANSWER_SYSTEM, "code": choice.value, "display": choice.label}}
        for choice in question.choices
    ]
    return item


def questionnaire_response(request: ContactRequest, questionnaire_url: str) -> dict[str, Any]:
    """Return a stored request's answers as a completed QuestionnaireResponse."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": request.reference.replace("-", ""),
        "identifier": {"system": f"{ANSWER_SYSTEM}:reference", "value": request.reference},
        "questionnaire": questionnaire_url,
        "status": "completed",
        "authored": as_utc(request.received_at).isoformat(),
        "item": [
            _answered(question, request.answers[question.id])
            for question in QUESTIONS
            if question.id in request.answers
        ],
    }


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """Return a stored time with its zone: SQLite gives times back without one, always UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _answered(question: Any, value: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.label}
    if question.kind is Kind.INTEGER:
        item["answer"] = [{"valueInteger": value}]
        return item
    values = value if question.kind is Kind.MULTI else [value]
    if values:  # an empty multi-choice answer ("none of these") has no answer entries
        item["answer"] = [
            {"valueCoding": {"system": ANSWER_SYSTEM, "code": code, "display": question.choice_label(code)}}
            for code in values
        ]
    return item
