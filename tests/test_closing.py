"""Closing a request with what came of it, and a clinician's verdict on the suggested level."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examples import COMPLETE
from symptomcheck.records import contact_requests
from symptomcheck.records.models import AuditEntry, RequestEvent, Staff, db
from tests.helpers import check_page, text_of
from tests.test_frontdesk import PASSWORD, log_in, send_request, stored
from tests.test_journey import Patient

SOON = {**COMPLETE, "red_flags": ["progressive"]}  # soon, rank 2


def make_clinician(app: Flask, username: str = "dr_lee") -> FlaskClient:
    with app.app_context():
        staff = Staff(username=username, is_clinician=True)
        staff.set_password(PASSWORD)
        db.session.add(staff)
        db.session.commit()
    client = app.test_client()
    assert log_in(client, username).location == "/staff/"
    return client


def post_form(client: FlaskClient, reference: str, action: str, data: dict[str, str]) -> tuple[int, str, str]:
    """Post one of the request page's forms; return the status, where it goes and the page's words."""
    page = Patient(client).read(f"/staff/requests/{reference}")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(f"/staff/requests/{reference}/{action}", data={**data, "csrf_token": token})
    words = text_of(check_page(response.data)) if response.status_code == 200 else ""
    return response.status_code, response.location or "", words


def page_of(client: FlaskClient, reference: str) -> str:
    return text_of(check_page(client.get(f"/staff/requests/{reference}").data))


def audit_details(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "change")))


def test_a_finish_without_an_outcome_is_refused_and_keeps_what_was_typed(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    status, _, words = post_form(desk_client, reference, "status", {"status": "booked", "status_note": "Tue 2 pm"})
    assert status == 200
    assert "There is a problem" in words
    assert "Select what came of the request before you mark it booked." in words
    assert contact_requests.OUTCOME_NOTE_MISSING in words  # both at once
    refused = desk_client.post(f"/staff/requests/{reference}/status", follow_redirects=True)  # no token
    assert "Nothing was saved: the page had been open too long. Try again." in text_of(check_page(refused.data))
    assert stored(storage_app)[0].status == "new"

    status, _, words = post_form(desk_client, reference, "status", {"status": "closed", "closing_outcome": "booked"})
    assert status == 200
    assert contact_requests.OUTCOME_NOTE_MISSING in words
    assert (stored(storage_app)[0].status, stored(storage_app)[0].outcome) == ("new", None)

    status, _, words = post_form(desk_client, reference, "status", {"status": "booked", "closing_outcome": "shouted"})
    assert status == 200 and "Not a valid choice" in words
    assert stored(storage_app)[0].status == "new"


def test_a_finish_records_the_outcome_in_the_request_history_and_audit(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    assert "Due by" in page_of(desk_client, reference)  # new: the target for the first contact is shown
    data = {"status": "booked", "closing_outcome": "booked", "closing_note": "Dr Lee, Tue 2 pm"}
    status, location, _ = post_form(desk_client, reference, "status", data)
    assert (status, location) == (302, f"/staff/requests/{reference}")
    row = stored(storage_app)[0]
    assert (row.status, row.outcome, row.outcome_note) == ("booked", "booked", "Dr Lee, Tue 2 pm")
    page = page_of(desk_client, reference)
    assert "Outcome: Booked a visit. Dr Lee, Tue 2 pm" in page
    assert "Due by" not in page and "Overdue" not in page  # the first-contact target no longer applies
    assert "Status: New to Booked. Outcome: Booked a visit." in page
    # Closing a booked request keeps the outcome already recorded.
    assert post_form(desk_client, reference, "status", {"status": "closed"})[0] == 302
    row = stored(storage_app)[0]
    assert (row.status, row.outcome, row.outcome_note) == ("closed", "booked", "Dr Lee, Tue 2 pm")
    assert audit_details(storage_app) == ["status booked, outcome recorded", "status closed"]
    # A status that does not finish needs no outcome.
    send_request(storage_app)
    other = stored(storage_app)[1].reference
    assert post_form(desk_client, other, "status", {"status": "contacted"})[0] == 302
    assert stored(storage_app)[1].outcome is None


def test_only_a_clinician_sees_and_posts_the_verdict_form(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, SOON)
    reference = stored(storage_app)[0].reference
    page = check_page(desk_client.get(f"/staff/requests/{reference}").data)
    assert page.find("form", action=f"/staff/requests/{reference}/verdict") is None
    assert "No clinician has recorded a verdict yet." in text_of(page)
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    refused = desk_client.post(f"/staff/requests/{reference}/verdict", data={"verdict": "right", "csrf_token": token})
    assert refused.status_code == 403
    assert stored(storage_app)[0].verdict is None

    clinician = make_clinician(storage_app)
    page = check_page(clinician.get(f"/staff/requests/{reference}").data)
    form = page.find("form", action=f"/staff/requests/{reference}/verdict")
    assert {radio["value"] for radio in form.select("input[name=verdict]")} == {"right", "more_urgent", "less_urgent"}
    assert [radio["value"] for radio in form.select("input[name=verdict_level]")] == [
        "emergency", "urgent", "soon", "routine", "self_care"]  # fmt: skip


def test_a_verdict_level_must_agree_with_the_verdict(storage_app: Flask) -> None:
    send_request(storage_app, SOON)
    reference = stored(storage_app)[0].reference
    clinician = make_clinician(storage_app)
    refused = [
        ({"verdict": "more_urgent", "verdict_note": "x"}, contact_requests.VERDICT_LEVEL_MISSING),
        ({"verdict": "more_urgent"}, contact_requests.VERDICT_LEVEL_MISSING),
        ({"verdict": "more_urgent"}, contact_requests.VERDICT_NOTE_MISSING),  # both at once
        ({"verdict": "more_urgent", "verdict_level": "routine", "verdict_note": "x"},
         contact_requests.VERDICT_LEVEL_NOT_MORE_URGENT),
        ({"verdict": "more_urgent", "verdict_level": "soon", "verdict_note": "x"},
         contact_requests.VERDICT_LEVEL_NOT_MORE_URGENT),
        ({"verdict": "less_urgent", "verdict_level": "urgent", "verdict_note": "x"},
         contact_requests.VERDICT_LEVEL_NOT_LESS_URGENT),
        ({"verdict": "right", "verdict_level": "urgent"}, contact_requests.VERDICT_LEVEL_WITH_RIGHT),
        ({"verdict": "less_urgent", "verdict_level": "routine"}, contact_requests.VERDICT_NOTE_MISSING),
        ({"verdict": "less_urgent", "verdict_level": "bogus", "verdict_note": "x"}, "Not a valid choice"),
        ({}, "Select a verdict."),
    ]  # fmt: skip
    for data, message in refused:
        status, _, words = post_form(clinician, reference, "verdict", data)
        assert status == 200, data
        assert message in words, data
        assert stored(storage_app)[0].verdict is None
    status, _, _ = post_form(
        clinician, reference, "verdict", {"verdict": "more_urgent", "verdict_level": "urgent", "verdict_note": "Fever"}
    )
    assert status == 302
    row = stored(storage_app)[0]
    assert (row.verdict, row.verdict_level, row.verdict_note) == ("more_urgent", "urgent", "Fever")
    assert row.verdict_at is not None
    page = page_of(clinician, reference)
    assert "It should have been more urgent: Urgent (care today), not Soon (within a week). Fever" in page
    assert "Recorded by dr_lee," in page
    assert "Verdict: It should have been more urgent. Fever" in page
    assert "Change the verdict" in page
    assert audit_details(storage_app) == ["verdict recorded"]
    with storage_app.app_context():
        event = db.session.scalars(select(RequestEvent)).one()
        assert (event.verdict, event.staff.username) == ("more_urgent", "dr_lee")

    assert post_form(clinician, reference, "verdict", {"verdict": "right"})[0] == 302
    row = stored(storage_app)[0]
    assert (row.verdict, row.verdict_level, row.verdict_note) == ("right", None, None)
