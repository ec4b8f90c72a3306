"""A bounded load test: 2,000 contact requests at concurrency 16, under gunicorn, on PostgreSQL.

Each of 16 visitors answers every page once over real HTTP, then sends the
contact request again and again with its session, as a person pressing Send
would. Rate limits are off here: they would (rightly) stop one address after 10.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from bench.server import gunicorn
from bench.visitor import send_contact_requests
from symptomcheck import create_app
from symptomcheck.records.models import ContactRequest, db
from tests.helpers import RULES_FILE, empty_tables

REQUESTS, CONCURRENCY = 2_000, 16
pytestmark = pytest.mark.load


@pytest.fixture
def postgresql_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set, so the load test against PostgreSQL is skipped")
    return url


def empty_database(url: str) -> Flask:
    """Migrate the database and empty every table; return an app to count rows with."""
    app = create_app({"SECRET_KEY": "load", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": url, "AUTO_MIGRATE": True})
    empty_tables(app)
    with app.app_context():
        db.engine.dispose()
    return app


def test_2000_contact_requests_at_concurrency_16_are_all_stored(postgresql_url: str) -> None:
    app = empty_database(postgresql_url)
    env = {
        "DATABASE_URL": postgresql_url,
        "SYMPTOMCHECK_SECRET_KEY": "load-test-secret",  # the same on both workers
        "SYMPTOMCHECK_RATELIMIT_ENABLED": "false",
    }
    with gunicorn("symptomcheck:create_app()", env) as base_url, ThreadPoolExecutor(CONCURRENCY) as pool:
        per_visitor = pool.map(send_contact_requests, [base_url] * CONCURRENCY, [REQUESTS // CONCURRENCY] * CONCURRENCY)
        statuses = sum(per_visitor, Counter[int]())

    with app.app_context():
        stored = db.session.query(ContactRequest).count()
        references = {reference for (reference,) in db.session.query(ContactRequest.reference)}
        db.session.remove()
        db.engine.dispose()
    assert sum(statuses.values()) == REQUESTS
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[302] == REQUESTS, statuses  # every request answered with "sent"
    assert stored == statuses[302]
    assert len(references) == stored  # every reference is unique
