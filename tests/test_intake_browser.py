"""In a real browser: an emergency phone intake from the queue to the stored record, and the banner gone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from symptomcheck.rules.questions import BY_ID, FOR_CALLER
from tests.browser import STAFF_NAME, log_in

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

BANNER = "Phone intake: you are answering for a caller."


def choose(page: Page, answer_id: str, value: str) -> None:
    """Click the words of one answer in the question as the intake asks it (about the caller)."""
    group = page.get_by_role("group", name=FOR_CALLER[answer_id].label, exact=True)
    label = BY_ID[answer_id].choice_label(value)
    group.locator("label").filter(has_text=re.compile(f"^{re.escape(label)}$")).click()


def test_an_emergency_phone_intake_is_recorded_and_ends(open_page: Callable[..., Page], live_app: Flask) -> None:
    desk = open_page()
    log_in(desk)
    desk.get_by_role("button", name="New phone intake").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("About the caller")
    expect(desk.get_by_text(BANNER)).to_be_visible()
    choose(desk, "age_band", "18_49")
    desk.get_by_role("button", name="Continue").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("The caller's warning signs")
    choose(desk, "red_flags", "thunderclap")
    desk.get_by_role("button", name="Continue").click()

    expect(desk).to_have_url(re.compile("/result$"))
    expect(desk.get_by_role("heading", name="Say to the caller")).to_be_visible()
    expect(desk.get_by_text("Please hang up now and call 911.")).to_be_visible()
    desk.get_by_role("button", name="Record the call and end the intake").click()
    expect(desk.get_by_role("link", name="Select this box once you have told the caller to call now.")).to_be_visible()

    desk.get_by_label("I told the caller to hang up and call 911 now.").check()
    desk.get_by_label("The caller's name (optional)").fill("Alan Turing")
    desk.get_by_role("button", name="Record the call and end the intake").click()

    heading = desk.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Request [A-Z2-9]{4}-[A-Z2-9]{4}$"))
    reference = heading.inner_text().removeprefix("Request ")
    expect(desk.get_by_text(f"Emergency call recorded as {reference} and closed.")).to_be_visible()
    expect(desk.locator("p", has_text="· received")).to_contain_text("Closed")
    expect(desk.locator("p", has_text="· received")).to_contain_text(f"Phone, call taken by {STAFF_NAME}")
    expect(desk.get_by_text("The caller was told to hang up and call 911 now.").first).to_be_visible()
    expect(desk.get_by_text(BANNER)).to_have_count(0)

    desk.goto("/staff/?status=all")
    expect(desk.get_by_text(BANNER)).to_have_count(0)
    row = desk.locator("tbody tr", has_text=reference)
    expect(row).to_contain_text("Alan Turing")
    expect(row).to_contain_text("Closed")
    desk.goto("/questions/about-you")
    expect(desk.get_by_role("heading", level=1)).to_have_text("About you")  # no intake runs any more
