"""Plain words, measured: every patient-facing text at US reading grade 7 or lower."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import textstat
from flask.testing import FlaskClient

from symptomcheck.questions import QUESTIONS
from symptomcheck.ruleset import RuleSet
from symptomcheck.views import DISCLAIMER
from tests.helpers import RULES_FILE, check_page
from tests.test_engine import COMPLETE
from tests.test_journey import Patient

MAX_GRADE = 7
MAX_DISCLAIMER_GRADE = 9
# The grade formula needs a few words to mean anything ("Continue" alone scores
# 20): shorter texts are measured together as one passage instead.
MIN_WORDS = 6
BLOCKS = "h1, h2, p, li, legend, label, dt, dd, a, button"
WORDS_NOT_ALLOWED = ("cervicogenic", "cervical", "myelopathy", "thunderclap", "meningitis", "arteritis", "your fault")


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def rule_texts(rules: RuleSet) -> Iterator[str]:
    for item in (*rules.levels, *rules.patterns):
        yield item.title.format(emergency_number="911", clinic_name="the clinic")
        yield item.advice.format(emergency_number="911", clinic_name="the clinic")
    for rule in rules.rules:
        yield rule.reason
        if rule.note:
            yield rule.note


def question_texts() -> Iterator[str]:
    for question in QUESTIONS:
        yield from (question.label, question.hint, question.error)
        for choice in question.choices:
            yield from (choice.label, choice.hint)


def page_texts(client: FlaskClient) -> Iterator[str]:
    """Walk the journey to each kind of page and yield each block of visible text."""
    patient = Patient(client)
    pages = [check_page(client.get("/").data), check_page(client.get("/nowhere").data)]
    pages.append(check_page(patient.submit("/questions/about-you", {}).data))  # with errors
    patient.answer_all({**COMPLETE, "red_flags": ["fever", "progressive"], "pain_relief_days": 12})
    pages += [patient.read(f"/questions/{slug}") for slug in ("warning-signs", "neck", "headaches", "treatment")]
    pages += [patient.read("/check-answers"), patient.read("/result"), patient.read("/contact")]
    pages.append(check_page(patient.submit("/contact", {"name": ""}).data))  # with errors
    patient.submit("/contact", {"name": "Ada", "email": "ada@example.org", "preferred_time": "any", "consent": "y"})
    pages += [patient.read("/contact/sent"), patient.read("/result")]
    patient.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]})
    pages.append(patient.read("/result"))
    for page in pages:
        for block in page.select(BLOCKS):
            if block.find(BLOCKS.split(", ")):
                continue  # measured through its own inner blocks
            text = " ".join(block.get_text(" ").split())
            if text:
                yield text


def all_texts(client: FlaskClient, rules: RuleSet) -> list[str]:
    texts = {*question_texts(), *rule_texts(rules), *page_texts(client)} - {""}
    return sorted(texts)


@pytest.fixture
def texts(client: FlaskClient, rules: RuleSet) -> list[str]:
    return all_texts(client, rules)


def test_texts_are_collected(texts: list[str]) -> None:
    assert len(texts) > 150
    assert "Get medical care today." in texts
    assert "There is a problem" in texts


def test_every_text_is_grade_7_or_lower(texts: list[str]) -> None:
    disclaimer = DISCLAIMER.format(emergency_number="911")
    passages = [text for text in texts if len(text.split()) >= MIN_WORDS and text != disclaimer]
    too_hard = {text: round(grade(text), 1) for text in passages if grade(text) > MAX_GRADE}
    assert too_hard == {}


def test_short_texts_together_are_grade_7_or_lower(texts: list[str]) -> None:
    fragments = [text.rstrip(".?:") for text in texts if len(text.split()) < MIN_WORDS]
    assert len(fragments) > 30
    assert grade(". ".join(fragments) + ".") <= MAX_GRADE


def test_the_disclaimer_is_grade_9_or_lower() -> None:
    assert grade(DISCLAIMER.format(emergency_number="911")) <= MAX_DISCLAIMER_GRADE


def test_no_jargon_and_no_diagnosis(texts: list[str]) -> None:
    for text in texts:
        lowered = text.lower()
        assert not any(word in lowered for word in WORDS_NOT_ALLOWED), text
        if "diagnosis" in lowered:
            assert "not a diagnosis" in lowered, text


def test_rule_file_is_the_one_measured(rules: RuleSet) -> None:
    assert rules.source == str(RULES_FILE)
