"""What the real-browser tests share: the live server, Debian's Chromium, the Node tools, and a person's clicks.

A test module that needs the fixtures says `pytest_plugins = ["tests.browser"]`.
Playwright never downloads a browser, and npm never downloads one either: the
tests use /usr/bin/chromium. Without it (or without `npm ci`'s node_modules,
for axe-core and Lighthouse) the tests that need it are skipped with a message;
when SYMPTOMCHECK_REQUIRE_BROWSER is set, as in CI, they fail instead.

PYTEST_DONT_REWRITE: the test modules import this before pytest loads it as their plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from babel.support import Translations
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from examples import COMPLETE
from symptomcheck import create_app
from symptomcheck.patient import forms
from symptomcheck.patient.forms import NONE_OF_THESE
from symptomcheck.records.models import Staff, db
from symptomcheck.rules.engine import stops_early
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID, Kind
from tests.helpers import ROOT, RULES_FILE

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = f"Chromium is not installed at {CHROMIUM}; install Debian's chromium to run the browser tests"
NODE_MODULES = ROOT / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
LIGHTHOUSE = NODE_MODULES / ".bin" / "lighthouse"
NO_NODE_MODULES = "{} is missing; run `npm ci` in the repository (Node 20 or newer) to install axe-core and Lighthouse"
STAFF_NAME, STAFF_PASSWORD = "desk", "correct horse battery staple"
ADMIN_NAME, ADMIN_PASSWORD = "boss", "another long staff password"
LOCALE = "en-US"  # the pages follow the browser's language; these tests read the English texts

# Answers that reach each level, changed from COMPLETE (which is routine). The tests check them with the engine first.
LEVEL_ANSWERS: dict[str, dict[str, Any]] = {
    "emergency": {**COMPLETE, "red_flags": ["thunderclap"]},
    "urgent": {**COMPLETE, "red_flags": ["fever"]},
    "soon": {**COMPLETE, "red_flags": ["progressive"]},
    "routine": COMPLETE,
    "self_care": {
        **COMPLETE,
        "duration": "under_1_month",
        "pain_intensity": 2,
        "headache_days": 2,
        "impact": [],
        "red_flags": [],
    },
}


def require(present: bool, message: str) -> None:
    """Skip the test when a tool is missing, or fail it when SYMPTOMCHECK_REQUIRE_BROWSER is set."""
    if present:
        return
    if os.environ.get("SYMPTOMCHECK_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_node_tool(path: Path) -> None:
    require(shutil.which("node") is not None, "Node is not installed; Node 20 or newer runs axe-core and Lighthouse")
    require(path.exists(), NO_NODE_MODULES.format(path.relative_to(ROOT)))


class QuietHandler(WSGIRequestHandler):
    """Serve requests without a log line for each one."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def read_whole(app: WSGIApplication) -> WSGIApplication:
    """Read each response body whole and close it before the server writes a byte.

    When a browser context closes while a file (the favicon) is still being sent,
    werkzeug's development server raises while draining the dropped connection and
    never closes the file; pytest turns that ResourceWarning into an error in
    whichever test runs next. The pages are small, so nothing is lost by this.
    """

    def whole(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return whole


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yield its base URL; stop it and close its database."""
    server = make_server("127.0.0.1", 0, read_whole(app), threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


# Module scope: a running sync Playwright blocks any other one in this thread.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(CHROMIUM.exists(), MISSING)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app the live server runs: its own SQLite file, a desk account and an admin (and clinician) account.

    Rate limits are off: one module's journeys post far more than a person would in a
    minute, all from 127.0.0.1. test_security checks the limits.
    """
    database = tmp_path_factory.mktemp("browser") / "browser.db"
    app = create_app(
        {
            "SECRET_KEY": "browser-test",
            "RULES_FILE": str(RULES_FILE),
            "DATABASE_URL": f"sqlite:///{database}",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        for name, password, admin in ((STAFF_NAME, STAFF_PASSWORD, False), (ADMIN_NAME, ADMIN_PASSWORD, True)):
            staff = Staff(username=name, is_admin=admin, is_clinician=admin)  # the admin is the clinician
            staff.set_password(password)
            db.session.add(staff)
        db.session.commit()
    return app


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    """The real app on a real port, so the repository's instance folder is left alone."""
    with serve(live_app) as base_url:
        yield base_url


@pytest.fixture
def open_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies); the contexts are closed after the test."""
    contexts = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**{"base_url": live_server, "locale": LOCALE, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


def session_cookie(app: Flask, **values: Any) -> str:
    """Return a session cookie signed by the app that holds these values (e.g. answers=...)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(values)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def give_answers(page: Page, app: Flask, base_url: str, answers: dict[str, Any]) -> None:
    """Put answers in the browser's session cookie, as if the person had given them on earlier pages."""
    value = session_cookie(app, answers=answers)
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": base_url}])


def level_title(rules: RuleSet, app: Flask, level_id: str, language: str = "en") -> str:
    """The result heading for a level, as rules.yaml words it (in the language given), with the clinic's details."""
    config = app.config
    return translate(rules.level(level_id).title, language).format(
        emergency_number=config["EMERGENCY_NUMBER"], clinic_name=config["CLINIC_NAME"]
    )


def translate(text: str, language: str) -> str:
    """The text as the app's catalog gives it in the language ("en" gives it back)."""
    if language == "en":
        return text
    return str(Translations.load(str(ROOT / "symptomcheck" / "translations"), [language]).gettext(text))


def group(page: Page, answer_id: str) -> Any:
    """The fieldset of a choice question, found by its legend."""
    return page.get_by_role("group", name=BY_ID[answer_id].label, exact=True)


def click_label(page: Page, answer_id: str, text: str) -> None:
    text = str(text)  # a lazy translation (NONE_OF_THESE) reads in English here
    group(page, answer_id).locator("label").filter(has_text=re.compile(f"^{re.escape(text)}$")).click()


def answer_step(page: Page, step: forms.Page, answers: dict[str, Any]) -> None:
    """Answer one page as a person would, then press Continue."""
    fill_step(page, step, answers)
    page.get_by_role("button", name="Continue").click()


def fill_step(page: Page, step: forms.Page, answers: dict[str, Any]) -> None:
    """Fill in one page as a person would: click the words next to each box, type the numbers."""
    for answer_id in step.answer_ids:
        question, value = BY_ID[answer_id], answers[answer_id]
        if question.kind is Kind.INTEGER:
            page.get_by_label(question.label, exact=True).fill(str(value))
        elif question.kind is Kind.SINGLE:
            click_label(page, answer_id, question.choice_label(value))
        else:
            for item in value:
                click_label(page, answer_id, question.choice_label(item))
            if not value and answer_id in step.form.none_options:
                click_label(page, answer_id, NONE_OF_THESE)


def walk(
    page: Page,
    answers: dict[str, Any],
    on_each_step: Callable[[forms.Page], None] | None = None,
    rules: RuleSet | None = None,
) -> None:
    """From the start page through the question pages to the result.

    With `rules`, the walk expects the result as soon as the answers so far stop the check early (an emergency).
    """
    page.goto("/")
    page.get_by_role("link", name="Start now").click()
    given: dict[str, Any] = {}
    for number, step in enumerate(forms.PAGES, start=1):
        expect(page).to_have_url(re.compile(f"/questions/{step.slug}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(str(step.title))
        expect(page.get_by_text(f"Step {number} of {len(forms.PAGES)}")).to_be_visible()
        if on_each_step:
            on_each_step(step)
        answer_step(page, step, answers)
        given.update({answer_id: answers[answer_id] for answer_id in step.answer_ids})
        if rules is not None and stops_early(rules, given):
            expect(page).to_have_url(re.compile("/result$"))
            return
    expect(page).to_have_url(re.compile("/check-answers$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("link", name="See the result").click()
    expect(page).to_have_url(re.compile("/result$"))


def result_heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def log_in(page: Page, username: str = STAFF_NAME, password: str = STAFF_PASSWORD) -> None:
    """Log in at the front desk in this page's browser context."""
    page.goto("/staff/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact requests")


def send_contact_request(
    page: Page, t: Callable[[str], str] = str, phone: str = "202 555 0199", email: str = ""
) -> None:
    """Fill in and send the contact form on the open contact page, in the page's language (t translates)."""
    page.get_by_label(t("Your name")).fill("Grace Hopper")
    page.get_by_label(t("Phone number")).fill(phone)
    page.get_by_label(t("Email address")).fill(email)
    page.get_by_label(t("Afternoon")).check()
    page.get_by_label(t("I agree that the clinic keeps these details as described above.")).check()
    page.get_by_role("button", name=t("Send")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("We have your request"))
