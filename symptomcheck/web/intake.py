"""The phone intake: a staff member answers the questions for a caller, in the third person, with a script per level.

An intake runs while the session says so and a staff member is logged in; it ends when the request is stored,
when an emergency call is recorded, when staff press "End the call", or when the idle staff session is logged out.
"""

from __future__ import annotations

from flask import current_app, session
from flask_login import current_user

from symptomcheck.rules.questions import BY_ID, FOR_CALLER
from symptomcheck.web.i18n import gettext

# What to say to the caller at each level (staff pages are English only). {emergency_number} is filled in.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "emergency": (
        "Please hang up now and call {emergency_number}.",
        "If you cannot call, go to the nearest emergency room now. Do not drive yourself.",
    ),
    "urgent": (
        "Your answers show you need medical care today: urgent care, or a same-day visit with a doctor.",
        "Do not wait for our call. Get medical care today.",
        "If it gets worse, call {emergency_number}.",
    ),
    "soon": (
        "You should see a doctor within about a week. I can take your details so we can call you back.",
        "If the headache gets worse or new signs appear, get care sooner.",
    ),
    "routine": (
        "We suggest a regular visit. I can take your details so we can call you to book it.",
        "If the headache gets worse or new signs appear, get medical care.",
    ),
    "self_care": (
        "You can care for yourself at home for now. I can still take your details if you would like a call.",
        "Get care if you have a sudden, very bad headache, weakness, numbness, trouble speaking, a fever, "
        "or a change in sight, or if the headache keeps getting worse.",
    ),
}
# A level the scripts do not know (a new level in rules.yaml) still gets a line to say.
READ_THE_ADVICE = ("Read the advice above to the caller.",)
EMERGENCY_NOTE = "The caller was told to hang up and call {emergency_number} now."


def start() -> None:
    """Begin an intake in this staff session: no answers or earlier request carried over."""
    for key in ("answers", "sent_reference", "sent_seal", "sent_call"):
        session.pop(key, None)
    session["intake"] = True


def end() -> None:
    """End the intake: the banner goes, and the caller's answers leave this session."""
    for key in ("intake", "answers", "sent_reference", "sent_seal", "sent_call"):
        session.pop(key, None)


def running() -> bool:
    """Say whether a logged-in staff member is answering the questions for a caller."""
    return bool(session.get("intake")) and bool(current_user.is_authenticated)


def staff_id() -> int | None:
    """Return the id of the staff member taking the call, or None when no intake runs."""
    return int(current_user.id) if running() else None


def script(level: str) -> list[str]:
    """Return what to say to the caller at a level, with the emergency number in it."""
    number = current_app.config["EMERGENCY_NUMBER"]
    return [line.format(emergency_number=number) for line in SCRIPTS.get(level, READ_THE_ADVICE)]


def emergency_note() -> str:
    return EMERGENCY_NOTE.format(emergency_number=current_app.config["EMERGENCY_NUMBER"])


def question_label(answer_id: str) -> str:
    """Return a question about the caller during an intake, else in the patient's words and language."""
    return FOR_CALLER[answer_id].label if running() else gettext(BY_ID[answer_id].label)


def question_hint(answer_id: str) -> str:
    """Return a question's hint the same way ("" for a question without one)."""
    if not BY_ID[answer_id].hint:
        return ""
    return FOR_CALLER[answer_id].hint if running() else gettext(BY_ID[answer_id].hint)
