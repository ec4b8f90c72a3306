"""Exports of contact requests: CSV for a spreadsheet, HL7 FHIR R4 for a health record, over plain values."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from symptomcheck.rules.questions import QUESTIONS, Kind


@dataclass(frozen=True)
class Record:
    """What an export shows of one contact request."""

    reference: str
    received_at: datetime.datetime
    source: str
    status: str
    level: str
    pattern: str | None
    rules_version: str
    name: str
    phone: str | None
    email: str | None
    preferred_time: str
    answers: dict[str, Any]


CSV_COLUMNS = ["reference", "received_at", "source", "status", "level", "pattern", "rules_version", "name", "phone",
               "email", "preferred_time", *(question.id for question in QUESTIONS)]  # fmt: skip


def csv_cell(value: Any) -> str:
    """Return a CSV cell a spreadsheet will show as text, never run as a formula."""
    text = ";".join(value) if isinstance(value, list) else "" if value is None else str(value)
    if re.fullmatch(r"\+\d+", text):  # a phone number: a spreadsheet reads it as a number, which is safe
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def requests_csv(records: Iterable[Record]) -> str:
    """Return the requests as CSV, one row each, with every answer in a column of its own."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = [record.reference, record.received_at.isoformat(), record.source, record.status, record.level,
               record.pattern, record.rules_version, record.name, record.phone, record.email,
               record.preferred_time]  # fmt: skip
        answers = [record.answers.get(question.id) for question in QUESTIONS]
        writer.writerow([csv_cell(value) for value in row + answers])
    return out.getvalue()


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


def questionnaire_response(request: Record, questionnaire_url: str) -> dict[str, Any]:
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
