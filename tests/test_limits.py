"""Rate limits fail open, count only what was stored, and say the real wait."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable

import pytest
from flask import Flask

from examples import COMPLETE, page_posts
from symptomcheck.records.models import ContactRequest
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import CONTACT
from tests.test_journey import Patient


def port_where_nothing_listens() -> int:
    """Return a loopback port that was free a moment ago and is not listened on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_with_the_limit_store_down_every_page_still_works(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port_where_nothing_listens()}")
    patient = Patient(app.test_client())
    caplog.set_level(logging.INFO)
    for slug, fields in page_posts(COMPLETE):
        response = patient.submit(f"/questions/{slug}", fields)
        assert response.status_code == 302, slug  # the warning-signs page too, where emergency advice is given
    assert patient.submit("/contact", CONTACT).location == "/contact/sent"
    assert [row.name for row in detached_rows(app, ContactRequest)] == ["Ada Lovelace"]
    limiter_lines = [record for record in caplog.records if record.name == "flask-limiter"]
    assert len(limiter_lines) == 1, [record.getMessage() for record in limiter_lines]
    assert "unreachable" in limiter_lines[0].getMessage()
    assert limiter_lines[0].exc_info is None


def test_with_the_store_down_the_limits_are_still_counted_in_memory(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port_where_nothing_listens()}")
    client = app.test_client()
    answers = {"answers": {"age_band": "18_49", "red_flags": ["thunderclap"]}}
    statuses = [client.post("/api/v1/assessments", json=answers).status_code for _ in range(61)]
    assert statuses.count(200) == 60
    assert statuses[-1] == 429


def test_a_form_that_failed_validation_does_not_count_against_the_contact_limit(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    patient = Patient(app.test_client())
    patient.answer_all(COMPLETE)
    for _ in range(12):  # no name: the form answers with its message, and nothing is stored or counted
        response = patient.submit("/contact", {**CONTACT, "name": ""})
        assert response.status_code == 200
        assert "Enter your name" in text_of(check_page(response.data))
    for _ in range(10):
        assert patient.submit("/contact", CONTACT).location == "/contact/sent"
    assert len(detached_rows(app, ContactRequest)) == 10
    assert patient.submit("/contact", CONTACT).status_code == 429
    assert len(detached_rows(app, ContactRequest)) == 10


def test_the_429_page_gives_the_real_wait_keeps_what_was_typed_and_the_phone(make_app: Callable[..., Flask]) -> None:
    app = make_app(CLINIC_PHONE="(202) 555-0100")
    patient = Patient(app.test_client())
    patient.answer_all(COMPLETE)
    for _ in range(10):
        assert patient.submit("/contact", CONTACT).location == "/contact/sent"
    refused = patient.submit("/contact", {**CONTACT, "name": "Grace Hopper"})
    assert refused.status_code == 429
    assert 3000 < int(refused.headers["Retry-After"]) <= 3600
    page = check_page(refused.data)
    text = text_of(page)
    wait = re.search(r"Please wait about (\d+) minutes, then try again\.", text)
    assert wait, text
    assert 50 <= int(wait[1]) <= 60  # an hour's limit: not "a minute"
    assert int(wait[1]) == round(int(refused.headers["Retry-After"]) / 60)  # the same wait as the header says
    assert "a minute" not in text
    name = page.find("input", attrs={"name": "name"})
    assert name is not None
    assert name["value"] == "Grace Hopper"  # what was typed is kept on the page, not stored
    assert "phone the clinic at (202) 555-0100" in text
    assert page.find("a", href="tel:(202) 555-0100")
    assert "In an emergency, call 911 now." in text
    assert len(detached_rows(app, ContactRequest)) == 10


def test_a_question_page_stopped_by_its_limit_keeps_the_answers_typed(make_app: Callable[..., Flask]) -> None:
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    statuses = [client.post("/questions/about-you", data={"age_band": "18_49"}).status_code for _ in range(60)]
    assert statuses == [302] * 60
    refused = client.post("/questions/about-you", data={"age_band": "50_plus"})
    assert refused.status_code == 429
    page = check_page(refused.data)
    assert re.search(r"Please wait about 1 minute, then try again\.", text_of(page))
    chosen = page.find("input", attrs={"name": "age_band", "checked": True})
    assert chosen is not None
    assert chosen["value"] == "50_plus"


@pytest.mark.parametrize("setting", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"])
def test_a_site_wide_limit_an_operator_sets_is_applied_to_every_page(
    make_app: Callable[..., Flask], setting: str
) -> None:
    """SYMPTOMCHECK_RATELIMIT_DEFAULT or _APPLICATION limits every page, GETs too, not only the routes' own limits."""
    from symptomcheck.web.security import limiter

    try:
        client = make_app(**{setting: "2 per minute"}).test_client()
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    finally:  # one limiter serves every app in the process, and keeps limits once set: later tests start without
        limiter.limit_manager.set_default_limits([])
        limiter.limit_manager.set_application_limits([])
    assert [make_app().test_client().get("/").status_code for _ in range(3)] == [200, 200, 200]


def test_an_api_client_is_told_its_limit_and_how_many_tries_are_left(make_app: Callable[..., Flask]) -> None:
    """A script using the API can pace itself: each answer says the limit and the tries left in it."""
    client = make_app().test_client()
    answers = {"answers": {"age_band": "18_49", "red_flags": ["thunderclap"]}}
    first, second = (client.post("/api/v1/assessments", json=answers).headers for _ in range(2))
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("60", "59")
    assert second["X-RateLimit-Remaining"] == "58"
