"""The desk's hours and targets: due times as a pure function, and the queue that shows them."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from examples import COMPLETE
from symptomcheck.records import desk
from symptomcheck.records.models import ContactRequest, db
from tests.helpers import check_page, text_of
from tests.test_frontdesk import CONTACT, send_request

NEW_YORK = ZoneInfo("America/New_York")
HOURS = desk.parse_hours({"holidays": ["2026-12-25"]})
URGENT = {**COMPLETE, "red_flags": ["fever"]}
SOON = {**COMPLETE, "red_flags": ["progressive"]}


def local(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


# 2026-12-01 is a Tuesday; the desk is open 08:00-18:00 Monday to Thursday, 08:00-17:00 on Friday.
@pytest.mark.parametrize(
    ("received", "level", "due"),
    [
        ("2026-12-01 10:00", "urgent", "2026-12-01 11:00"),
        ("2026-12-01 07:00", "urgent", "2026-12-01 09:00"),  # before opening: the hour starts at 08:00
        ("2026-12-01 17:30", "urgent", "2026-12-02 08:30"),  # half an hour today, half tomorrow
        ("2026-12-05 09:00", "urgent", "2026-12-07 09:00"),  # a Saturday: Monday morning
        ("2026-12-04 16:45", "urgent", "2026-12-07 08:45"),  # Friday closes at 17:00
        ("2026-12-01 10:00", "soon", "2026-12-01 18:00"),
        ("2026-12-01 19:00", "soon", "2026-12-02 18:00"),  # after closing: the next working day
        ("2026-12-04 17:30", "soon", "2026-12-07 18:00"),
        ("2026-12-01 10:00", "routine", "2026-12-03 18:00"),
        ("2026-12-24 10:00", "routine", "2026-12-29 18:00"),  # Christmas (a holiday) and the weekend skipped
        ("2026-12-05 12:00", "routine", "2026-12-08 18:00"),  # from a Saturday: Monday is the first day
        ("2026-12-01 10:00", "self_care", "2026-12-08 18:00"),
        ("2027-03-12 16:30", "urgent", "2027-03-15 08:30"),  # across the change to daylight saving time
    ],
)
def test_due_time_counts_only_working_time(received: str, level: str, due: str) -> None:
    found = desk.due_at(local(received), level, HOURS)
    assert found is not None
    assert found.tzinfo == datetime.UTC
    assert found == local(due).astimezone(datetime.UTC)


def test_due_time_from_a_utc_time_and_from_sqlite_naive_utc() -> None:
    received = datetime.datetime(2026, 12, 1, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
    expected = datetime.datetime(2026, 12, 1, 16, 0, tzinfo=datetime.UTC)
    assert desk.due_at(received, "urgent", HOURS) == expected
    assert desk.due_at(received.replace(tzinfo=None), "urgent", HOURS) == expected


def test_next_call_window_is_in_the_clinic_time_zone() -> None:
    window = desk.next_call_window(local("2026-12-04 17:30"), "urgent", HOURS)
    assert window.tzinfo == NEW_YORK
    assert (window.strftime("%A %H:%M")) == "Monday 09:00"
    with pytest.raises(ValueError, match="no response target"):
        desk.next_call_window(local("2026-12-04 17:30"), "unknown", HOURS)


def test_targets_and_hours_are_configurable() -> None:
    hours = desk.parse_hours(
        {
            "time_zone": "Europe/Madrid",
            "week": {"sat": "09:00-13:00"},
            "targets": {"urgent": "30 working minutes", "routine": "1 working day"},
        }
    )
    saturday = datetime.datetime(2026, 12, 5, 12, 45, tzinfo=ZoneInfo("Europe/Madrid"))
    assert desk.due_at(saturday, "urgent", hours) == datetime.datetime(2026, 12, 7, 7, 15, tzinfo=datetime.UTC)
    assert str(hours.targets["urgent"]) == "30 working minutes"
    assert str(hours.targets["soon"]) == "same working day"  # a default kept
    assert desk.is_open(saturday, hours)
    assert not desk.is_open(saturday + datetime.timedelta(hours=1), hours)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"targets": {"urgent": "soonish"}}, "is not a target"),
        ({"week": {"funday": "08:00-18:00"}}, "unknown weekday"),
        ({"week": {"mon": "18:00-08:00"}}, "must close after it opens"),
        ({"week": dict.fromkeys(desk.WEEKDAYS)}, "open on at least one weekday"),
    ],
)
def test_unusable_hours_are_refused(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        desk.parse_hours(setting)


def test_the_app_does_not_start_with_unusable_hours(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(SystemExit, match="DESK_HOURS cannot be used"):
        make_app(DESK_HOURS={"time_zone": "Mars/Olympus_Mons"})


def test_waiting_time_in_words() -> None:
    start = local("2026-12-01 10:00")
    assert desk.waited(start, start + datetime.timedelta(minutes=12)) == "12 min"
    assert desk.waited(start, start + datetime.timedelta(hours=3, minutes=5)) == "3 h 05 min"
    assert desk.waited(start, start + datetime.timedelta(days=2, hours=4)) == "2 d 4 h"


def received_ago(app: Flask, reference: str, ago: datetime.timedelta) -> None:
    with app.app_context():
        when = datetime.datetime.now(datetime.UTC) - ago
        db.session.execute(update(ContactRequest).where(ContactRequest.reference == reference).values(received_at=when))
        db.session.commit()


def references(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ContactRequest.reference).order_by(ContactRequest.id)))


def queue_rows(client: FlaskClient, query: str = "") -> list[Any]:
    page = check_page(client.get(f"/staff/{query}").data)
    return page.select("table.table--queue tbody tr")


def test_queue_shows_waiting_and_due_time_and_marks_overdue_rows(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, URGENT)
    send_request(storage_app, SOON, {**CONTACT, "name": "Grace Hopper"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Alan Turing"})
    late_urgent, fresh_soon, routine = references(storage_app)
    received_ago(storage_app, late_urgent, datetime.timedelta(days=3, minutes=7))
    received_ago(storage_app, routine, datetime.timedelta(days=7))

    rows = {row.find("a").get_text(): row for row in queue_rows(desk_client)}
    late = rows[late_urgent]
    assert "row--overdue" in late["class"]
    assert "Overdue" in text_of(late)
    assert "was due" in text_of(late)
    assert "3 d 0 h" in text_of(late)
    assert "Urgent (care today)" in text_of(late)
    assert "Ada Lovelace" in text_of(late)
    assert "+1 202-555-0143" in text_of(late)
    fresh = rows[fresh_soon]
    assert not fresh.get("class")
    assert "Overdue" not in text_of(fresh)
    due = desk.due_at(datetime.datetime.now(datetime.UTC), "soon", HOURS)
    assert due is not None
    due_words = rf"by (today|tomorrow|\w{{3}} \d{{1,2}} \w{{3}}) {due.astimezone(NEW_YORK):%H:%M}"
    assert re.search(due_words, text_of(fresh)), text_of(fresh)
    assert "0 min" in text_of(fresh)
    assert "Soon (within a week)" in text_of(fresh)
    assert "Overdue" in text_of(rows[routine])  # a week is more than two working days
    # Every time is in the clinic's time zone.
    page = text_of(check_page(desk_client.get("/staff/").data))
    assert "clinic's time zone (America/New_York)" in page
    assert "UTC" not in page


def test_overdue_first_order(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, URGENT)
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Late Routine"})
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Later Routine"})
    urgent, late, later = references(storage_app)
    received_ago(storage_app, late, datetime.timedelta(days=7))
    received_ago(storage_app, later, datetime.timedelta(days=10))

    by_urgency = [row.find("a").get_text() for row in queue_rows(desk_client)]
    assert by_urgency == [urgent, later, late]  # most urgent, then oldest
    overdue_first = [row.find("a").get_text() for row in queue_rows(desk_client, "?order=overdue")]
    assert overdue_first == [later, late, urgent]  # the most late first
    assert desk_client.get("/staff/?order=sideways").status_code == 400


def test_request_page_shows_its_due_time_in_the_clinic_zone(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, URGENT)
    (reference,) = references(storage_app)
    received_ago(storage_app, reference, datetime.timedelta(days=4))
    page = text_of(check_page(desk_client.get(f"/staff/requests/{reference}").data))
    assert "Overdue: was due by" in page
    assert "(target: 1 working hour)" in page
    assert "EST" in page or "EDT" in page
    assert "UTC" not in page


def test_the_queue_refreshes_itself_and_counts_urgent_requests_in_its_title(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app, URGENT)
    send_request(storage_app, URGENT, {**CONTACT, "name": "Second Urgent"})
    send_request(storage_app, SOON, {**CONTACT, "name": "Not Urgent"})
    late, _, _ = references(storage_app)
    received_ago(storage_app, late, datetime.timedelta(days=3))
    # Refreshing is opt-in (a forced timed refresh fails WCAG 2.2.1), and the choice keeps the filters.
    plain = check_page(desk_client.get("/staff/?level=urgent").data)
    assert plain.find("meta", attrs={"http-equiv": "refresh"}) is None
    turn_on = plain.find("a", string="Refresh this page every minute")
    assert turn_on is not None and "refresh=1" in turn_on["href"] and "level=urgent" in turn_on["href"]
    page = check_page(desk_client.get("/staff/?refresh=1").data)
    refresh = page.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh is not None
    assert refresh["content"] == "60"
    assert page.find("a", string="Stop refreshing") is not None
    assert page.title is not None
    assert page.title.get_text().startswith("(2 new urgent, 1 overdue) Contact requests")
    assert "2 new urgent requests waiting, 1 overdue." in text_of(page)
    # Only the queue refreshes: a page with a form being filled in must not.
    request_page = check_page(desk_client.get(f"/staff/requests/{late}").data)
    assert request_page.find("meta", attrs={"http-equiv": "refresh"}) is None
    patient_page = check_page(storage_app.test_client().get("/").data)
    assert patient_page.find("meta", attrs={"http-equiv": "refresh"}) is None


def test_title_without_urgent_requests(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, SOON)
    page = check_page(desk_client.get("/staff/").data)
    assert page.title is not None
    assert page.title.get_text().startswith("Contact requests")


def queue_names(client: FlaskClient, query: str) -> list[str]:
    return [row.find_all("td")[1].find("bdi").get_text().strip() for row in queue_rows(client, query)]  # type: ignore[union-attr]


def test_search_by_reference_name_phone_or_email_within_the_filters(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    send_request(storage_app, URGENT)  # Ada Lovelace, (202) 555-0143, Ada@Example.org
    send_request(storage_app, COMPLETE, {**CONTACT, "name": "Grace Hopper", "phone": "+44 20 7946 0958",
                                         "email": "grace@navy.example"})  # fmt: skip
    send_request(storage_app, SOON, {**CONTACT, "name": "Adam Smith", "phone": "", "email": "adam@econ.example"})
    ada, grace, _ = references(storage_app)

    for typed in (ada, ada.lower(), ada.replace("-", ""), ada.replace("-", "").lower(), f" {ada[:4]} {ada[5:]} "):
        assert queue_names(desk_client, f"?q={typed}") == ["Ada Lovelace"], typed
    assert queue_names(desk_client, f"?q={grace.replace('-', '').lower()}") == ["Grace Hopper"]
    assert queue_names(desk_client, "?q=hopper") == ["Grace Hopper"]
    assert queue_names(desk_client, "?q=ADA") == ["Ada Lovelace", "Adam Smith"]  # name or email contains it
    for typed in ("(202) 555-0143", "202.555.0143", "+1 202 555 0143", "2025550143"):
        assert queue_names(desk_client, f"?q={typed}") == ["Ada Lovelace"], typed
    assert queue_names(desk_client, "?q=%2B44 20 7946 0958") == ["Grace Hopper"]
    assert queue_names(desk_client, "?q=020 7946 0958") == []  # a UK number written as in the UK needs its +44
    assert queue_names(desk_client, "?q=GRACE@NAVY.EXAMPLE") == ["Grace Hopper"]
    # Within the filters: the search does not widen them.
    assert queue_names(desk_client, "?q=ada&level=soon") == ["Adam Smith"]
    assert queue_names(desk_client, "?q=ada&status=booked") == []
    page = text_of(check_page(desk_client.get("/staff/?q=nobody").data))
    assert "No requests match these filters and the search “nobody”." in page
    # The search box keeps what was typed.
    form = check_page(desk_client.get("/staff/?q=hopper").data)
    assert form.find(id="q")["value"] == "hopper"


def test_queue_shows_names_language_and_words_not_codes(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, COMPLETE)
    (row,) = queue_rows(desk_client)
    words = text_of(row)
    assert "Ada Lovelace" in words
    assert "+1 202-555-0143" in words
    assert "Routine visit" in words
    assert "English" in words
    assert "_" not in words
    assert "cgh" not in words


@pytest.mark.parametrize(
    ("at", "open_"),
    [("2026-12-01 08:00", True), ("2026-12-01 07:59", False), ("2026-12-01 17:59", True), ("2026-12-01 18:00", False)],
)
def test_the_desk_opens_at_its_opening_minute_and_is_closed_at_its_closing_one(at: str, open_: bool) -> None:
    assert desk.is_open(local(at).astimezone(datetime.UTC), HOURS) is open_


def test_open_is_read_on_the_clinics_calendar_not_utcs() -> None:
    late = desk.parse_hours({"week": {"mon": "08:00-22:00", "tue": None}})
    monday_evening = local("2026-11-30 20:00").astimezone(datetime.UTC)  # already Tuesday in UTC
    assert desk.is_open(monday_evening, late)


def test_a_target_that_ends_at_closing_time_is_due_then_and_a_request_at_closing_starts_tomorrow() -> None:
    assert desk.due_at(local("2026-12-01 17:00"), "urgent", HOURS) == local("2026-12-01 18:00").astimezone(datetime.UTC)
    at_closing = desk.add_working_minutes(local("2026-12-01 18:00"), 0, HOURS)
    assert at_closing == local("2026-12-02 08:00")


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (desk.Target("days", 2), "2 working days"),
        (desk.Target("days", 1), "1 working day"),
        (desk.Target("minutes", 60), "1 working hour"),
        (desk.Target("minutes", 120), "2 working hours"),
        (desk.Target("minutes", 15), "15 working minutes"),
        (desk.Target("same_day", 0), "same working day"),
    ],
)
def test_targets_in_words(target: desk.Target, words: str) -> None:
    assert str(target) == words


def test_a_request_is_overdue_only_after_its_due_moment() -> None:
    due = local("2026-12-01 11:00").astimezone(datetime.UTC)
    assert not desk.is_overdue(due, "new", due)
    assert desk.is_overdue(due, "new", due + datetime.timedelta(seconds=1))
    assert not desk.is_overdue(due, "contacted", due + datetime.timedelta(hours=1))
