"""A thin layer of real-browser tests: what the test client cannot see.

The app runs under werkzeug's HTTP server and Debian's Chromium clicks, types
and tabs through it. Playwright never downloads a browser: without
/usr/bin/chromium these tests are skipped (or fail, when
SYMPTOMCHECK_REQUIRE_BROWSER is set, as in CI).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from symptomcheck import create_app
from symptomcheck.forms import NONE_OF_THESE
from symptomcheck.models import Staff, db
from symptomcheck.questions import BY_ID, Kind
from symptomcheck.views import STEPS, Step
from tests.helpers import RULES_FILE
from tests.test_engine import COMPLETE

pytestmark = pytest.mark.browser

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
PHONE = {"width": 360, "height": 740}
EMERGENCY = "Call 911 or go to the nearest emergency room now."
ROUTINE = "Book a regular visit."
STAFF_NAME, STAFF_PASSWORD = "desk", "correct horse battery staple"


class QuietHandler(WSGIRequestHandler):
    """Serve requests without a log line for each one."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yield its base URL; stop it and close its database."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
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
    if not CHROMIUM.exists():
        if os.environ.get("SYMPTOMCHECK_REQUIRE_BROWSER"):
            pytest.fail(MISSING, pytrace=False)
        pytest.skip(MISSING)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a real port; its own SQLite file, so the repository's instance folder is left alone."""
    database = tmp_path_factory.mktemp("browser") / "browser.db"
    app = create_app(
        {"SECRET_KEY": "browser-test", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": f"sqlite:///{database}"}
    )
    with app.app_context():
        staff = Staff(username=STAFF_NAME)
        staff.set_password(STAFF_PASSWORD)
        db.session.add(staff)
        db.session.commit()
    with serve(app) as base_url:
        yield base_url


@pytest.fixture
def open_page(browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies); the contexts are closed after the test."""
    contexts = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


def group(page: Page, answer_id: str) -> Any:
    """The fieldset of a choice question, found by its legend."""
    return page.get_by_role("group", name=BY_ID[answer_id].label, exact=True)


def click_label(page: Page, answer_id: str, text: str) -> None:
    group(page, answer_id).locator("label").filter(has_text=re.compile(f"^{re.escape(text)}$")).click()


def answer_step(page: Page, step: Step, answers: dict[str, Any]) -> None:
    """Answer one page as a person would, then press Continue."""
    fill_step(page, step, answers)
    page.get_by_role("button", name="Continue").click()


def fill_step(page: Page, step: Step, answers: dict[str, Any]) -> None:
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
            if not value and answer_id in step.page.none_options:
                click_label(page, answer_id, NONE_OF_THESE)


def walk(page: Page, answers: dict[str, Any], on_each_step: Callable[[Step], None] | None = None) -> None:
    """From the start page through every question page to the result."""
    page.goto("/")
    page.get_by_role("link", name="Start now").click()
    for number, step in enumerate(STEPS, start=1):
        expect(page).to_have_url(re.compile(f"/questions/{step.slug}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        expect(page.get_by_text(f"Step {number} of {len(STEPS)}")).to_be_visible()
        if on_each_step:
            on_each_step(step)
        answer_step(page, step, answers)
    expect(page).to_have_url(re.compile("/check-answers$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("link", name="See the result").click()
    expect(page).to_have_url(re.compile("/result$"))


def result_heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_full_journey_by_clicking_labels(open_page: Callable[..., Page], javascript: bool) -> None:
    page = open_page(java_script_enabled=javascript)
    walk(page, COMPLETE)
    expect(result_heading(page)).to_have_text(ROUTINE)
    expect(page.locator(".result")).to_contain_text("What we suggest")
    expect(page.get_by_text("Rule set version")).to_be_visible()
    expect(page.get_by_role("heading", name="Your answers", exact=True)).to_be_visible()
    answers = page.locator(".summary__row")
    expect(answers).to_have_count(len(COMPLETE))
    expect(answers.filter(has_text=BY_ID["age_band"].label)).to_contain_text("18 to 49")


def test_an_emergency_sign_stops_the_check_at_once(page: Page) -> None:
    visited: list[tuple[str, str]] = []

    def note(request: Request) -> None:
        if request.is_navigation_request():
            visited.append((request.method, urlsplit(request.url).path))

    page.on("request", note)
    page.goto("/")
    page.get_by_role("link", name="Start now").click()
    click_label(page, "age_band", "18 to 49")
    page.get_by_role("button", name="Continue").click()
    click_label(page, "red_flags", BY_ID["red_flags"].choice_label("thunderclap"))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile("/result$"))
    expect(result_heading(page)).to_have_text(EMERGENCY)
    expect(page.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    expect(page.get_by_text("full strength within about a minute").first).to_be_visible()
    expect(page.get_by_role("link", name="Ask the clinic to contact me")).to_have_count(0)
    assert visited == [
        ("GET", "/"),
        ("GET", "/questions/about-you"),
        ("POST", "/questions/about-you"),
        ("GET", "/questions/warning-signs"),
        ("POST", "/questions/warning-signs"),
        ("GET", "/result"),
    ]


FOCUSED = """() => {
  const element = document.activeElement;
  const label = element.labels && element.labels.length ? element.labels[0] : element;
  return label.textContent.trim().replace(/\\s+/g, " ");
}"""


def tab_to(page: Page, target: str, limit: int = 30) -> list[str]:
    """Press Tab until the focused element (or its label) reads `target`; return every stop on the way."""
    stops: list[str] = []
    while target not in stops:
        assert len(stops) < limit, f"{target!r} is not reached by Tab; the stops were {stops}"
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
    return stops


def test_keyboard_only_reaches_the_emergency_result(page: Page) -> None:
    page.goto("/")
    assert tab_to(page, "Start now") == ["Skip to main content", "Resolution Spine & Joint", "911", "Start now"]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")

    # Tab enters a radio group on its first button; Space selects it.
    assert tab_to(page, "Under 18") == ["Skip to main content", "Resolution Spine & Joint", "Back", "Under 18"]
    page.keyboard.press("Space")
    expect(page.get_by_label("Under 18", exact=True)).to_be_checked()
    assert tab_to(page, "Continue") == ["Continue"]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Warning signs")

    signs = [choice.label for choice in BY_ID["red_flags"].choices]
    assert tab_to(page, signs[0])[-2:] == ["Back", signs[0]]
    page.keyboard.press("Space")
    expect(page.get_by_label(signs[0], exact=True)).to_be_checked()
    # Every box is a Tab stop, in the order on the screen, then the button.
    assert tab_to(page, "Continue") == [*signs[1:], NONE_OF_THESE, "Continue"]
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile("/result$"))
    expect(result_heading(page)).to_have_text(EMERGENCY)


def test_error_summary_takes_focus_and_links_to_the_question(page: Page) -> None:
    page.goto("/questions/about-you")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile("^Error: About you"))
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    expect(group(page, "age_band")).to_contain_text("Select your age group.")

    summary.get_by_role("link", name="Select your age group.").click()
    first_radio = page.get_by_label(BY_ID["age_band"].choices[0].label, exact=True)
    expect(first_radio).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "age_band-0"


def test_question_pages_fit_a_phone_screen(open_page: Callable[..., Page]) -> None:
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    widths: dict[str, int] = {}

    def measure(step: Step) -> None:
        widths[step.slug] = page.evaluate("document.documentElement.scrollWidth")

    walk(page, COMPLETE, measure)
    expect(result_heading(page)).to_have_text(ROUTINE)
    assert list(widths) == [step.slug for step in STEPS]
    too_wide = {slug: width for slug, width in widths.items() if width > PHONE["width"]}
    assert not too_wide, f"pages scroll sideways on a {PHONE['width']}px phone: {too_wide}"


def test_the_result_prints_as_one_clean_page(page: Page) -> None:
    walk(page, COMPLETE)
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Start again and clear my answers")).to_be_hidden()
    expect(page.locator(".print-only")).to_contain_text("Resolution Spine & Joint")
    for heading in ("Book a regular visit.", "Why we suggest this", "Please read", "Your answers"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    for text in ("not a diagnosis", "Rule set version 2026.11.1"):
        expect(page.get_by_text(text).first).to_be_visible()


def test_a_contact_request_reaches_the_staff_queue(open_page: Callable[..., Page], live_server: str) -> None:
    page = open_page()
    walk(page, COMPLETE)
    page.get_by_role("link", name="Ask the clinic to contact me").click()
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Phone number").fill("202 555 0199")
    page.get_by_label("Afternoon").check()
    page.get_by_label("I agree that the clinic keeps these details").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We have your request")
    reference = page.locator(".reference").inner_text()
    assert "Grace" not in page.url

    desk = open_page()
    desk.goto("/staff/")
    expect(desk).to_have_url(re.compile("/staff/login"))
    desk.get_by_label("Username").fill(STAFF_NAME)
    desk.get_by_label("Password").fill(STAFF_PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Contact requests")
    desk.get_by_role("link", name=reference).click()
    expect(desk.get_by_text("Grace Hopper")).to_be_visible()
    expect(desk.get_by_text("+1 202-555-0199")).to_be_visible()
    desk.get_by_label("Contacted").check()
    desk.get_by_role("button", name="Save the status").click()
    expect(desk.get_by_text("Status changed to Contacted.")).to_be_visible()
