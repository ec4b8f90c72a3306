"""In a real browser: an urgent request from the patient's "Send" to the desk's email, then claimed and called."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from examples import COMPLETE
from tests.browser import STAFF_NAME, log_in, send_contact_request, walk
from tests.test_alerts import Inbox, mail_config, start_inbox

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser


def wait_for_mail(inbox: Inbox, count: int = 1, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_an_urgent_request_is_emailed_claimed_and_called(
    open_page: Callable[..., Page], live_app: Flask, live_server: str
) -> None:
    inbox, controller = start_inbox()
    saved = dict(live_app.config)
    live_app.config.update(mail_config(inbox.port, PUBLIC_URL=live_server))
    try:
        patient = open_page()
        walk(patient, {**COMPLETE, "red_flags": ["fever"]})
        patient.get_by_role("link", name="Ask the clinic to contact me").click()
        send_contact_request(patient)
        reference = patient.locator(".reference").inner_text()
        wait_for_mail(inbox)
    finally:
        controller.stop()
        live_app.config.clear()
        live_app.config.update(saved)

    (message,) = inbox.messages
    assert message["Subject"] == f"New Urgent (care today) request {reference}"
    body = message.get_content()
    assert "Grace" not in body
    assert "0199" not in body
    link = next(line.removeprefix("Open it: ") for line in body.splitlines() if line.startswith("Open it: "))
    assert link == f"{live_server}/staff/requests/{reference}"

    desk = open_page()
    log_in(desk)
    desk.goto(link)
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Request {reference}")
    expect(desk.get_by_text("Grace Hopper")).to_be_visible()
    expect(desk.get_by_text("Nobody has this request yet.")).to_be_visible()
    desk.get_by_role("button", name="I'll call").click()
    expect(desk.get_by_text(f"{STAFF_NAME} will call (you).")).to_be_visible()

    desk.get_by_label("No answer").check()
    desk.get_by_role("button", name="Record the call").click()
    expect(desk.get_by_text("Call: No answer.")).to_be_visible()
    expect(desk.get_by_text("1 failed attempt so far.")).to_be_visible()
    desk.get_by_label("Reached the person").check()
    desk.get_by_label("Note about the call (optional)").fill("Booked for 2 pm.")
    desk.get_by_role("button", name="Record the call").click()
    expect(desk.get_by_text("Call: Reached the person.")).to_be_visible()
    expect(desk.get_by_text("Booked for 2 pm.")).to_be_visible()
    expect(desk.locator("p", has_text="· received")).to_contain_text("Contacted")

    desk.goto("/staff/?mine=1")
    row = desk.locator("tbody tr", has_text=reference)
    expect(row).to_contain_text("You will call")
    expect(row).to_contain_text("Contacted")
