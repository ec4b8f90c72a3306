"""Working the queue: claim or assign a request, "mine", record calls, new to booked, save and open the next."""

from __future__ import annotations

import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from examples import COMPLETE
from symptomcheck.records.models import AuditEntry, ContactRequest, RequestEvent, Staff, db
from tests.helpers import check_page, text_of
from tests.test_desk import queue_names
from tests.test_frontdesk import CONTACT, log_in, make_staff, send_request, stored
from tests.test_journey import Patient

URGENT = {**COMPLETE, "red_flags": ["fever"]}


def post(client: FlaskClient, reference: str, action: str, data: dict[str, str] | None = None) -> str:
    """Post one of the request page's forms as the page gives it; return where it goes next."""
    desk = Patient(client)
    page = desk.read(f"/staff/requests/{reference}")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(f"/staff/requests/{reference}/{action}", data={**(data or {}), "csrf_token": token})
    assert response.status_code == 302
    return response.location


def page_text(client: FlaskClient, url: str) -> str:
    return text_of(check_page(client.get(url).data))


def test_claim_assign_and_the_mine_filter(storage_app: Flask, desk_client: FlaskClient) -> None:
    make_staff(storage_app, "bea")
    send_request(storage_app, URGENT)
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Grace Hopper"})
    ada, grace = (row.reference for row in stored(storage_app))
    assert "Nobody has this request yet." in page_text(desk_client, f"/staff/requests/{ada}")

    post(desk_client, ada, "claim")
    page = page_text(desk_client, f"/staff/requests/{ada}")
    assert "frontdesk will call (you)." in page
    assert "I'll call" not in page  # already mine
    assert "Assigned to frontdesk." in page  # in the history, with who did it
    assert queue_names(desk_client, "?mine=1") == ["Ada Lovelace"]
    assert "You will call" in page_text(desk_client, "/staff/")

    with storage_app.app_context():
        bea_id = db.session.scalar(select(Staff.id).where(Staff.username == "bea"))
    post(desk_client, grace, "assign", {"assignee": str(bea_id)})
    assert "bea will call." in page_text(desk_client, f"/staff/requests/{grace}")
    assert queue_names(desk_client, "?mine=1") == ["Ada Lovelace"]
    bea = storage_app.test_client()
    log_in(bea, "bea")
    assert queue_names(bea, "?mine=1") == ["Grace Hopper"]
    assert "bea will call" in page_text(desk_client, "/staff/")

    post(desk_client, grace, "assign", {"assignee": "nobody"})
    assert "Nobody has this request yet." in page_text(desk_client, f"/staff/requests/{grace}")
    with storage_app.app_context():
        details = list(db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "change")))
    assert details == ["assigned to frontdesk", "assigned to bea", "assigned to nobody"]


def test_contact_attempts_and_the_three_failed_attempts_notice(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, URGENT)
    (row,) = stored(storage_app)
    reference = row.reference
    for outcome in ("no_answer", "left_message"):
        post(desk_client, reference, "attempts", {"outcome": outcome})
    page = page_text(desk_client, f"/staff/requests/{reference}")
    assert "2 failed attempts so far." in page
    assert "failed attempts to reach this person" not in page
    assert "Call: No answer." in page
    assert "Call: Left a message." in page

    post(desk_client, reference, "attempts", {"outcome": "wrong_number", "attempt_note": "A bakery answered."})
    page = page_text(desk_client, f"/staff/requests/{reference}")
    assert "3 failed attempts to reach this person since the last time someone did. Try the email address too." in page
    assert "A bakery answered." in page
    assert stored(storage_app)[0].status == "new"  # still waiting for a first contact
    (row,) = check_page(desk_client.get("/staff/").data).select("tbody tr")
    assert "3 failed calls" in text_of(row)

    post(desk_client, reference, "attempts", {"outcome": "reached"})
    page = page_text(desk_client, f"/staff/requests/{reference}")
    assert "failed attempt" not in page
    assert stored(storage_app)[0].status == "contacted"  # reaching the person is the contact
    with storage_app.app_context():
        events = list(db.session.scalars(select(RequestEvent).order_by(RequestEvent.id)))
        assert [(event.attempt, event.to_status, event.staff.username) for event in events] == [
            ("no_answer", None, "frontdesk"),
            ("left_message", None, "frontdesk"),
            ("wrong_number", None, "frontdesk"),
            ("reached", "contacted", "frontdesk"),
        ]
        assert all(event.at for event in events)

    post(desk_client, reference, "attempts", {"outcome": "shouted"})
    assert len(stored(storage_app)) == 1
    with storage_app.app_context():
        assert db.session.scalar(select(RequestEvent).where(RequestEvent.attempt == "shouted")) is None


def test_new_to_booked_and_save_and_open_the_next_request(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, URGENT)
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Second"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Third"})
    first, second, third = (row.reference for row in stored(storage_app))
    with storage_app.app_context():  # the queue's order: the urgent one, then the oldest routine one
        older = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
        db.session.execute(update(ContactRequest).where(ContactRequest.reference == third).values(received_at=older))
        db.session.commit()

    finish = {"closing_outcome": "booked", "closing_note": "Dr Lee, Tue 2 pm"}
    assert post(desk_client, first, "status", {"status": "booked", "then": "next", **finish}) == (
        f"/staff/requests/{third}"
    )
    assert stored(storage_app)[0].status == "booked"
    assert f"Status of {first} changed to Booked." in page_text(desk_client, f"/staff/requests/{third}")
    assert post(desk_client, third, "status", {"status": "contacted", "then": "next"}) == f"/staff/requests/{second}"
    assert post(desk_client, second, "status", {"status": "closed", **finish}) == f"/staff/requests/{second}"  # stays
    assert post(desk_client, third, "status", {"status": "closed", "then": "next", **finish}) == "/staff/"
    assert "There is no other open request." in page_text(desk_client, "/staff/")
