"""Bounded fault tests under gunicorn on PostgreSQL, loopback only: nothing lost, nothing doubled, no bare 500.

Sixteen visitors answer every page over real HTTP, then each sends a few contact
requests, each from a fresh form, as a person would: on a 503 or a dropped
connection they press Send again on the same form (the same one-time token).
Meanwhile one fault is made: (a) the app's PostgreSQL connections are
terminated several times, (b) a gunicorn worker is killed, or (c) the rate
limiter points at a port where nothing listens. Then every confirmed reference
must be stored exactly once, no request stored without its confirmation (a
retry finds it), no answer a bare 500, and the app serve again by itself.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from bench.server import Server, serve
from bench.visitor import Visitor
from symptomcheck import create_app
from symptomcheck.records.models import ContactRequest, db
from tests.helpers import RULES_FILE, empty_tables

pytestmark = pytest.mark.load
CONCURRENCY, SENDS = 16, 4
TRIES = 12  # a person presses Send again at most this many times
APP_NAME = "symptomcheck-faults"  # the application_name of the app's connections: only these are terminated


@dataclass
class Tally:
    """What the visitors saw: each form's token and the reference confirmed for it (None: never confirmed)."""

    confirmed: dict[str, str | None] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)  # 0 counts a dropped connection
    bare: list[str] = field(default_factory=list)  # 5xx answers that were not the app's own page
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int, page: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500 and not ('<html lang="' in page and "Resolution Spine" in page):
                self.bare.append(f"{status}: {page[:80]!r}")


def port_where_nothing_listens() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def patiently(action: Callable[[], tuple[int, str, str]], tally: Tally) -> tuple[int, str, str]:
    """Do a GET again after a dropped connection or a 503, a few times, as a person reloading would."""
    for attempt in range(TRIES):
        try:
            status, location, page = action()
        except (OSError, http.client.HTTPException):
            tally.saw(0)
            time.sleep(0.05 * (attempt + 1))
            continue
        tally.saw(status, page)
        if status != 503:
            return status, location, page
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("the page never came back")


def send_until_confirmed(visitor: Visitor, tally: Tally) -> None:
    """Send one contact request from a fresh form, pressing Send again on the same form until it is confirmed."""
    status, _, page = patiently(lambda: visitor.open("/contact"), tally)
    assert status == 200, status
    form = visitor.contact_form_from(page)
    reference = None
    for attempt in range(TRIES):
        try:
            status, location, page = visitor.open("/contact", form)
        except (OSError, http.client.HTTPException):  # the worker died under the request, or the reply was cut
            tally.saw(0)
        else:
            tally.saw(status, page)
            if status == 302 and location.endswith("/contact/sent"):
                _, _, sent = patiently(lambda: visitor.open("/contact/sent"), tally)
                reference = visitor.reference_in(sent)
                break
            assert status == 503, f"the contact form answered {status}"
        time.sleep(0.05 * (attempt + 1))
    with tally.lock:
        tally.confirmed[form["submission"]] = reference


def run_visitors(base: str, tally: Tally, during: Callable[[], None]) -> None:
    """Answer every page with each visitor, then send while the fault is made."""
    ready = threading.Barrier(CONCURRENCY + 1)

    def visit() -> None:
        visitor = Visitor(base, behind_proxy=True)
        visitor.answer_everything()
        ready.wait(timeout=60)
        for _ in range(SENDS):
            send_until_confirmed(visitor, tally)

    with ThreadPoolExecutor(CONCURRENCY + 1) as pool:
        visits = [pool.submit(visit) for _ in range(CONCURRENCY)]
        ready.wait(timeout=60)
        during()
        for visit_done in visits:
            visit_done.result()


def stored_references(app: Flask) -> dict[str | None, list[str]]:
    """Return each stored request's token and reference(s)."""
    found: dict[str | None, list[str]] = {}
    with app.app_context():
        for token, reference in db.session.query(ContactRequest.submission_token, ContactRequest.reference):
            found.setdefault(token, []).append(reference)
        db.session.remove()
        db.engine.dispose()
    return found


def check_nothing_lost_or_doubled(app: Flask, tally: Tally, base: str) -> None:
    stored = stored_references(app)
    assert not tally.bare, tally.bare
    assert 500 not in tally.statuses, tally.statuses
    assert len(tally.confirmed) == CONCURRENCY * SENDS
    unconfirmed = [token for token, reference in tally.confirmed.items() if reference is None]
    assert not unconfirmed, f"{len(unconfirmed)} never confirmed; statuses {tally.statuses}"
    assert None not in stored  # every request came from a form with its token
    for token, references in stored.items():
        assert len(references) == 1, references
        assert tally.confirmed.get(token) == references[0], "stored, but its reference was never confirmed"
    assert sorted(tally.confirmed.values()) == sorted(ref for refs in stored.values() for ref in refs)
    # Recovered by itself: new visitors are served at the first try.
    after = Tally()
    visitor = Visitor(base, behind_proxy=True)
    visitor.answer_everything()
    for _ in range(3):
        send_until_confirmed(visitor, after)
    assert set(after.statuses) <= {200, 302}, after.statuses


@pytest.fixture
def postgresql_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set, so the fault tests against PostgreSQL are skipped")
    return url


def app_and_env(url: str, **extra: str) -> tuple[Flask, dict[str, str]]:
    app = create_app({"SECRET_KEY": "faults", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": url, "AUTO_MIGRATE": True})
    empty_tables(app)
    with app.app_context():
        db.engine.dispose()
    env = {
        "DATABASE_URL": make_url(url).update_query_dict({"application_name": APP_NAME}).render_as_string(False),
        "SYMPTOMCHECK_SECRET_KEY": "fault-test-secret",  # the same on both workers
        "SYMPTOMCHECK_PROXY_HOPS": "1",  # each visitor its own address, so the limits stay on and let them through
        **extra,
    }
    return app, env


def terminate_app_connections(url: str) -> int:
    """End every PostgreSQL connection the app holds now; return how many."""
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,)
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


def test_terminated_database_connections_lose_nothing(postgresql_url: str) -> None:
    app, env = app_and_env(postgresql_url)
    tally, terminated = Tally(), []

    def terminate_several_times() -> None:
        for _ in range(6):
            time.sleep(0.3)
            terminated.append(terminate_app_connections(postgresql_url))

    with serve("symptomcheck:create_app()", env) as server:
        run_visitors(server.base, tally, terminate_several_times)
        check_nothing_lost_or_doubled(app, tally, server.base)
    assert sum(terminated) >= 2, terminated  # the fault was really made


def test_a_killed_worker_loses_nothing(postgresql_url: str) -> None:
    app, env = app_and_env(postgresql_url)
    tally, killed = Tally(), []

    def kill_a_worker(server: Server) -> Callable[[], None]:
        def kill() -> None:
            time.sleep(0.3)
            victim = server.workers()[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

        return kill

    with serve("symptomcheck:create_app()", env) as server:
        run_visitors(server.base, tally, kill_a_worker(server))
        check_nothing_lost_or_doubled(app, tally, server.base)
        deadline = time.monotonic() + 60
        while len(server.workers()) < 2 and time.monotonic() < deadline:  # gunicorn starts another
            time.sleep(0.1)
        assert len(server.workers()) == 2
        assert killed[0] not in server.workers()


def test_an_unreachable_limit_store_stops_nobody(postgresql_url: str) -> None:
    app, env = app_and_env(
        postgresql_url, SYMPTOMCHECK_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port_where_nothing_listens()}"
    )
    tally = Tally()
    with serve("symptomcheck:create_app()", env) as server:
        run_visitors(server.base, tally, lambda: None)
        check_nothing_lost_or_doubled(app, tally, server.base)
    assert set(tally.statuses) <= {200, 302}, tally.statuses  # not one 5xx, not one dropped connection
