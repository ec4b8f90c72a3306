"""The session cookie: encrypted, refused when idle or old, and dead once "Start again" ends it."""

from __future__ import annotations

import base64
import contextlib
import datetime
import zlib
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examples import COMPLETE
from symptomcheck.records.models import EndedSession, db
from symptomcheck.web import sessions
from tests.test_frontdesk import log_in, make_staff
from tests.test_journey import Patient

WARNING_SIGNS = {**COMPLETE, "red_flags": ["thunderclap_onset"]}


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def readable_forms(cookie: str) -> list[bytes]:
    """Return what anyone holding the cookie can read without the key: each dot-separated part, decoded."""
    found = []
    for part in cookie.lstrip(".").split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        found.append(raw)
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompress(raw))
    return found


def answered(client: FlaskClient) -> bool:
    """Say whether the session still holds the answers: the check page shows them, or sends back to page one."""
    return client.get("/check-answers").status_code == 200


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the sessions' clock forward by some hours."""
    offset = datetime.timedelta()
    real_now = sessions.now

    def later() -> datetime.datetime:
        return real_now() + offset

    def advance(hours: float) -> None:
        nonlocal offset
        offset += datetime.timedelta(hours=hours)

    monkeypatch.setattr(sessions, "now", later)
    return advance


def test_the_answers_cannot_be_read_from_the_cookie(client: FlaskClient) -> None:
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    assert answered(client)
    cookie = session_cookie(client)
    for text in readable_forms(cookie):
        for word in (b"answers", b"neck_origin", b"one_side_always_same", b"over_3_months", b"red_flags"):
            assert word not in text, f"{word!r} is readable in the cookie"


def test_another_key_cannot_open_the_cookie(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    Patient(client).answer_all(COMPLETE)
    cookie = session_cookie(client)
    other = make_app(SECRET_KEY="another-secret").test_client()
    other.set_cookie("session", cookie)
    assert not answered(other)
    same = make_app().test_client()
    same.set_cookie("session", cookie)
    assert answered(same)


def test_a_copy_taken_before_start_again_stops_working(storage_app: Flask) -> None:
    client = storage_app.test_client()
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    copy = session_cookie(client)
    token = patient.read("/result").find("input", attrs={"name": "csrf_token"})
    assert token is not None
    assert client.post("/start-again", data={"csrf_token": token["value"]}).status_code == 302
    assert not answered(client)
    thief = storage_app.test_client()
    thief.set_cookie("session", copy)
    assert not answered(thief)
    with storage_app.app_context():
        ended = [(row.session_id, row.expires_at) for row in db.session.scalars(select(EndedSession))]
    assert len(ended) == 1
    session_id, expires_at = ended[0]
    assert len(session_id) == 32  # a random id, and nothing else about the person
    started_in_12_hours = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=12)
    assert abs((expires_at.replace(tzinfo=datetime.UTC) - started_in_12_hours).total_seconds()) < 600


def test_a_session_idle_for_two_hours_ends(client: FlaskClient, clock: Callable[[float], None]) -> None:
    Patient(client).answer_all(COMPLETE)
    copy = session_cookie(client)
    clock(1.9)
    assert answered(client)  # used again within two hours: kept, and the idle timer starts again
    clock(1.9)
    assert answered(client)
    clock(2.1)
    assert not answered(client)
    client.set_cookie("session", copy)
    assert not answered(client)


def test_a_session_ends_after_12_hours_even_in_use(client: FlaskClient, clock: Callable[[float], None]) -> None:
    Patient(client).answer_all(COMPLETE)
    for _ in range(11):
        clock(1)
        assert answered(client)
    clock(1.1)
    assert not answered(client)


def test_the_limits_are_configurable(make_app: Callable[..., Flask], clock: Callable[[float], None]) -> None:
    client = make_app(SESSION_IDLE_MINUTES=10, SESSION_MAX_HOURS=1).test_client()
    Patient(client).answer_all(COMPLETE)
    clock(0.2)
    assert not answered(client)


def test_a_tampered_cookie_is_an_empty_session(client: FlaskClient) -> None:
    Patient(client).answer_all(COMPLETE)
    cookie = session_cookie(client)
    flipped = cookie[:-3] + ("A" if cookie[-3] != "A" else "B") + cookie[-2:]
    client.set_cookie("session", flipped)
    assert not answered(client)
    client.set_cookie("session", "not a cookie at all")
    assert client.get("/").status_code == 200


def test_staff_log_in_and_out_as_before_and_a_copy_from_before_logout_is_refused(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = storage_app.test_client()
    assert log_in(client).location == "/staff/"
    assert client.get("/staff/").status_code == 200
    copy = session_cookie(client)
    for text in readable_forms(copy):
        assert b"_user_id" not in text
    token = Patient(client).read("/staff/").find("input", attrs={"name": "csrf_token"})
    assert token is not None
    client.post("/staff/logout", data={"csrf_token": token["value"]})
    assert client.get("/staff/").status_code == 302
    thief = storage_app.test_client()
    thief.set_cookie("session", copy)
    assert thief.get("/staff/").status_code == 302  # to the login page


def test_another_worker_learns_of_an_ended_session_from_the_database_within_a_second(storage_app: Flask) -> None:
    from symptomcheck.web.sessions import EndedIds

    client = storage_app.test_client()
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    copy = session_cookie(client)
    token = patient.read("/result").find("input", attrs={"name": "csrf_token"})
    assert token is not None
    client.post("/start-again", data={"csrf_token": token["value"]})
    other_worker = EndedIds()  # knows nothing yet, as a worker that did not end it
    storage_app.extensions["ended_sessions"] = other_worker
    thief = storage_app.test_client()
    thief.set_cookie("session", copy)
    assert not answered(thief)  # its first look reads the database
    assert len(other_worker.ids) == 1
    other_worker.ids.clear()  # as if it had been ended since this worker's last read, less than a second ago
    assert answered(thief)  # the lag: at most a second, on another worker only
    other_worker.read_at -= EndedIds.READ_SECONDS
    assert not answered(thief)  # read again: the ended id is found however late it was written (the overlap)
