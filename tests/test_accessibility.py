"""Accessibility in a real browser: axe-core on every page, target sizes, and a visible focus.

axe-core (node_modules/axe-core, from `npm ci`) runs inside Debian's Chromium
on each page in each state a person can meet, against the WCAG 2.0, 2.1 and
2.2 A and AA rules, and any violation fails the test. axe is injected into the
page, so those contexts bypass the app's Content-Security-Policy; the other
checks run with it. With SYMPTOMCHECK_AXE_REPORT=path the counts per page are
written there as JSON.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from examples import COMPLETE
from symptomcheck.patient import forms
from symptomcheck.records import contact_requests, demo
from symptomcheck.records.models import UsageCount, db
from symptomcheck.rules.engine import assess
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID, FOR_CALLER
from tests.browser import (
    ADMIN_NAME,
    ADMIN_PASSWORD,
    AXE,
    LEVEL_ANSWERS,
    STAFF_NAME,
    give_answers,
    level_title,
    log_in,
    require_node_tool,
    send_contact_request,
    translate,
)

pytest_plugins = ["tests.browser"]  # the browser, live_app, live_server, open_page and page fixtures
pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@dataclass
class Visit:
    """One browser page on the live server, and what it takes to bring it to a given state."""

    page: Page
    app: Flask
    base_url: str
    rules: RuleSet
    reference: str  # a request stored for the front desk pages
    language: str = "en"

    def t(self, text: str) -> str:
        """A text of the app, in this visit's language."""
        return translate(text, self.language)

    def answers(self, answers: dict[str, Any]) -> None:
        give_answers(self.page, self.app, self.base_url, answers)

    def heading(self, text: str) -> None:
        """Check the page's heading: the English text given, in this visit's language."""
        expect(self.page.get_by_role("heading", level=1)).to_have_text(self.t(text))


def before(step: forms.Page) -> dict[str, Any]:
    """The answers to the pages before this one, so that it opens empty."""
    earlier = [answer_id for other in forms.PAGES[: forms.PAGES.index(step)] for answer_id in other.answer_ids]
    return {answer_id: COMPLETE[answer_id] for answer_id in earlier}


def question_page(step: forms.Page, errors: bool) -> Callable[[Visit], None]:
    def setup(visit: Visit) -> None:
        visit.answers(before(step))
        visit.page.goto(f"/questions/{step.slug}")
        visit.heading(str(step.title))
        if errors:
            visit.page.get_by_role("button", name=visit.t("Continue")).click()
            expect(visit.page.locator(".error-summary")).to_be_focused()

    return setup


def result_page(level: str) -> Callable[[Visit], None]:
    def setup(visit: Visit) -> None:
        visit.answers(LEVEL_ANSWERS[level])
        visit.page.goto("/result")
        expected = level_title(visit.rules, visit.app, level, visit.language)
        expect(visit.page.get_by_role("heading", level=1)).to_have_text(expected)

    return setup


def start(visit: Visit) -> None:
    visit.page.goto("/")
    visit.heading("Check your headache and neck pain")


def learn(visit: Visit) -> None:
    visit.page.goto("/learn")
    visit.heading("Learn about headaches that start in the neck")


def check_answers(visit: Visit) -> None:
    visit.answers(COMPLETE)
    visit.page.goto("/check-answers")
    visit.heading("Check your answers")


def contact(visit: Visit, errors: bool = False) -> None:
    visit.answers(COMPLETE)
    visit.page.goto("/contact")
    visit.heading("Ask the clinic to contact you")
    if errors:
        visit.page.get_by_role("button", name=visit.t("Send")).click()
        expect(visit.page.locator(".error-summary")).to_be_focused()


def contact_sent(visit: Visit) -> None:
    contact(visit)
    send_contact_request(visit.page, visit.t)


def not_found(visit: Visit) -> None:
    response = visit.page.goto("/no-such-page")
    assert response is not None and response.status == 404
    visit.heading("Page not found")


def staff_login(visit: Visit, wrong_password: bool = False) -> None:
    visit.page.goto("/staff/login")
    visit.heading("Front desk log in")
    if wrong_password:
        visit.page.get_by_label("Username").fill(STAFF_NAME)
        visit.page.get_by_label("Password").fill("not the password at all")
        visit.page.get_by_role("button", name="Log in").click()
        expect(visit.page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
        expect(visit.page.locator(".error-message")).to_contain_text("The username or password is not right.")


def staff_queue(visit: Visit) -> None:
    log_in(visit.page)
    expect(visit.page.get_by_role("link", name=visit.reference).first).to_be_visible()


def staff_request(visit: Visit) -> None:
    log_in(visit.page)
    visit.page.get_by_role("link", name=visit.reference).first.click()  # the row, or the duplicate flag: one page
    visit.heading(f"Request {visit.reference}")


def staff_request_finish_errors(visit: Visit) -> None:
    """A finish without what came of it: the page again with its error summary."""
    staff_request(visit)
    visit.page.get_by_label("Booked", exact=True).check()
    visit.page.get_by_role("button", name="Save the status").click()
    expect(visit.page.locator(".error-summary")).to_contain_text("Select what came of the request")


def staff_request_clinician(visit: Visit, errors: bool = False) -> None:
    """The request page as a clinician sees it, with the verdict form (and its errors)."""
    log_in(visit.page, ADMIN_NAME, ADMIN_PASSWORD)
    visit.page.goto(f"/staff/requests/{visit.reference}")
    expect(visit.page.get_by_role("button", name="Record the verdict")).to_be_visible()
    expect(visit.page.locator(".duplicates")).to_contain_text("Possible duplicate")
    if errors:
        visit.page.get_by_label("It should have been more urgent").check()
        visit.page.get_by_role("button", name="Record the verdict").click()
        expect(visit.page.locator(".error-summary")).to_contain_text("Select the level you judge right.")


def staff_audit(visit: Visit) -> None:
    log_in(visit.page, ADMIN_NAME, ADMIN_PASSWORD)
    visit.page.goto(f"/staff/requests/{visit.reference}")  # so that the log has a line
    visit.page.get_by_role("link", name="Audit log").click()
    visit.heading("Audit log")
    expect(visit.page.locator("tbody tr").first).to_contain_text(visit.reference)


def staff_accounts(visit: Visit) -> None:
    log_in(visit.page, ADMIN_NAME, ADMIN_PASSWORD)
    visit.page.get_by_role("link", name="Accounts").click()
    visit.heading("Staff accounts")
    expect(visit.page.locator("tbody tr").first).to_contain_text(ADMIN_NAME)


def staff_change_password(visit: Visit) -> None:
    log_in(visit.page)
    visit.page.get_by_role("link", name="Change password").click()
    visit.heading("Change your password")
    visit.page.get_by_label("Current password").fill("not the password at all")
    visit.page.get_by_role("button", name="Change the password").click()
    expect(visit.page.locator(".error-summary")).to_contain_text("Enter a new password.")


def staff_dashboard(visit: Visit, path: str = "/staff/dashboard") -> None:
    """The dashboard (or its monthly report) on six weeks of made-up history, seeded once for this module."""
    with visit.app.app_context():
        if db.session.scalars(select(UsageCount)).first() is None:  # beside this module's own request
            hours = visit.app.extensions["desk_hours"]
            demo.seed(visit.rules, hours, 6, 1, datetime.datetime.now(hours.zone).date())
    log_in(visit.page, ADMIN_NAME, ADMIN_PASSWORD)
    visit.page.goto(path)
    expect(visit.page.get_by_role("heading", level=1)).to_contain_text(
        "Dashboard" if path == "/staff/dashboard" else "Monthly report"
    )


def phone_intake(visit: Visit) -> None:
    log_in(visit.page)
    visit.page.get_by_role("button", name="New phone intake").click()
    visit.heading(forms.PAGES[0].caller_title)
    expect(visit.page.get_by_text("Phone intake: you are answering for a caller.")).to_be_visible()


def phone_intake_emergency(visit: Visit, errors: bool = False) -> None:
    """An emergency on a phone intake: the script to say and the form that records it (with its error)."""
    phone_intake(visit)
    for answer_id, value in (("age_band", "18_49"), ("red_flags", "thunderclap")):
        group = visit.page.get_by_role("group", name=FOR_CALLER[answer_id].label, exact=True)
        group.get_by_text(BY_ID[answer_id].choice_label(value), exact=True).click()
        visit.page.get_by_role("button", name="Continue").click()
    expect(visit.page.get_by_role("heading", name="Say to the caller")).to_be_visible()
    if errors:
        visit.page.get_by_role("button", name="Record the call and end the intake").click()
        visit.heading("Record the emergency call")


PATIENT_PAGES: dict[str, Callable[[Visit], None]] = {
    "start": start,
    "learn": learn,
    **{f"question-{step.slug}": question_page(step, errors=False) for step in forms.PAGES},
    **{f"question-{step.slug}-errors": question_page(step, errors=True) for step in forms.PAGES},
    "check-answers": check_answers,
    **{f"result-{level}": result_page(level) for level in LEVEL_ANSWERS},
    "contact": contact,
    "contact-errors": lambda visit: contact(visit, errors=True),
    "contact-sent": contact_sent,
    "not-found": not_found,
}
STAFF_PAGES: dict[str, Callable[[Visit], None]] = {
    "staff-login": staff_login,
    "staff-login-wrong-password": lambda visit: staff_login(visit, wrong_password=True),
    "staff-queue": staff_queue,
    "staff-request": staff_request,
    "staff-request-finish-errors": staff_request_finish_errors,
    "staff-request-clinician": staff_request_clinician,
    "staff-request-verdict-errors": lambda visit: staff_request_clinician(visit, errors=True),
    "staff-audit": staff_audit,
    "staff-accounts": staff_accounts,
    "staff-change-password-errors": staff_change_password,
    "phone-intake-start": phone_intake,
    "phone-intake-emergency": phone_intake_emergency,
    "phone-intake-emergency-errors": lambda visit: phone_intake_emergency(visit, errors=True),
    "staff-dashboard": staff_dashboard,
    "staff-monthly-report": lambda visit: staff_dashboard(visit, "/staff/dashboard/report"),
}
PAGES = {**PATIENT_PAGES, **STAFF_PAGES}


def bring(visit: Visit, name: str) -> None:
    """Bring the page to the named state, and wait for its stylesheet: the DOM can be read before it applies."""
    PAGES[name](visit)
    visit.page.wait_for_load_state("load")


@pytest.fixture(scope="module")
def stored_reference(live_app: Flask, rules: RuleSet) -> str:
    """A contact request in the queue, stored as the contact page stores one, and a possible duplicate of it."""
    with live_app.app_context():
        contact = contact_requests.Contact("Ada Lovelace", "+12025550123", None, "afternoon")
        contact_requests.create(assess(rules, COMPLETE), dict(COMPLETE), contact, "web")
        return contact_requests.create(assess(rules, COMPLETE), dict(COMPLETE), contact, "web").reference


@pytest.fixture
def visit(
    open_page: Callable[..., Page], live_app: Flask, live_server: str, rules: RuleSet, stored_reference: str
) -> Callable[..., Visit]:
    def visit(language: str = "en", **options: Any) -> Visit:
        page = open_page(locale={"en": "en-US", "es": "es-US"}[language], **options)
        return Visit(page, live_app, live_server, rules, stored_reference, language)

    return visit


@pytest.fixture(scope="module")
def axe_report() -> Iterator[dict[str, Any]]:
    """Collect each page's counts; write them to SYMPTOMCHECK_AXE_REPORT, if set, when the module ends."""
    report: dict[str, Any] = {"tags": WCAG_TAGS, "pages": {}}
    yield report
    path = os.environ.get("SYMPTOMCHECK_AXE_REPORT")
    if path and report["pages"]:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  const rule = (item) => ({
    id: item.id,
    impact: item.impact,
    help: item.help,
    helpUrl: item.helpUrl,
    nodes: item.nodes.map((node) => ({target: node.target.join(" "), summary: node.failureSummary})),
  });
  return {
    version: axe.version,
    violations: result.violations.map(rule),
    passes: result.passes.map((item) => item.id),
    incomplete: result.incomplete.map(rule),
  };
}"""


def run_axe(page: Page) -> dict[str, Any]:
    page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(RUN_AXE, WCAG_TAGS)
    return results


def describe(rules: list[dict[str, Any]]) -> str:
    lines = []
    for rule in rules:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']} {rule['helpUrl']}")
        lines.extend(f"    {node['target']}: {' '.join((node['summary'] or '').split())}" for node in rule["nodes"])
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_violations(visit: Callable[..., Visit], axe_report: dict[str, Any], name: str) -> None:
    require_node_tool(AXE)
    current = visit(bypass_csp=True)
    bring(current, name)
    results = run_axe(current.page)
    axe_report["axe_version"] = results["version"]
    axe_report["pages"][name] = {
        "url": current.page.url.removeprefix(current.base_url),
        "violations": len(results["violations"]),
        "passes": len(results["passes"]),
        "incomplete": len(results["incomplete"]),
        "violation_rules": [rule["id"] for rule in results["violations"]],
        "incomplete_rules": [rule["id"] for rule in results["incomplete"]],
    }
    assert results["passes"], "axe ran no rule at all"
    assert not results["violations"], f"axe finds on {name} ({current.page.url}):\n{describe(results['violations'])}"


@pytest.mark.parametrize("name", list(PATIENT_PAGES))
def test_axe_finds_no_wcag_violations_in_spanish_on_a_phone(visit: Callable[..., Visit], name: str) -> None:
    require_node_tool(AXE)
    current = visit("es", bypass_csp=True, viewport=WIDTHS["phone"])
    bring(current, name)
    assert current.page.locator("html").get_attribute("lang") == "es"
    results = run_axe(current.page)
    assert results["passes"], "axe ran no rule at all"
    assert not results["violations"], f"axe finds on {name} ({current.page.url}):\n{describe(results['violations'])}"


def test_axe_finds_a_planted_violation(visit: Callable[..., Visit]) -> None:
    """The check can fail: an unlabelled box and an image with no text are found."""
    require_node_tool(AXE)
    current = visit(bypass_csp=True)
    bring(current, "start")
    current.page.evaluate("""() => {
      const box = document.createElement("input");
      const image = document.createElement("img");
      image.src = "/static/favicon.svg";
      document.querySelector("main").append(box, image);
    }""")
    found = {rule["id"] for rule in run_axe(current.page)["violations"]}
    assert {"label", "image-alt"} <= found, found


# WCAG 2.2, 2.5.8 Target Size (Minimum): 24 by 24 CSS pixels, unless a 24 px circle on the
# target's centre touches no other target nor another small target's circle, or it is a link
# in a sentence. Measured: links, buttons, form fields, and the labels of radios and boxes.
SMALL_TARGETS = """() => {
  const isTarget = (element) =>
    element.tagName !== "LABEL" || (element.control && ["radio", "checkbox"].includes(element.control.type));
  const shown = (element) => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    // box.right > 0: not the skip link, which waits off to the left until it has focus
    return style.visibility !== "hidden" && box.width > 1 && box.height > 1 && box.right > 0;
  };
  const inSentence = (element) => {
    if (element.tagName !== "A" || getComputedStyle(element).display !== "inline") return false;
    let block = element.parentElement;
    while (getComputedStyle(block).display === "inline") block = block.parentElement;
    return block.textContent.replace(element.textContent, "").trim().length > 0;
  };
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, label";
  const targets = [...document.querySelectorAll(selector)].filter(isTarget).filter(shown).map((element) => {
    const box = element.getBoundingClientRect();
    return {
      element,
      box,
      x: box.left + box.width / 2,
      y: box.top + box.height / 2,
      small: box.width < 24 || box.height < 24,
    };
  });
  const distanceToBox = (x, y, box) =>
    Math.hypot(Math.max(box.left - x, 0, x - box.right), Math.max(box.top - y, 0, y - box.bottom));
  const failures = [];
  for (const target of targets.filter((item) => item.small)) {
    if (inSentence(target.element)) continue;
    const crowded = targets.filter(
      (other) =>
        other !== target &&
        other.element !== target.element.control &&
        other.element.control !== target.element &&
        (distanceToBox(target.x, target.y, other.box) < 12 ||
          (other.small && Math.hypot(other.x - target.x, other.y - target.y) < 24)),
    );
    if (crowded.length) {
      failures.push({
        id: target.element.id,
        target: target.element.outerHTML.slice(0, 120),
        size: `${target.box.width.toFixed(1)}x${target.box.height.toFixed(1)}`,
        crowdedBy: crowded.map((other) => other.element.outerHTML.slice(0, 80)),
      });
    }
  }
  return {measured: targets.length, failures};
}"""


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PATIENT_PAGES))
def test_targets_are_at_least_24_pixels(visit: Callable[..., Visit], name: str, width: str) -> None:
    current = visit(viewport=WIDTHS[width])
    bring(current, name)
    measured = current.page.evaluate(SMALL_TARGETS)
    assert measured["measured"] >= 2, "no targets were measured"
    assert not measured["failures"], f"targets under 24x24 px, too close to others, on {name}:\n" + "\n".join(
        json.dumps(failure) for failure in measured["failures"]
    )


def test_target_size_check_finds_a_small_crowded_target(visit: Callable[..., Visit]) -> None:
    """The check can fail: a 10 px button beside the Start now button is found; one far from any target is not."""
    current = visit()
    bring(current, "start")
    current.page.evaluate("""() => {
      const small = (id) => {
        const button = document.createElement("button");
        button.id = id;
        Object.assign(button.style, {width: "10px", height: "10px", padding: "0", minHeight: "0", border: "0"});
        return button;
      };
      document.querySelector(".button--start").after(small("crowded"));
      const alone = document.createElement("p");
      alone.style.marginTop = "6rem";
      alone.append(small("alone"));
      document.querySelector("main").append(alone);
    }""")
    failures = current.page.evaluate(SMALL_TARGETS)["failures"]
    assert [failure["id"] for failure in failures] == ["crowded"], failures


# What a focused element looks like, next to how it looked before anything had focus.
FOCUS_STYLE = ("outline-style", "outline-width", "outline-color", "box-shadow", "color")
SNAPSHOT = """(properties) => {
  if (document.activeElement) document.activeElement.blur();
  const transparent = (color) => color === "transparent" || /^rgba\\(.*, 0\\)$/.test(color);
  const style = (element) => {
    const computed = getComputedStyle(element);
    const values = Object.fromEntries(properties.map((name) => [name, computed.getPropertyValue(name)]));
    // The colour seen behind the element: its own background, else the nearest one behind it.
    let behind = element;
    while (behind.parentElement && transparent(getComputedStyle(behind).backgroundColor)) behind = behind.parentElement;
    values["seen-background"] = getComputedStyle(behind).backgroundColor;
    return values;
  };
  const unfocused = new Map();
  for (const element of document.querySelectorAll("*")) {
    unfocused.set(element, {index: unfocused.size, style: style(element)});
  }
  window.focusedStyle = () => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    const label = (element.labels && element.labels[0]) || element;
    const before = unfocused.get(element);
    return {
      index: before ? before.index : null,
      name: `${element.tagName.toLowerCase()} "${label.textContent.trim().replace(/\\s+/g, " ").slice(0, 40)}"`,
      before: before ? before.style : null,
      after: style(element),
    };
  };
}"""


def transparent(color: str) -> bool:
    return color == "transparent" or bool(re.fullmatch(r"rgba\(.*,\s*0\)", color))


def focus_indicator(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Say what makes the focus visible: a drawn outline, a new shadow or a new background."""
    shown = []
    outline = after["outline-style"] != "none" and not transparent(after["outline-color"])
    if outline and float(after["outline-width"].removesuffix("px")) >= 2 and before["outline-style"] == "none":
        shown.append(f"outline {after['outline-width']} {after['outline-style']} {after['outline-color']}")
    if after["box-shadow"] != "none" and after["box-shadow"] != before["box-shadow"]:
        shown.append(f"box-shadow {after['box-shadow']}")
    if after["seen-background"] != before["seen-background"]:
        shown.append(f"background {before['seen-background']} -> {after['seen-background']}")
    return shown


def tab_through(page: Page, limit: int = 80) -> list[dict[str, Any]]:
    """Press Tab round the whole page, from wherever focus is; return each stop with its style before and with focus."""
    page.evaluate(SNAPSHOT, list(FOCUS_STYLE))
    stops: list[dict[str, Any]] = []
    seen: set[int | None] = set()
    outside = 0  # presses that left the page (past the last stop, focus goes to the browser)
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("window.focusedStyle()")
        if stop is None:
            outside += 1
            assert outside < 3, f"Tab does not come back into the page after {[s['name'] for s in stops]}"
            continue
        if stop["index"] in seen and stop["index"] is not None:
            return stops
        seen.add(stop["index"])
        stops.append(stop)
    raise AssertionError(f"Tab did not come round in {limit} presses: {[stop['name'] for stop in stops]}")


@pytest.mark.parametrize("name", list(PATIENT_PAGES))
def test_focus_is_visible_on_every_tab_stop(visit: Callable[..., Visit], name: str) -> None:
    current = visit()
    bring(current, name)
    stops = tab_through(current.page)
    assert len(stops) >= 3, f"only {len(stops)} Tab stops on {name}"
    unknown = [stop["name"] for stop in stops if stop["before"] is None]
    assert not unknown, f"focus went to elements that were not on the page at first: {unknown}"
    hidden = [stop for stop in stops if not focus_indicator(stop["before"], stop["after"])]
    assert not hidden, f"no visible focus on {name} for: " + "; ".join(
        f"{stop['name']} {stop['after']}" for stop in hidden
    )


def test_focus_check_finds_an_invisible_focus(visit: Callable[..., Visit]) -> None:
    """The check can fail: a link whose focus style is taken away is the one stop reported."""
    current = visit(bypass_csp=True)
    bring(current, "start")
    current.page.evaluate("""() => {
      const link = document.createElement("a");
      link.href = "#main";
      link.textContent = "Planted";
      document.querySelector("main").append(link);
    }""")
    current.page.add_style_tag(
        content="#main a[href='#main']:focus { outline: none !important; box-shadow: none !important;"
        " background: none !important; }"
    )
    stops = tab_through(current.page)
    assert [stop["name"] for stop in stops if not focus_indicator(stop["before"], stop["after"])] == ['a "Planted"']
