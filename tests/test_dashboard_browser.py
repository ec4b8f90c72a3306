"""The dashboard and the monthly report in Debian's Chromium: charts load under the site's policy, axe, print."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser import ADMIN_NAME, ADMIN_PASSWORD, AXE, log_in, require_node_tool
from tests.test_accessibility import WIDTHS, describe, run_axe
from tests.test_dashboard import ZONE

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

CHARTS = (
    "How far people went",
    "Results and contact requests by level",
    "Checks started and contact requests, day by day",
    "Share of requests called within the target, week by week",
    "Clinicians' verdicts on the suggested level",
)


# Elements that stick out of the page on the right, but for those inside a box that scrolls (a wide table).
WIDER_THAN_THE_PAGE = """() => {
  const edge = document.documentElement.clientWidth;
  const inScrollingBox = (element) => element.parentElement && element.parentElement.closest(".table-wrap");
  return [...document.querySelectorAll("body *")]
    .filter((element) => element.getBoundingClientRect().right > edge + 1 && !inScrollingBox(element))
    .map((element) => `${element.tagName}.${element.className} ${Math.round(element.getBoundingClientRect().right)}`);
}"""


@pytest.fixture(scope="module", autouse=True)
def seeded(live_app: Flask) -> None:
    live_app.config["DEMO_DATABASE"] = True
    result = live_app.test_cli_runner().invoke(args=["demo", "seed", "--weeks", "6", "--seed", "2"])
    assert result.exit_code == 0, result.output


def last_month() -> datetime.date:
    return datetime.datetime.now(ZONE).date().replace(day=1) - datetime.timedelta(days=1)


def admin_page(open_page: Callable[..., Page], path: str, **options: object) -> Page:
    page = open_page(**options)
    log_in(page, ADMIN_NAME, ADMIN_PASSWORD)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_chart_loads_under_the_sites_own_policy(open_page: Callable[..., Page], width: str) -> None:
    blocked: list[str] = []
    page = open_page(viewport=WIDTHS[width])
    page.on("console", lambda message: blocked.append(message.text) if "Security Policy" in message.text else None)
    log_in(page, ADMIN_NAME, ADMIN_PASSWORD)
    page.goto("/staff/dashboard")
    page.wait_for_load_state("networkidle")
    for title in CHARTS:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    images = page.locator("img.chart__image")
    expect(images).to_have_count(len(CHARTS))
    sizes = images.evaluate_all("images => images.map(image => [image.currentSrc, image.naturalWidth])")
    assert all(width_drawn in (800, 420) for _, width_drawn in sizes), sizes  # each SVG was drawn
    narrow = width == "phone"
    assert all(("size=narrow" in source) == narrow for source, _ in sizes), sizes
    assert not blocked
    wider = page.evaluate(WIDER_THAN_THE_PAGE)
    assert not wider, f"the dashboard scrolls sideways at {width}: {wider}"
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("path", ["/staff/dashboard", "/staff/dashboard/report"])
def test_axe_finds_no_violation_on_the_dashboard(open_page: Callable[..., Page], path: str, width: str) -> None:
    require_node_tool(AXE)
    page = admin_page(open_page, path, bypass_csp=True, viewport=WIDTHS[width])
    results = run_axe(page)
    assert results["passes"], "axe ran no rule at all"
    assert not results["violations"], f"axe finds on {path} at {width}:\n{describe(results['violations'])}"


def test_the_period_is_picked_with_the_keyboard_alone(open_page: Callable[..., Page]) -> None:
    page = admin_page(open_page, "/staff/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: The last 4 weeks")
    page.get_by_label("Period").focus()
    page.keyboard.press("Home")  # the first choice: this week
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"period=week"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: This week")


def test_the_monthly_report_prints_on_two_pages_or_fewer(open_page: Callable[..., Page]) -> None:
    month = last_month()
    page = admin_page(open_page, f"/staff/dashboard/report?period={month:%Y-%m}")
    pdf = PdfReader(io.BytesIO(page.pdf(format="Letter")))
    assert 1 <= len(pdf.pages) <= 2
    printed = " ".join(" ".join(sheet.extract_text() for sheet in pdf.pages).split())
    for text in (f"Monthly report: {month:%B %Y}", "How the check is used", "How fast the desk calls",
                 "Were the suggestions right?", "Started the check", "Median wait", "Suggested"):  # fmt: skip
        assert text in printed, text
    for text in ("Log out", "Queue", "Download these figures", "Show"):
        assert text not in printed, text  # no navigation, no controls
    page.emulate_media(media="print")
    expect(page.locator(".staff-nav")).to_be_hidden()
    expect(page.locator(".print-only")).to_contain_text("Resolution Spine & Joint")


def test_the_dashboard_prints_cleanly(open_page: Callable[..., Page]) -> None:
    page = admin_page(open_page, "/staff/dashboard")
    pdf = PdfReader(io.BytesIO(page.pdf(format="Letter")))
    printed = " ".join(" ".join(sheet.extract_text() for sheet in pdf.pages).split())
    for title in CHARTS:
        assert title in printed, title
    assert "Log out" not in printed and "Download these figures" not in printed
    page.emulate_media(media="print")
    expect(page.locator(".filters")).to_be_hidden()
    expect(page.get_by_role("row").filter(has_text=re.compile(r"^Mon \d+ \w+"))).not_to_have_count(0)  # folded days
