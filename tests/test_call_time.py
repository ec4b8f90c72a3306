"""When the clinic will call: worked out from the desk's hours and the level's target, at fixed clock times.

The clock is set by hand (desk.py takes the time as an argument; the pages read it through call_time.clock),
in English and in Spanish, for open hours, just before closing, a weekend and a holiday.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, session

from examples import COMPLETE
from symptomcheck.patient import call_time
from symptomcheck.records import desk
from tests.helpers import text_of
from tests.test_i18n import CONTACT
from tests.test_journey import Patient

NEW_YORK = ZoneInfo("America/New_York")
HOLIDAYS = {"holidays": ["2026-12-24", "2026-12-25"]}
URGENT = {**COMPLETE, "red_flags": ["fever"]}
DO_NOT_WAIT = {
    "en": "Do not wait for our call. Get medical care today.",
    "es": "No espere nuestra llamada. Busque atención médica hoy.",
}


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """Return a moment of December 2026 in the clinic's time zone (the 2nd is a Wednesday)."""
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=NEW_YORK)


def words(
    app: Flask,
    language: str,
    level: str,
    moment: datetime.datetime,
    hours: desk.Hours | None = None,
    phone: bool = True,
) -> str | None:
    with app.test_request_context("/contact"):
        session["language"] = language
        found = call_time.call_time(level, moment, hours or desk.parse_hours(HOLIDAYS), phone)
        return " ".join(found.text.split()) if found else None  # babel puts a narrow space before "AM"


CASES = [
    # (what, level, moment, English, Spanish)
    ("open hours, urgent", "urgent", at(2, 10), "We will call you by 11:00 AM today.",
     "Le llamaremos hoy antes de las 11:00."),
    ("open hours, same working day", "soon", at(2, 10), "We will call you by 6:00 PM today.",
     "Le llamaremos hoy antes de las 18:00."),
    ("open hours, 2 working days", "routine", at(2, 10), "We will call you by the end of Friday.",
     "Le llamaremos antes de que termine el viernes."),
    ("just before closing, urgent", "urgent", at(2, 17, 45), "We will call you on Thursday morning.",
     "Le llamaremos el jueves por la mañana."),
    ("just before closing, same working day", "soon", at(2, 17, 45), "We will call you by 6:00 PM today.",
     "Le llamaremos hoy antes de las 18:00."),
    ("before opening", "urgent", at(2, 7, 0), "We are closed now. We will call you by 9:00 AM today.",
     "Ahora estamos cerrados. Le llamaremos hoy antes de las 9:00."),
    ("after closing on Friday", "urgent", at(4, 17, 30), "We are closed now. We will call you on Monday morning.",
     "Ahora estamos cerrados. Le llamaremos el lunes por la mañana."),
    ("weekend, urgent", "urgent", at(5, 10), "We are closed now. We will call you on Monday morning.",
     "Ahora estamos cerrados. Le llamaremos el lunes por la mañana."),
    ("weekend, same working day", "soon", at(6, 15), "We are closed now. We will call you by the end of Monday.",
     "Ahora estamos cerrados. Le llamaremos antes de que termine el lunes."),
    ("holiday", "urgent", at(24, 10), "We are closed now. We will call you on Monday morning.",
     "Ahora estamos cerrados. Le llamaremos el lunes por la mañana."),
    ("just before closing before a holiday", "urgent", at(23, 17, 30), "We will call you on Monday morning.",
     "Le llamaremos el lunes por la mañana."),
    ("a day more than a week off", "self_care", at(21, 10), "We will call you by the end of Wednesday, December 30.",
     "Le llamaremos antes de que termine el miércoles 30 de diciembre."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("level", "moment", "english", "spanish"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_the_call_time_in_words(app: Flask, level: str, moment: datetime.datetime, english: str, spanish: str) -> None:
    assert words(app, "en", level, moment) == english
    assert words(app, "es", level, moment) == spanish
    due = desk.next_call_window(moment, level, desk.parse_hours(HOLIDAYS))
    assert due > moment  # the words promise a time still to come


def test_a_time_later_in_the_day_after_tomorrow_is_said_with_its_day(app: Flask) -> None:
    hours = desk.parse_hours({"targets": {"urgent": "8 working hours"}})
    assert words(app, "en", "urgent", at(2, 16), hours) == "We will call you by 2:00 PM on Thursday."
    assert words(app, "es", "urgent", at(2, 16), hours) == "Le llamaremos el jueves antes de las 14:00."


def test_an_email_only_request_is_contacted_not_called(app: Flask) -> None:
    assert words(app, "en", "urgent", at(2, 10), phone=False) == "We will contact you by 11:00 AM today."
    assert words(app, "es", "urgent", at(5, 10), phone=False) == (
        "Ahora estamos cerrados. Le contactaremos el lunes por la mañana."
    )


def test_a_level_with_no_target_promises_nothing(app: Flask) -> None:
    hours = desk.parse_hours()
    assert words(app, "en", "no_such_level", at(2, 10), hours) is None


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime.datetime], None]:
    """Set the time the patient pages read."""

    def set_to(moment: datetime.datetime) -> None:
        monkeypatch.setattr(call_time, "clock", lambda: moment.astimezone(datetime.UTC))

    return set_to


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_contact_form_and_confirmation_say_when_out_of_hours_and_not_to_wait_on_urgent(
    storage_app: Flask, clock: Callable[[datetime.datetime], None], language: str
) -> None:
    clock(at(5, 10))  # a Saturday
    client = storage_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    patient = Patient(client, language)
    patient.answer_all(URGENT)
    closed = {
        "en": "We are closed now. We will call you on Monday morning.",
        "es": "Ahora estamos cerrados. Le llamaremos el lunes por la mañana.",
    }[language]
    form = text_of(patient.read("/contact"))
    assert closed in form
    assert form.count(DO_NOT_WAIT[language]) == 1
    assert patient.submit("/contact", CONTACT).location == "/contact/sent"
    clock(at(7, 9))  # read again on Monday: the words are those of the time it was sent
    sent = text_of(patient.read("/contact/sent"))
    assert closed in sent
    assert sent.count(DO_NOT_WAIT[language]) == 1
    assert ("If you feel worse" in sent) is False and ("Si se siente peor" in sent) is False  # one "do not wait"


@pytest.mark.parametrize("language", ["en", "es"])
def test_in_open_hours_a_routine_request_is_told_the_day(
    storage_app: Flask, clock: Callable[[datetime.datetime], None], language: str
) -> None:
    clock(at(2, 10, 15))
    client = storage_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    patient = Patient(client, language)
    patient.answer_all(COMPLETE)
    expected = {"en": "We will call you by the end of Friday.", "es": "Le llamaremos antes de que termine el viernes."}
    assert expected[language] in text_of(patient.read("/contact"))
    patient.submit("/contact", CONTACT)
    sent = text_of(patient.read("/contact/sent"))
    assert expected[language] in sent
    assert "Ahora estamos cerrados" not in sent and "We are closed now" not in sent
    assert DO_NOT_WAIT[language] not in sent


def test_an_urgent_request_just_before_closing_is_told_tomorrow_morning(
    storage_app: Flask, clock: Callable[[datetime.datetime], None]
) -> None:
    clock(at(2, 17, 45))
    patient = Patient(storage_app.test_client())
    patient.answer_all(URGENT)
    patient.submit("/contact", {**CONTACT, "phone": "", "email": "ana@example.org"})
    sent = text_of(patient.read("/contact/sent"))
    assert "We will contact you on Thursday morning." in sent  # an email only: "contact", not "call"
    assert "We are closed now." not in sent
