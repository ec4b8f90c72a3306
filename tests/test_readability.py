"""Plain words, measured: every patient-facing text at reading grade 7 or lower, in English and in Spanish."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import textstat
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from examples import COMPLETE
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import QUESTIONS
from symptomcheck.web.display import DISCLAIMER
from tests.helpers import RULES_FILE, check_page
from tests.test_i18n import SPANISH_PO
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
    pages = [check_page(client.get(url).data) for url in ("/", "/nowhere", "/learn")]
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


# --- Spanish -------------------------------------------------------------------------------------------------
# Crawford's formula gives a school grade for Spanish texts (textstat's Spanish grade measure).
NOT_WORDS = re.compile(r"<[^>]+>|%\(\w+\)s|\{\w+\}|\S+@\S+")  # markup, placeholders, an example address
SPANISH_NOT_ALLOWED = ("cervicogénic", "mielopatía", "meningitis", "arteritis", "su culpa")


def spanish_grade(text: str) -> float:
    textstat.set_lang("es")
    try:
        return float(textstat.crawford(text))
    finally:
        textstat.set_lang("en_US")


@pytest.fixture(scope="module")
def spanish_texts() -> list[str]:
    with SPANISH_PO.open("rb") as handle:
        catalog = read_po(handle)
    texts = []
    for message in catalog:
        if message.id:
            for translated in message.string if isinstance(message.string, list | tuple) else (message.string,):
                texts.append(" ".join(NOT_WORDS.sub("X", translated).split()))
    return texts


def test_every_spanish_text_is_grade_7_or_lower(spanish_texts: list[str]) -> None:
    passages = [text for text in spanish_texts if len(text.split()) >= MIN_WORDS]
    assert len(passages) > 150
    too_hard = {text: round(spanish_grade(text), 1) for text in passages if spanish_grade(text) > MAX_GRADE}
    assert too_hard == {}


def test_short_spanish_texts_together_are_grade_7_or_lower(spanish_texts: list[str]) -> None:
    fragments = [text.rstrip(".?:") for text in spanish_texts if len(text.split()) < MIN_WORDS]
    assert len(fragments) > 30
    assert spanish_grade(". ".join(fragments) + ".") <= MAX_GRADE


def test_the_spanish_formula_can_fail() -> None:
    hard = "La mielopatía espondilótica cervical degenerativa compromete progresivamente la funcionalidad neurológica."
    assert spanish_grade(hard) > MAX_GRADE


def test_no_jargon_in_spanish_and_no_diagnosis(spanish_texts: list[str]) -> None:
    for text in spanish_texts:
        lowered = text.lower()
        assert not any(word in lowered for word in SPANISH_NOT_ALLOWED), text
        if "diagnóstico" in lowered:
            assert "no es un diagnóstico" in lowered, text
