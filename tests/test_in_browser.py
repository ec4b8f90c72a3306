"""A thin real-browser layer: Debian's Chromium, driven by Playwright, against a real HTTP server."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from symptomcheck import create_app
from symptomcheck.models import Staff, db
from tests.helpers import RULES_FILE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); the browser tests are skipped"
    if os.environ.get("SYMPTOMCHECK_REQUIRE_BROWSER"):
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("browser") / "db.sqlite"
    app = create_app({"SECRET_KEY": "browser", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        staff = Staff(username="desk")
        staff.set_password(PASSWORD)
        db.session.add(staff)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Browser, width: int = 1280, **options: Any) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    return context.new_page()


def answer_everything(page: Page, base_url: str, red_flag: str | None = None) -> None:
    """Click through every question as a person would, by the words on the labels."""
    page.goto(base_url + "/")
    page.get_by_role("link", name="Start now").click()
    page.get_by_label("18 to 49").check()
    page.get_by_role("button", name="Continue").click()
    if red_flag:
        page.get_by_label(red_flag).check()
    else:
        page.get_by_label("None of these").check()
    page.get_by_role("button", name="Continue").click()
    for legend, choice in [("Does the pain start in your neck", "Yes"), ("Which side", "One side, and always the same side"),
                           ("Does moving your neck", "Yes"), ("Does staying in one position", "No"),
                           ("Does pressing on your neck", "No"), ("Is your neck stiff", "No")]:  # fmt: skip
        page.get_by_role("group", name=legend).get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("More than 3 months").check()
    page.get_by_label("In a typical month, on how many days do you have a headache?").fill("8")
    page.get_by_label("How bad is the pain at its worst, from 0 to 10?").fill("6")
    page.get_by_role("group", name="Did you hurt your neck").get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I have not tried anything yet").check()
    page.get_by_label("In a typical month, on how many days do you take pain pills?").fill("2")
    page.get_by_role("button", name="Continue").click()


def test_full_journey_to_a_result(browser: Browser, base_url: str) -> None:
    page = new_page(browser)
    answer_everything(page, base_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("link", name="See the result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a regular visit.")
    expect(page.get_by_text("Rule set version 2026.11.1")).to_be_visible()
    expect(page.get_by_text("Your answers share many features with headaches that start in the neck.")).to_be_visible()
    page.context.close()


def test_the_journey_works_without_javascript(browser: Browser, base_url: str) -> None:
    page = new_page(browser, java_script_enabled=False)
    answer_everything(page, base_url, red_flag="You are pregnant, or gave birth in the last 6 weeks")
    page.get_by_role("link", name="See the result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get medical care today.")
    page.context.close()


def test_keyboard_only_to_the_emergency_advice(browser: Browser, base_url: str) -> None:
    page = new_page(browser)
    page.goto(base_url + "/")
    keys = page.keyboard
    keys.press("Tab")  # the skip link
    keys.press("Tab")  # the clinic name
    keys.press("Tab")  # 911 in the emergency box
    keys.press("Tab")
    expect(page.get_by_role("link", name="Start now")).to_be_focused()
    keys.press("Enter")
    page.wait_for_url("**/questions/about-you")
    for _ in range(4):  # skip link, clinic name, Back, then the first radio
        keys.press("Tab")
    keys.press("ArrowDown")  # radios move with the arrow keys: 18 to 49
    keys.press("Tab")
    keys.press("Enter")
    page.wait_for_url("**/questions/warning-signs")
    for _ in range(4):
        keys.press("Tab")
    keys.press("Space")  # the first sign: a sudden, very bad headache
    expect(
        page.get_by_label("A sudden, very bad headache that got to full strength within about a minute")
    ).to_be_checked()
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 911 or go to the nearest emergency room now.")
    page.context.close()


def test_error_summary_takes_focus_and_links_to_the_field(browser: Browser, base_url: str) -> None:
    page = new_page(browser)
    page.goto(base_url + "/questions/about-you")
    page.get_by_role("button", name="Continue").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Select your age group.").click()
    expect(page.get_by_label("Under 18")).to_be_focused()
    page.context.close()


def test_no_sideways_scrolling_on_a_phone(browser: Browser, base_url: str) -> None:
    page = new_page(browser, width=360)
    answer_everything(page, base_url)
    page.get_by_role("link", name="See the result").click()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 360
    for path in ("/", "/questions/warning-signs", "/questions/neck", "/questions/headaches", "/check-answers"):
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.context.close()


def test_the_result_prints_on_one_page(browser: Browser, base_url: str, tmp_path: Path) -> None:
    page = new_page(browser)
    answer_everything(page, base_url)
    page.get_by_role("link", name="See the result").click()
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Start again and clear my answers")).to_be_hidden()
    expect(page.get_by_text("not a diagnosis").first).to_be_visible()
    page.context.close()


def test_a_contact_request_reaches_the_staff_queue(browser: Browser, base_url: str) -> None:
    page = new_page(browser)
    answer_everything(page, base_url)
    page.get_by_role("link", name="See the result").click()
    page.get_by_role("link", name="Ask the clinic to contact me").click()
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Phone number").fill("202 555 0199")
    page.get_by_label("Afternoon").check()
    page.get_by_label("I agree that the clinic keeps these details").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We have your request")
    reference = page.locator(".reference").inner_text()
    page.context.close()

    desk = new_page(browser)
    desk.goto(base_url + "/staff/")
    desk.get_by_label("Username").fill("desk")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Contact requests")
    desk.get_by_role("link", name=reference).click()
    expect(desk.get_by_text("Grace Hopper")).to_be_visible()
    expect(desk.get_by_text("+1 202-555-0199")).to_be_visible()
    desk.context.close()
