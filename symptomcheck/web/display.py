"""How the rules' words reach a page: the loaded rule set, its texts in the page's language, and answers in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID, QUESTIONS, Kind
from symptomcheck.web import intake
from symptomcheck.web.i18n import N_, gettext, language

# In English here, for the catalog; say() gives each in the page's language.
NOT_ADVICE = N_(
    "This self-check is not a diagnosis or medical advice. It does not take the place of a visit with a clinician. "
    "If your symptoms get worse or new ones appear, get medical care."
)
EMERGENCY_LINE = N_("In an emergency, call {emergency_number} now.")
# The whole disclaimer, in English (the API, tests); disclaimer() gives it in the page's language.
DISCLAIMER = f"{NOT_ADVICE} {EMERGENCY_LINE}"
# The unit each number is counted in, so "10" reads "10 days a month" on the check page and the result.
UNITS = {
    "headache_days": N_("%(number)s days a month"),
    "pain_intensity": N_("%(number)s out of 10"),
    "pain_relief_days": N_("%(number)s days a month"),
}
NONE_OF_THESE = N_("None of these")
NOTHING_SELECTED = N_("None")


def current_rules() -> RuleSet:
    """Return the rule set loaded when the app started."""
    loaded: RuleSet = current_app.extensions["symptomcheck_rules"]
    return loaded


SAID_KEPT = 4096  # every text of rules.yaml and the code, in every language, is far fewer


def say(text: str) -> str:
    """Return a patient text (from rules.yaml or the code) in the page's language, with the clinic's details.

    Worked out once per app, text and language: the settings it fills in do not change while the app runs.
    """
    said: dict[tuple[str, str], str] = current_app.extensions.setdefault("said", {})
    key = (language(), text)
    found = said.get(key)
    if found is None:
        if len(said) >= SAID_KEPT:
            said.clear()
        config = current_app.config
        found = said[key] = gettext(text).format(
            emergency_number=config["EMERGENCY_NUMBER"], clinic_name=config["CLINIC_NAME"]
        )
    return found


def disclaimer() -> str:
    """Return the whole disclaimer in the page's language: not a diagnosis, and what to do in an emergency."""
    return f"{say(NOT_ADVICE)} {say(EMERGENCY_LINE)}"


def answer_text(answer_id: str, value: Any) -> list[str]:
    """Return an answer in the words the person saw, one item per ticked box."""
    question = BY_ID[answer_id]
    if question.kind is Kind.INTEGER:
        return [gettext(UNITS[answer_id], number=value)]
    if question.kind is Kind.SINGLE:
        return [gettext(question.choice_label(value))]
    nothing = NONE_OF_THESE if question.explicit_none else NOTHING_SELECTED
    return [gettext(question.choice_label(item)) for item in value] or [gettext(nothing)]


def answer_rows(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row per answered question, in the order the pages ask them (the questionnaire's order)."""
    return [
        {
            "id": question.id,
            "question": intake.question_label(question.id),
            "answer": answer_text(question.id, answers[question.id]),
        }
        for question in QUESTIONS
        if question.id in answers
    ]
