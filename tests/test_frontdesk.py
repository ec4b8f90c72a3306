"""The front desk: contact requests, the staff queue, exports, audit and retention.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL,
through the real HTTP stack of the test client with CSRF on.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from examples import COMPLETE
from symptomcheck.patient.forms import PAGES, PHONE_EXAMPLE
from symptomcheck.records import contact_requests
from symptomcheck.records.models import AuditEntry, ContactRequest, RequestEvent, Staff, db
from symptomcheck.rules.questions import BY_ID
from tests.helpers import RULES_VERSION, check_page, detached_rows, text_of
from tests.test_journey import Patient

CONTACT = {"name": "Ada Lovelace", "phone": "(202) 555-0143", "email": "Ada@Example.org",
           "preferred_time": "morning", "consent": "y"}  # fmt: skip
PASSWORD = "correct horse battery staple"


def stored(app: Flask) -> list[ContactRequest]:
    return detached_rows(app, ContactRequest)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def make_staff(app: Flask, username: str = "frontdesk", admin: bool = False) -> None:
    with app.app_context():
        staff = Staff(username=username, is_admin=admin)
        staff.set_password(PASSWORD)
        db.session.add(staff)
        db.session.commit()


def log_in(client: FlaskClient, username: str = "frontdesk", password: str = PASSWORD) -> Any:
    return Patient(client).submit("/staff/login", {"username": username, "password": password})


def send_request(app: Flask, answers: dict[str, Any] | None = None, contact: dict[str, Any] | None = None) -> Any:
    patient = Patient(app.test_client())
    patient.answer_all(answers or COMPLETE)
    return patient, patient.submit("/contact", contact or CONTACT)


@pytest.fixture
def staff_client(storage_app: Flask) -> FlaskClient:
    make_staff(storage_app)
    client = storage_app.test_client()
    assert log_in(client).location == "/staff/"
    return client


def test_a_request_is_stored_with_its_suggestion_and_version(storage_app: Flask) -> None:
    patient, response = send_request(storage_app, {**COMPLETE, "red_flags": ["progressive"]})
    assert response.location == "/contact/sent"
    page = text_of(patient.read("/contact/sent"))
    (row,) = stored(storage_app)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", row.reference)
    assert f"Your reference is {row.reference}" in page
    assert (row.name, row.phone, row.email) == ("Ada Lovelace", "+12025550143", "Ada@example.org")
    assert row.source == "web"
    assert row.answers == {**COMPLETE, "red_flags": ["progressive"]}
    assert (row.level, row.level_rank, row.pattern, row.rules_version) == ("soon", 2, "cgh_likely", RULES_VERSION)
    assert row.reasons[0] == {
        "rule": "soon-getting-worse",
        "text": "Your headache started in the last 3 months and keeps getting worse.",
    }
    assert row.status == "new"
    assert row.consented_at is not None


def test_nothing_is_stored_without_consent(storage_app: Flask) -> None:
    _, response = send_request(storage_app, contact={**CONTACT, "consent": ""})
    assert response.status_code == 200
    assert "Check the box to agree, or we cannot contact you." in text_of(check_page(response.data))
    assert count(storage_app, ContactRequest) == 0


def test_nothing_is_stored_for_a_person_who_does_not_ask(storage_app: Flask) -> None:
    patient = Patient(storage_app.test_client())
    patient.answer_all(COMPLETE)
    patient.read("/result")
    assert count(storage_app, ContactRequest) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone": "", "email": ""}, "Enter a phone number or an email address, so we can reach you."),
        ({"phone": "12345"}, "Enter a phone number, like 202 555 0143."),
        ({"phone": "555 0143"}, "Include the area code, like 202 555 0143."),  # a local number: the fix, named
        ({"email": "ada@"}, "Enter an email address, like name@example.com."),
        ({"name": "  "}, "Enter your name."),
        ({"preferred_time": "midnight"}, "Not a valid choice."),
    ],
)
def test_contact_details_are_checked(storage_app: Flask, change: dict[str, str], message: str) -> None:
    _, response = send_request(storage_app, contact={**CONTACT, **change})
    page = check_page(response.data)
    assert message in text_of(page)
    assert page.find(id="name")["value"] == CONTACT["name"] or change.get("name")
    assert count(storage_app, ContactRequest) == 0


def test_the_example_phone_number_in_the_hint_is_accepted(storage_app: Flask) -> None:
    send_request(storage_app, contact={**CONTACT, "phone": PHONE_EXAMPLE})
    assert [saved.phone for saved in stored(storage_app)] == ["+12025550143"]


def test_no_contact_offer_on_an_emergency(storage_app: Flask) -> None:
    patient = Patient(storage_app.test_client())
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]})
    assert "contact me" not in text_of(patient.read("/result"))
    assert patient.client.get("/contact").location == "/result"
    assert count(storage_app, ContactRequest) == 0


def test_every_staff_route_refuses_anonymous_access(storage_app: Flask) -> None:
    make_staff(storage_app)
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    client = storage_app.test_client()
    checked = 0
    for rule in storage_app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint == "staff.login":
            continue
        url = rule.rule.replace("<reference>", reference).replace("<int:staff_id>", "1").replace("<action>", "disable")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url)
            assert response.location.startswith("/staff/login"), (method, url)
            assert "Ada" not in response.get_data(as_text=True)
            checked += 1
    assert checked >= 9
    assert count(storage_app, RequestEvent) == 0


def test_wrong_password_and_throttling(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = storage_app.test_client()
    wrong = log_in(client, password="guess")
    assert "The username or password is not right." in text_of(check_page(wrong.data))
    for _ in range(4):
        log_in(client, password="guess")
    throttled = log_in(client)  # the right password, but too late
    assert throttled.status_code == 429
    assert "Too many failed tries" in text_of(check_page(throttled.data))
    assert client.get("/staff/").status_code == 302


def test_queue_is_ordered_by_urgency_then_age_and_filters(storage_app: Flask, staff_client: FlaskClient) -> None:
    send_request(storage_app)  # routine
    send_request(storage_app, {**COMPLETE, "red_flags": ["fever"]})  # urgent
    send_request(storage_app, {**COMPLETE, "red_flags": ["progressive"]})  # soon
    send_request(storage_app)  # routine, newer
    rows = stored(storage_app)
    page = check_page(staff_client.get("/staff/").data)
    shown = [row.find("a").get_text() for row in page.select("tbody tr")]
    assert shown == [rows[1].reference, rows[2].reference, rows[0].reference, rows[3].reference]
    assert "Morning" in text_of(page)
    only_soon = check_page(staff_client.get("/staff/?level=soon").data)
    assert [row.find("a").get_text() for row in only_soon.select("tbody tr")] == [rows[2].reference]
    assert staff_client.get("/staff/?level=nonsense").status_code == 400


def test_status_workflow_notes_and_audit(storage_app: Flask, staff_client: FlaskClient) -> None:
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    desk = Patient(staff_client)
    page = desk.read(f"/staff/requests/{reference}")
    assert "Ada Lovelace" in text_of(page)
    assert "+1 202-555-0143" in text_of(page)
    assert page.find("a", href="tel:+12025550143") is not None
    assert "Book a regular visit." in text_of(page)
    assert f"Rule set version {RULES_VERSION}" in text_of(page)
    assert {radio["value"] for radio in page.select("input[name=status]")} == {"contacted", "booked", "closed"}

    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    bad = staff_client.post(f"/staff/requests/{reference}/status", data={"status": "referred", "csrf_token": token})
    assert bad.status_code == 200  # the page again, saying what to fix
    assert "Not a valid choice" in text_of(check_page(bad.data))
    assert stored(storage_app)[0].status == "new"

    contacted = {"status": "contacted", "status_note": "Left a voicemail.", "csrf_token": token}
    staff_client.post(f"/staff/requests/{reference}/status", data=contacted)
    staff_client.post(f"/staff/requests/{reference}/notes", data={"note": "Called back at 3pm.", "csrf_token": token})
    booked = {"status": "booked", "closing_outcome": "booked", "closing_note": "Dr Lee", "csrf_token": token}
    staff_client.post(f"/staff/requests/{reference}/status", data=booked)
    assert stored(storage_app)[0].status == "booked"
    with storage_app.app_context():
        events = db.session.scalars(select(RequestEvent).order_by(RequestEvent.id)).all()
        assert [(e.from_status, e.to_status, e.note, e.staff.username) for e in events] == [
            ("new", "contacted", "Left a voicemail.", "frontdesk"),
            (None, None, "Called back at 3pm.", "frontdesk"),
            ("contacted", "booked", None, "frontdesk"),
        ]
        assert all(event.at is not None for event in events)
        actions = [
            (a.action, a.reference, a.detail) for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert actions == [
        ("view", reference, ""),
        ("change", reference, "status contacted"),
        ("change", reference, "note"),
        ("change", reference, "status booked, outcome recorded"),
    ]
    history = text_of(desk.read(f"/staff/requests/{reference}"))
    assert "Status: New to Contacted. Left a voicemail." in history


def test_audit_log_is_for_admins_only(storage_app: Flask, staff_client: FlaskClient) -> None:
    assert staff_client.get("/staff/audit").status_code == 403
    make_staff(storage_app, "boss", admin=True)
    admin = storage_app.test_client()
    log_in(admin, "boss")
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    staff_client.get(f"/staff/requests/{reference}")
    page = text_of(check_page(admin.get("/staff/audit").data))
    assert f"frontdesk view {reference}" in page
    assert "Ada" not in page


def test_csv_export_field_by_field(storage_app: Flask, staff_client: FlaskClient) -> None:
    send_request(storage_app, contact={**CONTACT, "name": '=HYPERLINK("x")'})
    row = stored(storage_app)[0]
    response = staff_client.get("/staff/export.csv?status=open")
    assert response.mimetype == "text/csv"
    records = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(records) == 1
    record = records[0]
    assert record["reference"] == row.reference
    assert record["name"] == '\'=HYPERLINK("x")'  # never run as a formula
    assert (record["phone"], record["email"], record["preferred_time"]) == (
        "+12025550143",
        "Ada@example.org",
        "morning",
    )
    assert (record["level"], record["pattern"], record["rules_version"], record["status"]) == (
        "routine", "cgh_likely", RULES_VERSION, "new")  # fmt: skip
    assert record["age_band"] == "18_49"
    assert record["red_flags"] == ""
    assert record["pain_intensity"] == "5"
    assert [column for column in record if column in BY_ID] == list(BY_ID)
    with storage_app.app_context():
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
        assert audit.detail == "CSV of 1 requests (status open, level any)"


def test_fhir_questionnaire_and_response_are_valid_r4(storage_app: Flask, staff_client: FlaskClient) -> None:
    questionnaire = storage_app.test_client().get("/fhir/Questionnaire/cervicogenic-headache-self-check")
    assert questionnaire.mimetype == "application/fhir+json"
    resource = Questionnaire.model_validate(questionnaire.get_json())
    assert [item.linkId for item in resource.item] == list(BY_ID)
    assert {item.type for item in resource.item} == {"choice", "integer"}
    red_flags = next(item for item in resource.item if item.linkId == "red_flags")
    assert red_flags.repeats is True
    assert [option.valueCoding.code for option in red_flags.answerOption] == [*BY_ID["red_flags"].values, "none"]

    send_request(storage_app, {**COMPLETE, "radiation": ["arm", "shoulder_upper_back"]})
    reference = stored(storage_app)[0].reference
    exported = staff_client.get(f"/staff/requests/{reference}/fhir")
    body = json.loads(exported.get_data(as_text=True))
    response = QuestionnaireResponse.model_validate(body)
    assert response.status == "completed"
    assert response.questionnaire.endswith("/fhir/Questionnaire/cervicogenic-headache-self-check")
    answers = {item.linkId: item.answer for item in response.item}
    assert list(answers) == list(BY_ID)
    assert [answer.valueCoding.code for answer in answers["red_flags"]] == ["none"]  # ticked "None of these"
    assert [answer.valueCoding.code for answer in answers["radiation"]] == ["arm", "shoulder_upper_back"]
    assert answers["pain_intensity"][0].valueInteger == 5
    assert answers["age_band"][0].valueCoding.display == "18 to 49"
    with storage_app.app_context():
        assert db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "export")).one() == (
            "FHIR QuestionnaireResponse"
        )


def test_phone_intake_goes_into_the_queue_marked_phone(storage_app: Flask, staff_client: FlaskClient) -> None:
    desk = Patient(staff_client)
    token = desk.read("/staff/").find("input", attrs={"name": "csrf_token"})["value"]
    started = staff_client.post("/staff/intake", data={"csrf_token": token}, follow_redirects=True)
    assert started.request.path == f"/questions/{PAGES[0].slug}"
    assert "Phone intake" in text_of(check_page(started.data))
    desk.answer_all(COMPLETE)
    response = desk.submit("/contact", {**CONTACT, "email": ""})
    row = stored(storage_app)[0]
    assert response.location == f"/staff/requests/{row.reference}"
    assert row.source == "phone"
    assert "Phone" in text_of(desk.read("/staff/"))


def test_purge_deletes_only_old_finished_requests(storage_app: Flask) -> None:
    for _ in range(3):
        send_request(storage_app)
    with storage_app.app_context():
        old, recent, still_open = db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)).all()
        long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=120)
        old.status, old.status_changed_at = "closed", long_ago
        recent.status = "booked"
        still_open.status_changed_at = long_ago
        db.session.commit()
    result = storage_app.test_cli_runner().invoke(args=["requests", "purge", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 finished request(s) closed more than 90 days ago." in result.output
    assert [row.status for row in stored(storage_app)] == ["booked", "new"]
    bad = storage_app.test_cli_runner().invoke(args=["requests", "purge", "--older-than", "soon"])
    assert bad.exit_code == 2


def test_staff_create_command(storage_app: Flask) -> None:
    runner = storage_app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "reception", "--admin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created admin staff account 'reception'." in result.output
    short = runner.invoke(args=["staff", "create", "other", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    client = storage_app.test_client()
    assert log_in(client, "reception").location == "/staff/"


def test_an_unreachable_database_gives_a_plain_page_and_keeps_the_answers(caplog: pytest.LogCaptureFixture) -> None:
    from symptomcheck import create_app
    from tests.helpers import RULES_FILE

    app = create_app({"SECRET_KEY": "x", "RULES_FILE": str(RULES_FILE),
                      "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"})  # fmt: skip
    assert "cannot reach the database" in caplog.text
    assert "nobody@127.0.0.1:9/none" in caplog.text
    patient = Patient(app.test_client())
    patient.answer_all(COMPLETE)
    response = patient.submit("/contact", CONTACT)
    assert response.status_code == 503
    text = text_of(check_page(response.data))
    assert "We could not tell if your request reached us" in text  # never "Nothing was saved": it may have been
    assert "Please press Send again" in text
    assert "Ada" not in text  # typed details stay in the form's fields, not in the words of the page
    assert patient.client.get("/result").status_code == 200


def test_rules_diff_replays_stored_requests(storage_app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from symptomcheck.cli import rules
    from tests.helpers import RULES_FILE

    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    changed = tmp_path / "rules.yaml"
    text = RULES_FILE.read_text(encoding="utf-8")
    changed.write_text(text.replace("at_least: [headache_days, 5]", "at_least: [headache_days, 9]"), encoding="utf-8")
    monkeypatch.setenv("SYMPTOMCHECK_DATABASE_URL", storage_app.config["DATABASE_URL"])
    monkeypatch.setenv("SYMPTOMCHECK_SECRET_KEY", "x")
    result = CliRunner().invoke(rules, ["diff", str(RULES_FILE), str(changed), "--stored"])
    assert result.exit_code == 1, result.output
    assert f"CHANGED request {reference}: no longer fires: routine-frequent" in result.output
    assert "1 of 1 cases would change" in result.output


def test_reference_is_not_the_database_id(storage_app: Flask) -> None:
    send_request(storage_app)
    row = stored(storage_app)[0]
    assert str(row.id) not in row.reference
    with storage_app.app_context():
        assert contact_requests.find(row.reference) is not None


def test_a_failed_login_does_not_echo_the_password(storage_app: Flask) -> None:
    make_staff(storage_app)
    page = check_page(log_in(storage_app.test_client(), password="hunter2-typo").data)
    assert page.find(id="password")["value"] == ""
    assert page.find(id="username")["value"] == "frontdesk"


def test_the_rule_book_is_served_to_staff_with_its_own_style_allowed(
    storage_app: Flask, staff_client: FlaskClient
) -> None:
    from symptomcheck.web.rulebook import STYLE, STYLE_HASH

    response = staff_client.get("/staff/rules")
    assert response.status_code == 200
    soup = check_page(response.data)
    assert soup.style is not None and soup.style.string == STYLE
    assert f"style-src '{STYLE_HASH}'" in response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert soup.find(id="rule-urgent-fever") and soup.find(id="guarantees")
    assert not soup.find("script") and not soup.find("link", rel="stylesheet")
    assert "/staff/rules" in staff_client.get("/staff/").get_data(as_text=True)  # linked from the front desk


def test_changed_answers_after_sending_go_to_the_clinic_as_a_linked_update(storage_app: Flask) -> None:
    patient = Patient(storage_app.test_client())
    patient.answer_all(COMPLETE)  # routine
    assert patient.submit("/contact", CONTACT).location == "/contact/sent"
    first = stored(storage_app)[0]
    assert "We have your request" in text_of(patient.read("/result"))
    # The person goes back and now has an emergency sign: the emergency comes first, and the clinic's copy is old.
    patient.submit("/questions/warning-signs", {"red_flags": ["bladder_bowel"]})
    result = patient.read("/result")
    assert result.h1 is not None and result.h1.get_text(strip=True).startswith("Call 911")
    text = text_of(result)
    assert "The clinic has your earlier answers" in text and first.reference in text
    assert "We have your request" not in text
    token = result.find("form", action="/contact/update").find("input", attrs={"name": "csrf_token"})["value"]
    assert patient.client.post("/contact/update", data={"csrf_token": token}).location == "/result"
    rows = stored(storage_app)
    assert len(rows) == 2
    update = next(row for row in rows if row.reference != first.reference)
    assert (update.updates_id, update.level, update.name, update.phone) == (
        first.id,
        "emergency",
        first.name,
        first.phone,
    )
    after = text_of(patient.read("/result"))
    assert f"We sent your new answers with your request {first.reference}" in after
    assert "The clinic has your earlier answers" not in after
    # Sending the same answers again stores nothing more.
    patient.client.post("/contact/update", data={"csrf_token": token})
    assert len(stored(storage_app)) == 2


def test_every_request_form_needs_its_csrf_token(storage_app: Flask, staff_client: FlaskClient) -> None:
    """A post without the token changes nothing: status, claim, assignment, call and note alike."""
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    forms = {
        "status": {"status": "contacted", "status_note": "called"},
        "claim": {},
        "assign": {"assignee": "nobody"},
        "attempts": {"outcome": "reached"},
        "notes": {"note": "a note"},
    }
    for form, data in forms.items():
        response = staff_client.post(f"/staff/requests/{reference}/{form}", data=data)
        assert response.status_code in {200, 302, 400}, form  # the page again, a redirect, or refused
    request = stored(storage_app)[0]
    assert (request.status, request.assigned_to_id) == ("new", None)
    assert count(storage_app, RequestEvent) == 0
    assert count(storage_app, AuditEntry) == 0
    page = text_of(check_page(staff_client.get(f"/staff/requests/{reference}").data))
    assert "Nothing was saved: the page had been open too long. Try again." in page
