"""The phone intake: questions about the caller, a script per level, the emergency record, who took the call.

The tests that store anything run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (storage_app).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examples import COMPLETE
from symptomcheck.patient.forms import PAGES
from symptomcheck.records.models import ContactRequest, RequestEvent
from symptomcheck.rules.questions import BY_ID, FOR_CALLER, QUESTIONS
from symptomcheck.web import intake
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import CONTACT, log_in, make_staff, send_request
from tests.test_journey import Patient

EMERGENCY = {"age_band": "18_49", "red_flags": ["thunderclap"]}
URGENT = {**COMPLETE, "red_flags": ["fever"]}
BANNER = "Phone intake: you are answering for a caller."
SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)


def start_intake(client: FlaskClient) -> Patient:
    desk = Patient(client)
    token = desk.read("/staff/").find("input", attrs={"name": "csrf_token"})["value"]
    started = client.post("/staff/intake", data={"csrf_token": token})
    assert started.location == "/questions/"
    return desk


def requests_of(app: Flask) -> list[ContactRequest]:
    return detached_rows(app, ContactRequest)


def test_every_question_has_words_about_the_caller() -> None:
    assert list(FOR_CALLER) == list(BY_ID)
    for question in QUESTIONS:
        words = FOR_CALLER[question.id]
        assert "caller" in words.label, question.id
        assert not SECOND_PERSON.search(words.label), words.label
        assert not SECOND_PERSON.search(words.hint), words.hint
        assert bool(words.hint) == bool(question.hint), f"{question.id}: a hint in one wording only"
        assert words.label != question.label


def test_an_intake_asks_about_the_caller_and_a_patient_still_reads_you(desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    about = desk.read("/questions/about-you")
    assert about.h1 is not None and about.h1.get_text(strip=True) == "About the caller"
    assert "How old is the caller?" in text_of(about)
    assert "How old are you?" not in text_of(about)
    assert BANNER in text_of(about)
    assert about.find("button", string="End the call") is not None
    assert about.find("nav", attrs={"aria-label": "Language"}) is None  # the intake is in English
    desk.submit("/questions/about-you", {"age_band": "18_49"})
    signs = text_of(desk.read("/questions/warning-signs"))
    assert FOR_CALLER["red_flags"].label in signs
    assert FOR_CALLER["red_flags"].hint in signs
    desk.submit("/questions/warning-signs", {"red_flags": ["fever"]})
    neck = text_of(desk.read("/questions/neck"))
    assert "Does the caller's pain start in the neck and spread to the head?" in neck
    assert "It may spread to the back or the front of the head." in neck

    patient = Patient(desk_client.application.test_client())
    assert "How old are you?" in text_of(patient.read("/questions/about-you"))
    spanish = desk_client.application.test_client()
    spanish.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = text_of(Patient(spanish, "es").read("/questions/about-you"))
    assert "¿Cuántos años tiene?" in page
    assert "caller" not in page


def test_an_intake_stays_in_english_for_a_staff_member_whose_browser_prefers_spanish(
    desk_client: FlaskClient,
) -> None:
    desk_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    desk = start_intake(desk_client)
    page = desk.read("/questions/about-you")
    assert "How old is the caller?" in text_of(page)
    assert "Continue" in text_of(page)


def test_the_check_page_lists_the_answers_about_the_caller(desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    desk.answer_all(COMPLETE)
    page = text_of(desk.read("/check-answers"))
    assert "How old is the caller?" in page
    assert "How old are you?" not in page


@pytest.mark.parametrize(
    ("answers", "line"),
    [
        (URGENT, "Do not wait for our call. Get medical care today."),
        ({**COMPLETE, "red_flags": ["progressive"]}, "You should see a doctor within about a week."),
        (COMPLETE, "We suggest a regular visit."),
    ],
    ids=["urgent", "soon", "routine"],
)
def test_the_result_of_an_intake_gives_a_script_for_the_level(
    desk_client: FlaskClient, answers: dict[str, object], line: str
) -> None:
    desk = start_intake(desk_client)
    desk.answer_all(answers)
    page = desk.read("/result")
    script = page.find("div", class_="callout--script")
    assert script is not None and script.h2 is not None
    assert script.h2.get_text(strip=True) == "Say to the caller"
    assert line in text_of(script)
    assert page.find("a", string="Add the caller's details") is not None


def test_a_patient_result_has_no_script(client: FlaskClient) -> None:
    patient = Patient(client)
    patient.answer_all(URGENT)
    page = patient.read("/result")
    assert page.find("div", class_="callout--script") is None
    assert "Say to the caller" not in text_of(page)


def test_an_emergency_intake_is_recorded_closed_and_ends_the_intake(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    desk = start_intake(desk_client)
    desk.submit("/questions/about-you", {"age_band": "18_49"})
    assert desk.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]}).location == "/result"
    result = desk.read("/result")
    script = text_of(result.find("div", class_="callout--script"))
    assert "Please hang up now and call 911." in script
    assert result.find("a", href="tel:911") is None  # the staff member is not the one to call
    form = result.find("form", action="/staff/intake/emergency")
    assert form is not None
    assert form.find("label", string="I told the caller to hang up and call 911 now.") is not None

    refused = desk_client.post(
        "/staff/intake/emergency",
        data={"caller_name": "Grace", "csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]},
    )
    assert refused.status_code == 400
    page = check_page(refused.data)
    assert "Select this box once you have told the caller to call now." in text_of(page.find(class_="error-summary"))
    assert requests_of(storage_app) == []

    recorded = desk.submit("/staff/intake/emergency", {"caller_name": " Grace ", "told": "y"})
    (row,) = requests_of(storage_app)
    assert recorded.location == f"/staff/requests/{row.reference}"
    assert (row.source, row.status, row.outcome, row.level) == ("phone", "closed", "emergency", "emergency")
    assert row.name == "Grace"
    assert row.consented_at is None  # nothing was asked of the caller but to call 911
    assert row.answers == EMERGENCY
    (event,) = detached_rows(storage_app, RequestEvent)
    assert (event.from_status, event.to_status) == ("new", "closed")
    assert event.note == "The caller was told to hang up and call 911 now."

    request_page = desk.read(f"/staff/requests/{row.reference}")
    words = text_of(request_page)
    assert "Emergency call recorded as" in words
    assert "call taken by frontdesk" in words
    assert "The caller was told to hang up and call 911 now." in words
    assert BANNER not in words
    assert BANNER not in text_of(desk.read("/staff/"))
    assert desk_client.get("/result").location == f"/questions/{PAGES[0].slug}"  # the answers left the session


def test_the_caller_s_name_is_optional_on_an_emergency_record(storage_app: Flask, desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    desk.submit("/questions/about-you", {"age_band": "50_plus"})
    desk.submit("/questions/warning-signs", {"red_flags": ["neuro_deficit"]})
    desk.submit("/staff/intake/emergency", {"told": "y"})
    (row,) = requests_of(storage_app)
    assert row.name == ""
    assert "Name not given" in text_of(desk.read(f"/staff/requests/{row.reference}"))
    row_in_queue = desk.read("/staff/?status=all").find("a", string=row.reference).find_parent("tr")
    assert "Name not given" in text_of(row_in_queue)


def test_the_emergency_record_needs_a_running_intake_at_the_emergency_level(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    assert desk_client.get("/staff/intake/emergency").location == "/staff/"
    desk = start_intake(desk_client)
    desk.answer_all(URGENT)
    assert desk_client.get("/staff/intake/emergency").location == "/result"
    assert requests_of(storage_app) == []


def test_a_phone_request_records_who_took_the_call_and_ends_the_banner(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    desk = start_intake(desk_client)
    desk.answer_all(URGENT)
    response = desk.submit("/contact", {**CONTACT, "email": ""})
    (row,) = requests_of(storage_app)
    assert response.location == f"/staff/requests/{row.reference}"
    assert row.source == "phone"
    assert row.taken_by_id is not None
    page = text_of(desk.read(f"/staff/requests/{row.reference}"))
    assert "Phone, call taken by frontdesk" in page
    assert BANNER not in page
    send_request(storage_app)  # online: nobody took a call
    assert requests_of(storage_app)[1].taken_by_id is None


def test_end_the_call_removes_the_banner_and_the_answers(storage_app: Flask, desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    desk.answer_all(URGENT)
    page = desk.read("/questions/about-you")
    token = page.find("form", action="/staff/intake/end").find("input", attrs={"name": "csrf_token"})["value"]
    ended = desk_client.post("/staff/intake/end", data={"csrf_token": token})
    assert ended.location == "/staff/"
    queue = text_of(desk.read("/staff/"))
    assert "The phone intake has ended. Nothing was stored for this call." in queue
    assert BANNER not in queue
    assert "How old are you?" in text_of(desk.read("/questions/about-you"))
    assert desk_client.get("/check-answers").location == f"/questions/{PAGES[0].slug}"
    assert requests_of(storage_app) == []


def test_the_queue_shows_a_running_intake_and_leads_back_to_it(desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    desk.submit("/questions/about-you", {"age_band": "18_49"})
    queue = desk.read("/staff/")
    assert BANNER in text_of(queue)
    assert queue.find("a", string="Go back to the intake")["href"] == "/check-answers"
    assert desk_client.get("/check-answers").location == "/questions/warning-signs"


def test_a_staff_member_takes_more_calls_than_the_patients_limit(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = storage_app.test_client()
    log_in(client)
    for _ in range(12):  # the patients' limit is 10 an hour from one address
        desk = start_intake(client)
        desk.answer_all(COMPLETE)
        assert desk.submit("/contact", CONTACT).status_code == 302
    assert [row.source for row in requests_of(storage_app)] == ["phone"] * 12
    patient = Patient(storage_app.test_client())  # from the same address, without a login
    patient.answer_all(COMPLETE)
    statuses = [patient.submit("/contact", CONTACT).status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]  # only stored requests count against the limit
    assert [row.source for row in requests_of(storage_app)] == ["phone"] * 12 + ["web"] * 10


def test_the_exemption_needs_a_login_as_well_as_the_flag(app: Flask) -> None:
    with app.test_request_context("/contact"):
        from flask import session

        session["intake"] = True
        assert intake.running() is False  # a patient's browser cannot claim to be the desk


def test_an_idle_staff_session_is_logged_out_on_the_intake_pages(storage_app: Flask, desk_client: FlaskClient) -> None:
    from tests.test_staff_accounts import shift_sessions

    desk = start_intake(desk_client)
    desk.answer_all(COMPLETE)
    shift_sessions(storage_app, created=31, seen=31)  # the last request, 31 minutes ago
    page = desk_client.get("/questions/about-you")
    words = text_of(check_page(page.data))
    assert "You were logged out because the page was not used for a while." in words
    assert BANNER not in words
    assert "How old are you?" in words
    assert desk_client.get("/contact").location == f"/questions/{PAGES[0].slug}"  # the caller's answers are gone
    assert desk_client.get("/staff/").location.startswith("/staff/login")
    assert requests_of(storage_app) == []


def test_start_again_during_an_intake_keeps_the_staff_member_logged_in(desk_client: FlaskClient) -> None:
    desk = start_intake(desk_client)
    desk.answer_all(URGENT)
    result = desk.read("/result")
    assert "From your answer to: Does the caller have any of these signs" in text_of(result)
    form = result.find("form", action="/start-again")
    again = desk_client.post("/start-again", data={"csrf_token": form.find("input")["value"]})
    assert again.location == f"/questions/{PAGES[0].slug}"
    page = text_of(desk.read("/questions/about-you"))
    assert "How old is the caller?" in page  # the intake goes on, for the next caller
    assert desk_client.get("/check-answers").location == f"/questions/{PAGES[0].slug}"
    assert desk_client.get("/staff/").status_code == 200


def test_the_exports_name_who_took_the_call(storage_app: Flask, desk_client: FlaskClient) -> None:
    import csv
    import io
    import json

    desk = start_intake(desk_client)
    desk.answer_all(URGENT)
    desk.submit("/contact", {**CONTACT, "email": ""})
    (row,) = requests_of(storage_app)
    (record,) = csv.DictReader(io.StringIO(desk_client.get("/staff/export.csv").get_data(as_text=True)))
    assert (record["reference"], record["source"], record["taken_by"]) == (row.reference, "phone", "frontdesk")
    response = json.loads(desk_client.get(f"/staff/requests/{row.reference}/fhir").get_data(as_text=True))
    taker = next(item for item in response["contained"] if item["id"] == "taker")
    assert response["author"] == {"reference": "#taker"}
    assert taker["resourceType"] == "Practitioner" and "frontdesk" in json.dumps(taker["name"])
