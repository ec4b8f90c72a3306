"""Exports of contact requests: CSV for a spreadsheet, HL7 FHIR R4 for a health record, over plain values."""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import phonenumbers
from babel.support import Translations

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
    "merged_into", "taken_by",
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
            record.merged_into, record.taken_by,
        ]  # fmt: skip
        for question in QUESTIONS:
            value = record.answers.get(question.id)
            row += [value, answer_words(question, value)]
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


QUESTIONNAIRE_ID = "cervicogenic-headache-self-check"
ANSWER_SYSTEM = f"urn:symptomcheck:{QUESTIONNAIRE_ID}"
LEVEL_SYSTEM = "urn:symptomcheck:level"
PATTERN_SYSTEM = "urn:symptomcheck:pattern"
RULES_SYSTEM = "urn:symptomcheck:rules"
OUTCOME_SYSTEM = "urn:symptomcheck:outcome"
VERDICT_SYSTEM = "urn:symptomcheck:verdict"
EXTENSION = "http://hl7.org/fhir/StructureDefinition"
SUGGESTION_EXTENSION = f"{ANSWER_SYSTEM}:suggestion"  # on the response: its contained RiskAssessment
OUTCOME_EXTENSION = f"{ANSWER_SYSTEM}:closing-outcome"
# "None of these" on the warning signs: the code an empty list of signs is sent as.
NONE_OF_THESE = "none"
# Always required by the contract; the rest is required unless these two already lead to `emergency`, which
# the Questionnaire cannot say (the rules decide it), so the rest is not marked required.
ALWAYS_REQUIRED = ("age_band", "red_flags")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@cache
def spanish() -> NullTranslations:
    """Return the Spanish catalog the patient pages use."""
    return Translations.load(str(TRANSLATIONS), ["es"])


def _translated(text: str) -> dict[str, Any]:
    """Return a text's Spanish as a FHIR translation extension, for the `_text` or `_display` beside it."""
    return {
        "extension": [
            {
                "url": f"{EXTENSION}/translation",
                "extension": [
                    {"url": "lang", "valueCode": "es"},
                    {"url": "content", "valueString": spanish().gettext(text)},
                ],
            }
        ]
    }


def _coding(question: Question, code: str) -> dict[str, Any]:
    label = "None of these" if code == NONE_OF_THESE else question.choice_label(code)
    return {"system": ANSWER_SYSTEM, "code": code, "display": label}


def questionnaire(url: str, version: str, signed: bool = False) -> dict[str, Any]:
    """Return the Questionnaire resource: one item per answer id, linkId = the id; draft until the rules are signed."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": url,
        "version": version,
        "name": "CervicogenicHeadacheSelfCheck",
        "title": "Headache self-check",
        "_title": _translated("Headache self-check"),
        "status": "active" if signed else "draft",
        "subjectType": ["Patient"],
        "description": "age_band and red_flags are always required. Every other question is required too, unless "
        "those two already lead to the emergency level (the form stops there); a multi-choice question other than "
        "red_flags may be left empty.",
        "item": [_item(question) for question in QUESTIONS],
    }


def _item(question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": question.id,
        "text": question.label,
        "_text": _translated(question.label),
        "required": question.id in ALWAYS_REQUIRED,
    }
    if question.kind is Kind.INTEGER:
        item["type"] = "integer"
        item["extension"] = [
            {"url": f"{EXTENSION}/minValue", "valueInteger": question.minimum},
            {"url": f"{EXTENSION}/maxValue", "valueInteger": question.maximum},
        ]
        return item
    item["type"] = "choice"
    if question.kind is Kind.MULTI:
        item["repeats"] = True
    codes = [*question.values, *([NONE_OF_THESE] if question.explicit_none else [])]
    item["answerOption"] = []
    for code in codes:
        coding = _coding(question, code)
        option: dict[str, Any] = {"valueCoding": {**coding, "_display": _translated(coding["display"])}}
        if code == NONE_OF_THESE:  # ticking it clears the others
            option["extension"] = [{"url": f"{EXTENSION}/questionnaire-optionExclusive", "valueBoolean": True}]
        item["answerOption"].append(option)
    return item


def questionnaire_response(request: Record, questionnaire_url: str) -> dict[str, Any]:
    """Return a stored request as a completed QuestionnaireResponse, with its suggestion, closing and verdict.

    The person is a contained Patient (the subject and the source); the author is the person online, or the staff
    member who took a phone intake. The suggestion is a contained RiskAssessment, as is a clinician's verdict.
    """
    authored = as_utc(request.received_at).isoformat()
    contained: list[dict[str, Any]] = [_patient(request), _suggestion(request, authored)]
    author = {"reference": "#patient"}
    if request.source == "phone":
        contained.append(_practitioner("taker", request.taken_by or "front desk"))
        author = {"reference": "#taker"}
    if request.verdict:
        contained.append(_practitioner("clinician", request.verdict_by or "clinician"))
        contained.append(_verdict(request))
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": request.reference.replace("-", ""),
        "contained": contained,
        "extension": [{"url": SUGGESTION_EXTENSION, "valueReference": {"reference": "#suggestion"}}],
        "identifier": {"system": f"{ANSWER_SYSTEM}:reference", "value": request.reference},
        "questionnaire": questionnaire_url,
        "status": "completed",
        "subject": {"reference": "#patient", "display": request.name},
        "authored": authored,
        "author": author,
        "source": {"reference": "#patient"},
        "item": [
            _answered(question, request.answers[question.id])
            for question in QUESTIONS
            if question.id in request.answers
        ],
    }
    if request.verdict:
        response["extension"].append({"url": f"{ANSWER_SYSTEM}:verdict", "valueReference": {"reference": "#verdict"}})
    if request.outcome:
        response["extension"].append(
            {
                "url": OUTCOME_EXTENSION,
                "extension": [
                    {"url": "outcome", "valueCoding": {"system": OUTCOME_SYSTEM, "code": request.outcome,
                                                       "display": OUTCOMES.get(request.outcome, request.outcome)}},
                    *([{"url": "note", "valueString": request.outcome_note}] if request.outcome_note else []),
                ],
            }
        )  # fmt: skip
    return response


def _patient(request: Record) -> dict[str, Any]:
    telecom = [{"system": "phone", "value": request.phone}] if request.phone else []
    telecom += [{"system": "email", "value": request.email}] if request.email else []
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "patient", "name": [{"text": request.name}]}
    if telecom:
        patient["telecom"] = telecom
    if request.language:
        patient["communication"] = [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": request.language}]}, "preferred": True}
        ]
    return patient


def _practitioner(id: str, username: str) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": id, "name": [{"text": username}]}


def _level(level: str) -> dict[str, Any]:
    return {"coding": [{"system": LEVEL_SYSTEM, "code": level, "display": LEVEL_WORDS.get(level, level)}]}


def _suggestion(request: Record, authored: str) -> dict[str, Any]:
    """Return the suggestion as a RiskAssessment: the level, the pattern, each reason, and the rule version."""
    prediction: dict[str, Any] = {"qualitativeRisk": _level(request.level)}
    if request.pattern:
        prediction["outcome"] = {
            "coding": [{"system": PATTERN_SYSTEM, "code": request.pattern,
                        "display": PATTERN_WORDS.get(request.pattern, request.pattern)}]
        }  # fmt: skip
    if request.reasons:
        prediction["rationale"] = " ".join(reason["text"] for reason in request.reasons)
    assessment: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": "suggestion",
        "status": "final",
        "method": {
            "coding": [{"system": RULES_SYSTEM, "code": QUESTIONNAIRE_ID, "version": request.rules_version}],
            "text": f"symptomcheck rules, version {request.rules_version}",
        },
        "subject": {"reference": "#patient"},
        "occurrenceDateTime": authored,
        "basis": [{"reference": "#"}],  # the response that contains it: the answers it was worked out from
        "prediction": [prediction],
    }
    if request.reasons:
        assessment["note"] = [{"text": f"{reason['text']} (rule {reason['rule']})"} for reason in request.reasons]
    return assessment


def _verdict(request: Record) -> dict[str, Any]:
    """Return a clinician's verdict on the suggestion as a RiskAssessment of its own, on the level they judge right."""
    verdict = request.verdict or ""
    assessment: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": "verdict",
        "status": "final",
        "parent": {"reference": "#suggestion"},
        "code": {"coding": [{"system": VERDICT_SYSTEM, "code": verdict, "display": VERDICTS.get(verdict, verdict)}]},
        "subject": {"reference": "#patient"},
        "performer": {"reference": "#clinician"},
        "basis": [{"reference": "#"}],
        "prediction": [{"qualitativeRisk": _level(request.verdict_level or request.level)}],
    }
    if request.verdict_at:
        assessment["occurrenceDateTime"] = as_utc(request.verdict_at).isoformat()
    if request.verdict_note:
        assessment["note"] = [{"text": request.verdict_note}]
    return assessment


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """Return a stored time with its zone: SQLite gives times back without one, always UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _answered(question: Question, value: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.label}
    if question.kind is Kind.INTEGER:
        item["answer"] = [{"valueInteger": value}]
        return item
    values = value if question.kind is Kind.MULTI else [value]
    if not values and question.explicit_none:
        values = [NONE_OF_THESE]  # ticked explicitly: the warning signs cannot be skipped
    if values:  # another empty multi-choice answer has no answer entries
        item["answer"] = [{"valueCoding": _coding(question, code)} for code in values]
    return item
