"""Retention: open requests get a longer limit with a warning first; the purge command reads its period strictly."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from symptomcheck.records.models import AuditEntry, ContactRequest, db
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import send_request, stored


def age(app: Flask, days_by_status: list[tuple[str, float]]) -> list[str]:
    """Send one request per entry, set its status and how many days ago it last changed; return the references."""
    for _ in days_by_status:
        send_request(app)
    with app.app_context():
        rows = db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)).all()
        for row, (status, days) in zip(rows, days_by_status, strict=True):
            row.status = status
            row.status_changed_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
        db.session.commit()
        return [row.reference for row in rows]


def purge(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["requests", "purge", *args])
    return result.exit_code, result.output


def test_requests_left_open_are_purged_after_the_longer_limit(storage_app: Flask) -> None:
    age(storage_app, [("new", 400), ("contacted", 366), ("new", 300), ("closed", 100), ("closed", 10)])
    code, output = purge(storage_app)
    assert code == 0, output
    assert "Deleted 1 finished request(s) closed more than 90 days ago." in output
    assert "Deleted 2 request(s) never moved past new or contacted for more than 365 days." in output
    assert [(row.status, row.level) for row in stored(storage_app)] == [("new", "routine"), ("closed", "routine")]


def test_staff_are_warned_before_an_open_request_is_deleted(storage_app: Flask, desk_client: FlaskClient) -> None:
    soon, later, finished = age(storage_app, [("new", 350), ("contacted", 200), ("closed", 350)])
    warning = check_page(desk_client.get(f"/staff/requests/{soon}").data).find(id="retention-warning")
    assert warning is not None
    assert "It will be deleted on" in text_of(warning)
    for reference in (later, finished):
        assert check_page(desk_client.get(f"/staff/requests/{reference}").data).find(id="retention-warning") is None
    code, output = purge(storage_app)
    assert code == 0
    assert "Warning: 1 open request(s) will be deleted within 30 days unless they move on." in output


def test_the_limits_are_configurable(make_app: Callable[..., Flask]) -> None:
    app = make_app(OPEN_RETENTION_DAYS=100, RETENTION_WARNING_DAYS=5)
    age(app, [("new", 101), ("new", 96), ("new", 90)])
    code, output = purge(app)
    assert code == 0
    assert "Deleted 1 request(s) never moved past new or contacted for more than 100 days." in output
    assert "Warning: 1 open request(s) will be deleted within 5 days" in output


@pytest.mark.parametrize(
    ("given", "problem"),
    [("soon", "cannot be read"), ("0d", "out of range"), ("-5d", "cannot be read"), ("90", "cannot be read"),
     ("99999999999d", "cannot be read"), ("40000d", "out of range"), ("1.5d", "cannot be read")],
)  # fmt: skip
def test_purge_refuses_a_period_it_cannot_read(app: Flask, given: str, problem: str) -> None:
    send_request(app)
    code, output = purge(app, "--older-than", given)
    assert code == 2, output
    assert problem in output
    assert "Traceback" not in output
    assert len(stored(app)) == 1


def test_purge_reports_hours_as_hours(app: Flask) -> None:
    code, output = purge(app, "--older-than", "36h")
    assert code == 0, output
    assert "closed more than 36 hours ago" in output
    assert "day" not in output.splitlines()[0]
    assert "closed more than 2 days ago" in purge(app, "--older-than", "48h")[1]
    assert "closed more than 1 day ago" in purge(app, "--older-than", "1d")[1]


def test_open_requests_are_never_kept_shorter_than_finished_ones(app: Flask) -> None:
    code, output = purge(app, "--older-than", "90d", "--open-older-than", "30d")
    assert code == 2
    assert "shorter than 90 days" in output


def test_head_on_a_request_page_writes_no_audit_entry(storage_app: Flask, desk_client: FlaskClient) -> None:
    (reference,) = age(storage_app, [("new", 1)])
    before = len(detached_rows(storage_app, AuditEntry))
    assert desk_client.head(f"/staff/requests/{reference}").status_code == 200
    assert len(detached_rows(storage_app, AuditEntry)) == before
    assert desk_client.get(f"/staff/requests/{reference}").status_code == 200
    entries = detached_rows(storage_app, AuditEntry)
    assert [(entry.action, entry.reference) for entry in entries[before:]] == [("view", reference)]
