"""Answer sets shared by the tests, the screenshot script and the benchmarks: defined once, here.

Not part of the app. Scripts and benchmarks import this module, never a test module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symptomcheck.patient.forms import PAGES, Page
from symptomcheck.rules.questions import BY_ID, Kind

# A complete set of answers that leads to a routine booking with a cgh_likely pattern.
COMPLETE: dict[str, Any] = {
    "age_band": "18_49",
    "red_flags": [],
    "neck_origin": "yes",
    "headache_side": "one_side_always_same",
    "movement_trigger": "yes",
    "posture_trigger": "no",
    "neck_pressure_trigger": "no",
    "neck_stiffness": "no",
    "radiation": [],
    "neck_injury_history": "no",
    "migraine_features": [],
    "duration": "over_3_months",
    "headache_days": 6,
    "pain_intensity": 5,
    "impact": [],
    "treatments_tried": [],
    "treatment_result": "not_tried",
    "pain_relief_days": 2,
}

# Changes to COMPLETE that lead to each level below emergency, with the start of its heading.
TO_EACH_LEVEL: dict[str, tuple[dict[str, Any], str]] = {
    "urgent": ({"red_flags": ["fever"]}, "Get medical care today."),
    "soon": ({"red_flags": ["progressive"]}, "See a doctor within about a week."),
    "routine": ({}, "Book a regular visit."),
    "self_care": ({"duration": "under_1_month", "pain_intensity": 2, "headache_days": 2}, "You can care for yourself"),
}


def reaching(level: str) -> dict[str, Any]:
    """Return complete answers that lead to a level below emergency."""
    return {**COMPLETE, **TO_EACH_LEVEL[level][0]}


def page_posts(answers: dict[str, Any], pages: Sequence[Page] = PAGES) -> list[tuple[str, dict[str, Any]]]:
    """Return, page by page, the form fields a browser sends for these answers (slug, fields)."""
    posts = []
    for page in pages:
        fields: dict[str, Any] = {}
        for answer_id in page.answer_ids:
            value, question = answers[answer_id], BY_ID[answer_id]
            if question.kind is Kind.INTEGER:
                fields[answer_id] = str(value)
            elif question.kind is Kind.MULTI and question.explicit_none and not value:
                fields[page.form.none_options[answer_id]] = "y"
            else:
                fields[answer_id] = value
        posts.append((page.slug, fields))
    return posts
