"""A thin layer of real-browser tests: what the test client cannot see.

The app runs under werkzeug's HTTP server and Debian's Chromium clicks, types
and tabs through it. Playwright never downloads a browser: without
/usr/bin/chromium these tests are skipped (or fail, when
SYMPTOMCHECK_REQUIRE_BROWSER is set, as in CI). The fixtures and a person's
clicks are in tests/browser.py, shared with the accessibility tests.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect
from pypdf import PdfReader

from examples import COMPLETE
from symptomcheck.patient import forms
from symptomcheck.patient.forms import PAGES
from symptomcheck.rules.engine import assess
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID
from tests.browser import (
    LEVEL_ANSWERS,
    STAFF_NAME,
    STAFF_PASSWORD,
    answer_step,
    click_label,
    give_answers,
    group,
    level_title,
    result_heading,
    send_contact_request,
    translate,
    walk,
)
from tests.helpers import RULES_VERSION

pytest_plugins = ["tests.browser"]  # the browser, live_app, live_server, open_page and page fixtures
pytestmark = pytest.mark.browser

EMERGENCY = "Call 911 or go to the nearest emergency room now."
ROUTINE = "Book a regular visit."
NONE_OF_THESE = str(forms.NONE_OF_THESE)  # a lazy translation; English outside a request


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
    assert tab_to(page, "Start now") == [
        "Skip to main content",
        "Resolution Spine & Joint",
        "Español",
        "911",
        "Start now",
    ]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")

    # Tab enters a radio group on its first button; Space selects it.
    assert tab_to(page, "Under 18") == [
        "Skip to main content",
        "Resolution Spine & Joint",
        "Español",
        "Back",
        "Under 18",
    ]
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


@pytest.mark.parametrize("level", list(LEVEL_ANSWERS))
def test_a_journey_to_each_level(page: Page, rules: RuleSet, live_app: Flask, level: str) -> None:
    answers = LEVEL_ANSWERS[level]
    assert assess(rules, answers).level.id == level, "the answers for this level no longer reach it"
    walk(page, answers, rules=rules)
    expect(result_heading(page)).to_have_text(level_title(rules, live_app, level))
    expect(page.locator(f".result--{level}")).to_have_count(1)
    contact = page.get_by_role("link", name="Ask the clinic to contact me")
    expect(contact).to_have_count(0 if level == rules.most_urgent.id else 1)


def test_change_an_answer_from_the_check_page(page: Page, rules: RuleSet, live_app: Flask) -> None:
    walk(page, COMPLETE)
    expect(result_heading(page)).to_have_text(level_title(rules, live_app, "routine"))
    fever = BY_ID["red_flags"].choice_label("fever")
    page.goto("/check-answers")
    row = page.locator(".summary__row").filter(has_text=BY_ID["red_flags"].label)
    expect(row.locator(".summary__answer")).to_have_text(NONE_OF_THESE)

    row.get_by_role("link", name=re.compile("^Change")).click()
    expect(page).to_have_url(re.compile(r"/questions/warning-signs\?from=check#red_flags$"))
    expect(page.get_by_label(NONE_OF_THESE, exact=True)).to_be_checked()
    click_label(page, "red_flags", NONE_OF_THESE)  # untick it
    click_label(page, "red_flags", fever)
    page.get_by_role("button", name="Continue").click()

    # Every other answer is kept: back to the check page at once, not through the later pages.
    expect(page).to_have_url(re.compile("/check-answers$"))
    expect(row.locator(".summary__answer")).to_have_text(fever)
    expect(page.locator(".summary__row")).to_have_count(len(COMPLETE))
    page.get_by_role("link", name="See the result").click()
    expect(result_heading(page)).to_have_text(level_title(rules, live_app, "urgent"))


MEASURE = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  innerWidth: window.innerWidth,
})"""
WIDEN = """(width) => {
  const wide = document.createElement("div");
  wide.style.width = `${width}px`;
  wide.textContent = "x";
  document.body.append(wide);
}"""
PATIENT_PAGES = ["learn", "start", *(step.slug for step in PAGES), "check-answers", "result", "contact", "contact-sent"]


@pytest.mark.parametrize("width", [360, 1280])
def test_patient_pages_do_not_scroll_sideways(open_page: Callable[..., Page], width: int) -> None:
    phone = width < 600
    page = open_page(viewport={"width": width, "height": 740 if phone else 800}, is_mobile=phone, has_touch=phone)
    sizes: dict[str, dict[str, int]] = {}

    def measure(name: str) -> None:
        page.wait_for_load_state("load")  # the stylesheet too: the DOM can be read before it applies
        sizes[name] = page.evaluate(MEASURE)

    page.goto("/learn")
    measure("learn")
    page.goto("/")
    measure("start")
    page.get_by_role("link", name="Start now").click()
    for step in PAGES:
        expect(page).to_have_url(re.compile(f"/questions/{step.slug}$"))
        measure(step.slug)
        answer_step(page, step, COMPLETE)
    expect(page).to_have_url(re.compile("/check-answers$"))
    measure("check-answers")
    page.get_by_role("link", name="See the result").click()
    expect(result_heading(page)).to_have_text(ROUTINE)
    measure("result")
    page.get_by_role("link", name="Ask the clinic to contact me").click()
    measure("contact")
    send_contact_request(page, phone="", email="grace@example.org")
    measure("contact-sent")

    assert list(sizes) == PATIENT_PAGES
    zoomed = {name: size for name, size in sizes.items() if size["innerWidth"] != width}
    assert not zoomed, f"the browser zoomed out to fit pages wider than {width}px: {zoomed}"
    too_wide = {name: size for name, size in sizes.items() if size["scrollWidth"] > size["clientWidth"]}
    assert not too_wide, f"pages scroll sideways {width}px wide: {too_wide}"

    # The measure sees a page that is too wide (set through the DOM: the CSP blocks inline styles).
    page.evaluate(WIDEN, width + 40)
    size = page.evaluate(MEASURE)
    assert size["scrollWidth"] > size["clientWidth"], size


def test_the_result_prints_as_one_clean_page(page: Page) -> None:
    walk(page, COMPLETE)
    pdf = PdfReader(io.BytesIO(page.pdf(format="Letter")))
    assert len(pdf.pages) == 1
    printed = " ".join(pdf.pages[0].extract_text().split())
    for text in ("Resolution Spine & Joint", "Book a regular visit.", "Why we suggest this", "not a diagnosis",
                 f"Checked on {datetime.date.today():%B} ", f"Rule set version {RULES_VERSION}", "Your answers",
                 "Does the pain start in your neck"):  # fmt: skip
        assert text in printed
    for text in ("Skip to main content", "Español", "Start again", "Change your answers", "Ask the clinic"):
        assert text not in printed  # no navigation, no buttons
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.get_by_role("button", name="Start again and clear my answers")).to_be_hidden()
    expect(page.locator(".print-only").first).to_contain_text("Resolution Spine & Joint")
    for heading in ("Book a regular visit.", "Why we suggest this", "Please read", "Your answers"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    for text in ("not a diagnosis", f"Rule set version {RULES_VERSION}"):
        expect(page.get_by_text(text).first).to_be_visible()


def test_the_spanish_result_prints_on_one_page_too(
    open_page: Callable[..., Page], live_app: Flask, live_server: str, rules: RuleSet
) -> None:
    page = open_page(locale="es-US")
    give_answers(page, live_app, live_server, COMPLETE)
    page.goto("/result")
    expect(result_heading(page)).to_have_text(level_title(rules, live_app, "routine", "es"))
    pdf = PdfReader(io.BytesIO(page.pdf(format="Letter")))
    assert len(pdf.pages) == 1
    printed = " ".join(pdf.pages[0].extract_text().split())
    assert translate("Your answers", "es") in printed
    assert "Rule set version" not in printed  # in Spanish


def test_a_contact_request_reaches_the_staff_queue(open_page: Callable[..., Page], live_server: str) -> None:
    page = open_page()
    walk(page, COMPLETE)
    page.get_by_role("link", name="Ask the clinic to contact me").click()
    send_contact_request(page)
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
