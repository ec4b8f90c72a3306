"""The speed changes (issue 13) keep what they replaced: each shortcut gives what the long way gave."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from flask import Flask

from examples import COMPLETE
from symptomcheck.web import i18n, sessions
from tests.helpers import check_page, text_of
from tests.test_journey import Patient
from tests.test_sessions import answered, session_cookie


def test_rate_limit_headers_come_with_a_counted_post_and_not_with_a_get(client: Flask) -> None:
    """Flask-Limiter's response hook is skipped only where no limit was looked at."""
    counted = client.post("/api/v1/assessments", json={"answers": COMPLETE})
    assert counted.headers["X-RateLimit-Limit"] == "60"
    assert counted.headers["X-RateLimit-Remaining"] == "59"
    page = client.get("/")
    assert not [name for name in page.headers.keys() if name.startswith("X-RateLimit")]  # noqa: SIM118


def test_vary_names_the_cookie_once_beside_what_a_view_set(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/varies")
    def varies() -> tuple[str, int, dict[str, str]]:
        from flask import session

        session["x"] = 1
        return "x", 200, {"Vary": "Accept-Language"}

    client = app.test_client()
    assert client.get("/varies").headers["Vary"] == "Accept-Language, Cookie"
    Patient(client).answer_all(COMPLETE)
    assert client.get("/result").headers["Vary"] == "Cookie"


def test_a_cookie_made_before_the_contents_were_plain_json_is_still_read(make_app: Callable[..., Flask]) -> None:
    """A person midway through the check when the new format was deployed keeps their answers."""
    app = make_app()
    client = app.test_client()
    Patient(client).answer_all(COMPLETE)
    interface = app.session_interface
    assert isinstance(interface, sessions.EncryptedSessions)
    payload = interface.unseal(app, session_cookie(client))
    assert payload is not None and isinstance(payload["d"], dict)  # the new format
    old = {**payload, "d": interface.serializer.dumps(payload["d"])}
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], interface.seal(app, old))
    assert answered(client)
    assert "Bring this summary" in text_of(check_page(client.get("/result").data))


def test_the_language_is_the_browsers_best_match_and_each_header_its_own(client: Flask) -> None:
    i18n.browser_language.cache_clear()
    spanish = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert check_page(spanish.data, language="es").html["lang"] == "es"
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert check_page(english.data).html["lang"] == "en"
    assert check_page(client.get("/", headers={"Accept-Language": "fr"}).data).html["lang"] == "en"
    assert i18n.browser_language.cache_info().currsize == 3


def test_an_async_function_is_never_taken_for_a_plain_one(make_app: Callable[..., Flask]) -> None:
    """Flask's coroutine check, made once per function, still hands an async view to Flask's async support."""
    app = make_app()

    async def later() -> str:
        await asyncio.sleep(0)
        return "later"

    def plain() -> str:
        return "plain"

    for _ in range(2):  # the second time from what was worked out the first
        assert app.ensure_sync(plain) is plain
        with pytest.raises(RuntimeError, match="async"):  # Flask's own answer without asgiref installed
            app.ensure_sync(later)
