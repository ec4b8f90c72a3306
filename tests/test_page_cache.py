"""Pages kept once rendered: each person still gets their own answers, their own CSRF token, and fresh templates."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from symptomcheck.web import security
from symptomcheck.web.pagecache import PageCache

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def token_on(client: FlaskClient, path: str) -> str:
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found[1]


def kept_pages(app: Flask) -> int:
    cache: PageCache = app.extensions["page_cache"]
    return len(cache.pages)


def test_two_people_on_one_kept_page_get_their_own_token_and_each_works(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    tokens = [token_on(first, "/questions/about-you"), token_on(second, "/questions/about-you")]
    assert kept_pages(app) == 1  # the second person was served the kept page
    assert tokens[0] != tokens[1]
    for client, token in ((first, tokens[0]), (second, tokens[1])):
        answered = client.post("/questions/about-you", data={"age_band": "18_49", "csrf_token": token})
        assert answered.status_code == 302 and answered.location.endswith("/questions/warning-signs")
    stolen = first.post("/questions/about-you", data={"age_band": "18_49", "csrf_token": tokens[1]})
    assert stolen.status_code == 200 and "Please press Continue again" in stolen.get_data(as_text=True)


def test_a_kept_page_shows_each_person_their_own_answers(app: Flask) -> None:
    answered, fresh = app.test_client(), app.test_client()
    token = token_on(answered, "/questions/about-you")
    answered.post("/questions/about-you", data={"age_band": "50_plus", "csrf_token": token})
    mine = answered.get("/questions/about-you").get_data(as_text=True)
    theirs = fresh.get("/questions/about-you").get_data(as_text=True)
    assert re.search(r'value="50_plus"[^>]*checked', mine)
    assert "checked" not in theirs


def test_a_kept_page_is_kept_per_language_and_per_app(make_app: Callable[..., Flask]) -> None:
    app = make_app(CLINIC_NAME="First Clinic")
    client = app.test_client()
    english = client.get("/").get_data(as_text=True)
    client.get("/language/es")
    spanish = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="es"' in spanish and english != spanish
    other = make_app(CLINIC_NAME="Second Clinic").test_client().get("/").get_data(as_text=True)
    assert "First Clinic" in english and "Second Clinic" in other and "First Clinic" not in other


def test_no_page_is_kept_while_templates_reload(make_app: Callable[..., Flask]) -> None:
    app = make_app(TEMPLATES_AUTO_RELOAD=True)
    client = app.test_client()
    for path in ("/", "/learn", "/questions/about-you"):
        assert client.get(path).status_code == 200
    assert "page_cache" not in app.extensions or kept_pages(app) == 0


def test_a_page_without_a_form_sets_no_cookie_when_served_from_the_cache(app: Flask) -> None:
    app.test_client().get("/learn")
    again = app.test_client().get("/learn")
    assert kept_pages(app) == 1
    assert "Set-Cookie" not in again.headers


def test_the_cache_is_bounded() -> None:
    cache = PageCache(size=2)
    with Flask(__name__).test_request_context():
        for number in range(5):
            cache.page(number, lambda number=number: f"page {number}")
    assert list(cache.pages) == [3, 4]


def test_every_limit_names_its_methods_so_pages_read_with_get_skip_the_limiter(app: Flask) -> None:
    manager = security.limiter.limit_manager
    declared = [limit for limits in manager._decorated_limits.values() for limit in limits]
    assert declared and all(limit.methods for limit in declared)
    assert not security.limiter.applies_to("GET")


def test_a_flashed_message_is_shown_to_its_session_once_and_never_kept(app: Flask) -> None:
    app.test_client().get("/questions/about-you")  # the page is kept
    flashed = app.test_client()
    with flashed.session_transaction() as session:
        session["_flashes"] = [("message", "You were logged out")]
    assert "You were logged out" in flashed.get("/questions/about-you").get_data(as_text=True)
    assert "You were logged out" not in flashed.get("/questions/about-you").get_data(as_text=True)
    assert "You were logged out" not in app.test_client().get("/questions/about-you").get_data(as_text=True)
