"""Exports of contact requests: CSV for a spreadsheet, HL7 FHIR R4 for a health record, over plain values."""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from symptomcheck.records.desk import LEVEL_WORDS, PATTERN_WORDS
from symptomcheck.records.models import OUTCOMES, SOURCES, STATUSES, VERDICTS
from symptomcheck.rules.questions import QUESTIONS, Kind, Question


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
    reasons: tuple[dict[str, str], ...] = ()
    language: str | None = None
    status_changed_at: datetime.datetime | None = None
    outcome: str | None = None
    outcome_note: str | None = None
    verdict: str | None = None
    verdict_level: str | None = None
    verdict_note: str | None = None
    verdict_by: str | None = None
    verdict_at: datetime.datetime | None = None
    merged_into: str | None = None
    taken_by: str | None = None  # the staff member who took a phone intake, when known


# Each code column is followed by its words; then every answer, as its code(s) and in words.
CSV_COLUMNS = [
    "reference", "received_at", "source", "source_words", "status", "status_words", "status_changed_at",
    "level", "level_words", "pattern", "pattern_words", "rules_version", "reasons",
    "name", "phone", "email", "preferred_time", "preferred_time_words", "language",
    "outcome", "outcome_words", "outcome_note",
    "verdict", "verdict_words", "verdict_level", "verdict_level_words", "verdict_note", "verdict_by", "verdict_at",
    "merged_into",
    *(column for question in QUESTIONS for column in (question.id, f"{question.id}_words")),
]  # fmt: skip
UNITS = {"headache_days": "{} days a month", "pain_intensity": "{} out of 10", "pain_relief_days": "{} days a month"}
CONTACT_TIME_WORDS = {"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening", "any": "Any time"}

# What a spreadsheet may run as a formula when a cell starts with it, once spaces and invisible characters go.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet skips or shows as nothing before the first one it reads.
INVISIBLE = re.compile(r"^[\s\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]*")
# A phone number as the desk stores it (E.164) or writes it: a plus, then digits, spaces, dashes, dots, brackets.
PHONE_LIKE = re.compile(r"\+\d[\d ().-]{6,24}")


def is_phone_number(text: str) -> bool:
    """Say whether a cell is a real phone number and nothing more, so it may keep its leading plus."""
    if not PHONE_LIKE.fullmatch(text):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(text))
    except phonenumbers.NumberParseException:
        return False


def starts_a_formula(text: str) -> bool:
    """Say whether a spreadsheet could read the cell as a formula, past leading spaces and invisible characters."""
    rest = text[INVISIBLE.match(text).end() :]  # type: ignore[union-attr]  # the pattern matches the empty text
    if text[:1] in ("\t", "\r"):
        return True
    return unicodedata.normalize("NFKC", rest[:1]) in FORMULA_STARTS if rest else False


# Some spreadsheets split a line at semicolons or tabs, not commas: each piece is checked as if it were a cell.
PIECES = re.compile(r"([;\t])")


def csv_cell(value: Any) -> str:
    """Return a CSV cell a spreadsheet will show as text, never run as a formula, however it splits the line."""
    text = ";".join(value) if isinstance(value, list) else "" if value is None else str(value)
    if is_phone_number(text):  # a plus and digits run nothing; the desk reads the number as it is
        return text
    pieces = PIECES.split(text)
    safe = [piece if number % 2 or not starts_a_formula(piece) else "'" + piece for number, piece in enumerate(pieces)]
    escaped = "".join(safe)
    return escaped if escaped.startswith("'") or not starts_a_formula(text) else "'" + escaped


def clinic_time(moment: datetime.datetime | None, zone: datetime.tzinfo) -> str:
    """Return a stored time as ISO 8601 in the clinic's zone, with its offset: 2026-12-01T09:30:00-05:00."""
    return as_utc(moment).astimezone(zone).isoformat(timespec="seconds") if moment else ""


def answer_words(question: Question, value: Any) -> str:
    """Return an answer in the words of the question's choices (English, as the desk reads them)."""
    if value is None:
        return ""
    if question.kind is Kind.INTEGER:
        return UNITS.get(question.id, "{}").format(value)
    if question.kind is Kind.SINGLE:
        return question.choice_label(value)
    return "; ".join(question.choice_label(code) for code in value) or (
        "None of these" if question.explicit_none else "None"
    )


def requests_csv(records: Iterable[Record], zone: datetime.tzinfo = datetime.UTC) -> str:
    """Return the requests as CSV, every cell quoted: codes with their words, times in the clinic's zone."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = [
            record.reference, clinic_time(record.received_at, zone),
            record.source, SOURCES.get(record.source, record.source),
            record.status, STATUSES.get(record.status, record.status), clinic_time(record.status_changed_at, zone),
            record.level, LEVEL_WORDS.get(record.level, record.level),
            record.pattern, PATTERN_WORDS.get(record.pattern, record.pattern) if record.pattern else "None",
            record.rules_version, "; ".join(reason["rule"] for reason in record.reasons),
            record.name, record.phone, record.email,
            record.preferred_time, CONTACT_TIME_WORDS.get(record.preferred_time, record.preferred_time),
            record.language,
            record.outcome, OUTCOMES.get(record.outcome, "") if record.outcome else "", record.outcome_note,
            record.verdict, VERDICTS.get(record.verdict, "") if record.verdict else "",
            record.verdict_level, LEVEL_WORDS.get(record.verdict_level, "") if record.verdict_level else "",
            record.verdict_note, record.verdict_by, clinic_time(record.verdict_at, zone),
            record.merged_into,
        ]  # fmt: skip
        for question in QUESTIONS:
            value = record.answers.get(question.id)
            row += [value, answer_words(question, value)]
        writer.writerow([csv_cell(value) for value in row])
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
