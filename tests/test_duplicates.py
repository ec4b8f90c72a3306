"""Possible duplicates: the same phone or email within 7 days is flagged, and one can be merged into the other."""

from __future__ import annotations

import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from examples import COMPLETE
from symptomcheck.records.models import AuditEntry, ContactRequest, RequestEvent, db
from tests.helpers import check_page, text_of
from tests.test_frontdesk import CONTACT, send_request, stored
from tests.test_journey import Patient


def received_days_ago(app: Flask, reference: str, days: float) -> None:
    with app.app_context():
        at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
        db.session.execute(update(ContactRequest).where(ContactRequest.reference == reference).values(received_at=at))
        db.session.commit()


def queue_flags(client: FlaskClient) -> dict[str, str]:
    """Return each queue row's reference and the words of its flag, if any."""
    page = check_page(client.get("/staff/?status=all").data)
    flags = {}
    for row in page.select("tbody tr"):
        reference = row.find("a").get_text()
        flag = row.select_one(".duplicate-flag")
        flags[reference] = text_of(flag) if flag else ""
    return flags


def test_the_same_phone_in_any_format_or_email_in_any_case_within_7_days_is_flagged(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app, COMPLETE, {**CONTACT, "email": ""})  # phone (202) 555-0143
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "A. Lovelace", "phone": "+1 202.555.0143", "email": ""})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Ada L", "phone": "", "email": "ADA@example.ORG"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Ada Too", "phone": "", "email": "ada@example.org"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Old Ada", "phone": "202 555 0143", "email": ""})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Someone Else", "phone": "202 555 0199", "email": ""})
    by_phone, by_phone_too, by_email, by_email_too, old, other = (row.reference for row in stored(storage_app))
    received_days_ago(storage_app, old, 8)

    flags = queue_flags(desk_client)
    assert flags[by_phone] == f"Possible duplicate of {by_phone_too}"
    assert flags[by_phone_too] == f"Possible duplicate of {by_phone}"  # the old one is more than 7 days before
    assert flags[by_email] == f"Possible duplicate of {by_email_too}"
    assert flags[by_email_too] == f"Possible duplicate of {by_email}"
    assert flags[other] == ""
    assert flags[old] == ""  # 8 days before the others

    page = check_page(desk_client.get(f"/staff/requests/{by_phone}").data)
    notice = text_of(page.select_one(".duplicates"))
    assert f"{by_phone_too} : same phone, received" in notice  # the reference is a link
    assert page.select_one(".duplicates").find("a", href=f"/staff/requests/{by_phone_too}") is not None
    assert "Possible duplicate" not in text_of(check_page(desk_client.get(f"/staff/requests/{other}").data))


def test_an_update_of_changed_answers_is_not_a_duplicate(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app)
    send_request(storage_app)
    first, second = (row.reference for row in stored(storage_app))
    with storage_app.app_context():
        first_id = db.session.scalar(select(ContactRequest.id).where(ContactRequest.reference == first))
        db.session.execute(update(ContactRequest).where(ContactRequest.reference == second).values(updates_id=first_id))
        db.session.commit()
    assert queue_flags(desk_client) == {first: "", second: ""}


def test_merging_closes_one_with_a_link_to_the_one_kept_and_keeps_its_history(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app)
    send_request(storage_app, COMPLETE, {**CONTACT, "phone": "", "email": "ADA@example.org"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Someone Else", "phone": "202 555 0199", "email": ""})
    kept, duplicate, unrelated = (row.reference for row in stored(storage_app))
    desk = Patient(desk_client)
    page = desk.read(f"/staff/requests/{duplicate}")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    desk_client.post(f"/staff/requests/{duplicate}/notes", data={"note": "Called twice.", "csrf_token": token})

    refused = desk_client.post(f"/staff/requests/{unrelated}/merge", data={"kept": kept, "csrf_token": token})
    assert refused.location == f"/staff/requests/{unrelated}"
    assert f"{unrelated} is not a possible duplicate of {kept}" in text_of(desk.read(refused.location))
    assert desk_client.post(f"/staff/requests/{duplicate}/merge", data={"kept": kept}).status_code == 400  # no token

    form = desk.read(f"/staff/requests/{duplicate}").find("button", string=f"Merge this request into {kept}")
    assert form is not None
    merged = desk_client.post(f"/staff/requests/{duplicate}/merge", data={"kept": kept, "csrf_token": token})
    assert merged.location == f"/staff/requests/{kept}"
    page = text_of(desk.read(merged.location))
    assert f"{duplicate} was merged into {kept} and closed." in page
    assert f"Merged into this request: {duplicate}" in page
    assert f"{duplicate} was merged into this request." in page
    assert "Possible duplicate" not in page

    rows = {row.reference: row for row in stored(storage_app)}
    assert rows[duplicate].status == "closed"
    with storage_app.app_context():
        row = db.session.scalar(select(ContactRequest).where(ContactRequest.reference == duplicate))
        assert row.merged_into.reference == kept
        notes = [
            event.note for event in db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == row.id))
        ]
        assert notes == ["Called twice.", f"Merged into {kept}."]
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "merge")).one()
        assert (audit.reference, audit.detail) == (duplicate, f"merged into {kept}")
    page = text_of(desk.read(f"/staff/requests/{duplicate}"))
    assert f"this request was merged into {kept} and closed" in page
    assert "Status: New to Closed. Merged into" in page
    assert "Called twice." in page
    assert queue_flags(desk_client)[kept] == ""  # a merged request is no longer a possible duplicate

    again = desk_client.post(f"/staff/requests/{duplicate}/merge", data={"kept": kept, "csrf_token": token})
    assert f"{duplicate} is not a possible duplicate of {kept}" in text_of(desk.read(again.location))


def test_purging_the_request_kept_leaves_the_merged_one_without_the_link(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app)
    send_request(storage_app)
    kept, duplicate = (row.reference for row in stored(storage_app))
    token = Patient(desk_client).read(f"/staff/requests/{duplicate}").find("input", attrs={"name": "csrf_token"})
    desk_client.post(f"/staff/requests/{duplicate}/merge", data={"kept": kept, "csrf_token": token["value"]})
    with storage_app.app_context():
        long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=120)
        db.session.execute(
            update(ContactRequest)
            .where(ContactRequest.reference == kept)
            .values(status="closed", status_changed_at=long_ago)
        )
        db.session.commit()
    result = storage_app.test_cli_runner().invoke(args=["requests", "purge", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    (left,) = stored(storage_app)
    assert (left.reference, left.status, left.merged_into_id) == (duplicate, "closed", None)
