"""The form journey through the test client, with CSRF on, page by page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from examples import COMPLETE, TO_EACH_LEVEL, page_posts
from symptomcheck.patient.forms import PAGES
from tests.helpers import RULES_VERSION, check_page, text_of

# The pages after the warning signs, as the page structure defines them.
NECK, HEADACHES, TREATMENT = (page.answer_ids for page in PAGES[2:])


class Patient:
    """A person using the pages: reads each page, and posts it with its CSRF token."""

    def __init__(self, client: FlaskClient, language: str = "en") -> None:
        self.client = client
        self.language = language

    def read(self, url: str) -> BeautifulSoup:
        response = self.client.get(url)
        assert response.status_code == 200, url
        return check_page(response.data, self.language)

    def submit(self, url: str, data: dict[str, Any]) -> TestResponse:
        token = self.read(url).find("input", attrs={"name": "csrf_token"})
        assert token is not None
        return self.client.post(url, data={**data, "csrf_token": token["value"]})

    def answer(self, slug: str, answers: dict[str, Any], ids: tuple[str, ...]) -> TestResponse:
        return self.submit(f"/questions/{slug}", {key: answers[key] for key in ids})

    def answer_all(self, answers: dict[str, Any]) -> TestResponse:
        """Answer every page in order; return the last page's response."""
        for slug, fields in page_posts(answers):
            response = self.submit(f"/questions/{slug}", fields)
        return response


@pytest.fixture
def patient(client: FlaskClient) -> Patient:
    return Patient(client)


def test_start_page_says_what_this_is_and_is_not(patient: Patient) -> None:
    page = text_of(patient.read("/"))
    assert "This is not a diagnosis." in page
    assert "about 3 minutes" in page
    assert "We do not save your answers unless you ask us to contact you." in page
    assert "In an emergency, call 911 now." in page


def test_emergency_stops_after_the_warning_signs(patient: Patient) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    response = patient.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]})
    assert response.status_code == 302
    assert response.location == "/result"
    page = patient.read("/result")
    assert page.h1 is not None
    assert page.h1.get_text(strip=True) == "Call 911 or go to the nearest emergency room now."
    assert page.find("a", href="tel:911") is not None
    assert "full strength within about a minute" in text_of(page)


@pytest.mark.parametrize(("change", "level_title"), TO_EACH_LEVEL.values(), ids=TO_EACH_LEVEL)
def test_full_journey_to_each_level(patient: Patient, change: dict[str, Any], level_title: str) -> None:
    response = patient.answer_all({**COMPLETE, **change})
    assert response.location == "/check-answers"
    check = text_of(patient.read("/check-answers"))
    assert "Check your answers" in check
    page = patient.read("/result")
    assert page.h1 is not None
    assert page.h1.get_text(strip=True).startswith(level_title)
    text = text_of(page)
    assert "not a diagnosis" in text
    assert f"Rule set version {RULES_VERSION}" in text
    # The pattern is shown from "soon" down; at "get care today" nothing may reassure (triage.md, section 4).
    assert ("share" in text) == (level_title != TO_EACH_LEVEL["urgent"][1])


def test_an_urgent_result_says_what_to_do_now_and_nothing_that_reassures(patient: Patient) -> None:
    patient.answer_all({**COMPLETE, "red_flags": ["fever"], "neck_stiffness": "no"})
    page = patient.read("/result")
    text = text_of(page)
    assert page.h1 is not None and page.h1.get_text(strip=True) == "Get medical care today."
    assert "You have a fever with this headache." in text  # why
    assert "If you get worse, call 911." in text  # what to do if it gets worse
    for reassuring in ("share", "Other things we noted", "spine and headache clinic", "Your headaches have gone on"):
        assert reassuring not in text, reassuring
    assert "Do not wait for our call. Get medical care today." in text
    contact = page.find("a", href="/contact")
    assert contact is not None and "button--secondary" in contact["class"]


def test_a_result_from_soon_down_links_to_the_teaching_that_fits_its_pattern(patient: Patient) -> None:
    patient.answer_all(COMPLETE)  # routine, cgh_likely
    link = patient.read("/result").find("a", string="Learn about headaches that start in the neck")
    assert link is not None and link["href"] == "/learn#treatments"
    learn = patient.read("/learn")
    assert learn.find(id="treatments") is not None


def test_emergency_number_is_said_once_per_page_in_the_footer(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    for url in ("/questions/neck", "/check-answers", "/result", "/learn", "/contact"):
        page = patient.read(url)
        for printed in page.select(".print-only"):  # display: none on screen, for the printed result only
            printed.decompose()
        assert text_of(page).count("In an emergency, call 911") == 1, url


def test_each_page_says_which_step_it_is(patient: Patient) -> None:
    assert "Step 1 of 5" in text_of(patient.read("/questions/about-you"))


def test_radio_groups_are_fieldsets_with_legends(patient: Patient) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"no_red_flags": "y"})
    page = patient.read("/questions/neck")
    legends = [legend.get_text(strip=True) for legend in page.select("fieldset > legend")]
    assert legends[0] == "Does the pain start in your neck and spread to your head?"
    assert legends[-1] == "Did you hurt your neck more than 4 weeks ago?"  # an old injury is asked with the neck
    assert len(legends) == len(NECK)


def test_errors_are_summarised_and_answers_kept(patient: Patient) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"no_red_flags": "y"})
    patient.answer("neck", COMPLETE, NECK)
    response = patient.submit(
        "/questions/headaches", {"duration": "over_3_months", "headache_days": "lots", "impact": ["sleep"]}
    )
    assert response.status_code == 200
    page = check_page(response.data)
    assert page.title is not None
    assert page.title.get_text().startswith("Error: ")
    summary = page.find(class_="error-summary")
    assert summary is not None
    links = {link["href"]: link.get_text(strip=True) for link in summary.find_all("a")}
    assert links == {
        "#headache_days": "Enter a number of days from 0 to 31.",
        "#pain_intensity": "Enter a number from 0 to 10.",
    }
    assert page.find(id="headache_days")["value"] == "lots"
    assert page.find(id="headache_days")["aria-describedby"] == "headache_days-hint headache_days-error"
    assert page.find("input", attrs={"name": "duration", "value": "over_3_months"}).has_attr("checked")
    assert page.find("input", attrs={"name": "impact", "value": "sleep"}).has_attr("checked")


def test_warning_signs_cannot_be_skipped(patient: Patient) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    page = check_page(patient.submit("/questions/warning-signs", {}).data)
    assert "Select the signs you have, or select 'None of these'." in text_of(page)
    both = check_page(patient.submit("/questions/warning-signs", {"red_flags": ["fever"], "no_red_flags": "y"}).data)
    assert "Select only the signs you have, or only 'None of these'." in text_of(both)


def test_a_forged_value_is_refused_with_the_question_message(patient: Patient) -> None:
    response = patient.submit("/questions/about-you", {"age_band": "ancient"})
    assert response.status_code == 200
    assert "Select your age group." in text_of(check_page(response.data))


def test_later_pages_send_you_back_to_the_first_unanswered_one(patient: Patient) -> None:
    response = patient.client.get("/questions/treatment")
    assert response.location == "/questions/about-you"
    assert patient.client.get("/result").location == "/questions/about-you"
    assert patient.client.get("/check-answers").location == "/questions/about-you"


def test_change_an_answer_from_the_check_page(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    check = patient.read("/check-answers")
    change = check.find("a", href="/questions/headaches?from=check#pain_intensity")
    assert change is not None
    assert "your answer to: How bad is the pain" in change.get_text()
    page = patient.read("/questions/headaches")
    assert page.find(id="pain_intensity")["value"] == "5"
    response = patient.submit(
        "/questions/headaches", {**{key: COMPLETE[key] for key in HEADACHES}, "pain_intensity": 9}
    )
    assert response.location == "/check-answers"
    rows = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in patient.read("/check-answers").select(".summary__row")
    }
    assert rows["How bad is the pain at its worst, from 0 to 10?"] == "9 out of 10"


def test_changing_to_an_emergency_sign_goes_straight_to_the_result(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    response = patient.submit("/questions/warning-signs", {"red_flags": ["neuro_deficit"]})
    assert response.location == "/result"
    assert patient.client.get("/check-answers").location == "/result"


def test_start_again_forgets_the_answers(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    token = patient.read("/result").find("input", attrs={"name": "csrf_token"})["value"]
    response = patient.client.post("/start-again", data={"csrf_token": token})
    assert response.location == "/questions/about-you"
    assert patient.client.get("/result").location == "/questions/about-you"


def test_csrf_is_enforced(client: FlaskClient) -> None:
    response = client.post("/questions/about-you", data={"age_band": "18_49"})
    assert response.status_code == 200
    page = check_page(response.data)
    assert "Please press Continue again" in text_of(page)
    assert client.get("/questions/warning-signs").location == "/questions/about-you"


def test_an_expired_session_keeps_the_answers_on_the_page(patient: Patient) -> None:
    token = patient.read("/questions/about-you").find("input", attrs={"name": "csrf_token"})["value"]
    patient.client.delete_cookie("session")
    response = patient.client.post("/questions/about-you", data={"age_band": "50_plus", "csrf_token": token})
    page = check_page(response.data)
    assert "This page was open for a long time" in text_of(page)
    assert page.find("input", attrs={"name": "age_band", "value": "50_plus"}).has_attr("checked")
    fresh = page.find("input", attrs={"name": "csrf_token"})["value"]
    assert (
        patient.client.post("/questions/about-you", data={"age_band": "50_plus", "csrf_token": fresh}).status_code
        == 302
    )


def test_answers_never_appear_in_urls(app: Flask) -> None:
    visited: list[str] = []
    client = app.test_client()
    patient = Patient(client)
    for response in [patient.answer_all({**COMPLETE, "red_flags": ["fever"]})]:
        visited.append(response.location)
    visited += ["/check-answers", "/result"]
    for url in visited:
        assert "?" not in url
        assert all(str(value) not in url for value in ("fever", "over_3_months"))


def test_unknown_page_is_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/questions/nope")
    assert response.status_code == 404
    assert "Page not found" in text_of(check_page(response.data))


def test_an_unexpected_error_shows_a_plain_page_and_logs_no_answers(
    caplog: pytest.LogCaptureFixture, make_app: Callable[..., Flask]
) -> None:
    app = make_app(TESTING=False)

    canary = "-".join(["canary", "7f3a"])  # built at run time, so it is in no source line

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError(canary)

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = text_of(check_page(response.data))
    assert "Sorry, something went wrong" in text
    assert "Traceback" not in text
    assert "RuntimeError" in caplog.text
    assert canary not in caplog.text


def test_pages_render_with_csrf_switched_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    page = check_page(client.get("/questions/about-you").data)
    assert page.find("input", attrs={"name": "csrf_token"}) is None
    assert client.post("/questions/about-you", data={"age_band": "18_49"}).location == "/questions/warning-signs"


@pytest.mark.parametrize("typed", ["1_0", "５", "1e3", "-1", "0x1", "12.0", "3 4"])
def test_a_number_must_be_plain_digits(patient: Patient, typed: str) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"no_red_flags": "y"})
    patient.answer("neck", COMPLETE, NECK)
    response = patient.submit(
        "/questions/headaches", {**{key: COMPLETE[key] for key in HEADACHES}, "headache_days": typed}
    )
    assert response.status_code == 200
    assert "Enter a number of days from 0 to 31." in text_of(check_page(response.data))


def test_none_of_these_sent_as_n_is_not_ticked(patient: Patient) -> None:
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    response = patient.submit("/questions/warning-signs", {"no_red_flags": "n"})
    assert "Select the signs you have, or select 'None of these'." in text_of(check_page(response.data))


def test_pages_with_answers_are_not_cached(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    for url in ("/questions/neck", "/check-answers", "/result"):
        assert patient.client.get(url).headers["Cache-Control"] == "no-store"


def test_a_request_that_is_too_large_is_refused_plainly(client: FlaskClient) -> None:
    response = client.post("/questions/about-you", data={"age_band": "x" * 100_000})
    assert response.status_code == 413
    assert "That was too much to send" in text_of(check_page(response.data))


def test_no_answer_or_contact_detail_appears_in_any_url(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    client = app.test_client()
    seen: list[str] = []
    original_open = client.open

    def recording_open(*args: Any, **kwargs: Any) -> TestResponse:
        response = original_open(*args, **kwargs)
        seen.append(str(args[0]) if args else str(kwargs.get("path", "")))
        if response.location:
            seen.append(response.location)
        return response

    client.open = recording_open  # type: ignore[method-assign]
    patient = Patient(client)
    patient.answer_all({**COMPLETE, "red_flags": ["pregnant_postpartum"]})
    patient.read("/result")
    patient.submit("/contact", {"name": "Zelda Canary", "email": "zelda.canary@example.org",
                                "preferred_time": "any", "consent": "y"})  # fmt: skip
    assert len(seen) > 15
    values = {str(value) for value in COMPLETE.values() if not isinstance(value, list)}
    secrets = values | {"pregnant_postpartum", "Zelda", "Canary", "zelda.canary"}
    for url in seen:
        assert "?" not in url, url
        assert not [secret for secret in secrets if secret in url.split("/")[-1] and len(secret) > 2], url


def test_check_your_answers_lists_them_in_the_order_the_pages_ask(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    page = patient.read("/check-answers")
    shown = [row.find("dd", class_="summary__change").a["href"].split("#")[1] for row in page.select(".summary__row")]
    asked = ["age_band", "red_flags", *NECK, *HEADACHES, *TREATMENT]
    assert shown == asked


@pytest.mark.parametrize(("level", "secondary"), [("urgent", True), ("soon", False), ("routine", False)])
def test_on_a_get_care_today_result_the_contact_offer_is_not_the_main_button(
    patient: Patient, level: str, secondary: bool
) -> None:
    change, _ = TO_EACH_LEVEL[level]
    patient.answer_all({**COMPLETE, **change})
    link = patient.read("/result").find("a", href="/contact")
    assert link is not None
    assert ("button--secondary" in link["class"]) is secondary


def test_contradicting_treatments_are_refused_on_the_page(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    response = patient.submit(
        "/questions/treatment",
        {"treatments_tried": ["injections"], "treatment_result": "not_tried", "pain_relief_days": "2"},
    )
    assert response.status_code == 200
    page = check_page(response.data)
    assert "What have you tried" in text_of(page)
    error = page.find(id="treatment_result-error")
    assert error is not None and "I have not tried anything yet" in error.get_text()


def test_a_sight_change_in_pregnancy_stops_after_the_headache_page(patient: Patient) -> None:
    answers = {**COMPLETE, "red_flags": ["pregnant_postpartum"], "migraine_features": ["visual_aura"]}
    patient.answer("about-you", answers, ("age_band",))
    patient.submit("/questions/warning-signs", {"red_flags": answers["red_flags"]})
    patient.answer("neck", answers, NECK)
    response = patient.answer("headaches", answers, HEADACHES)
    assert response.location == "/result"
    page = patient.read("/result")
    assert page.h1 is not None and page.h1.get_text(strip=True).startswith("Call 911")
    assert "flashing lights or zigzag lines" in text_of(page)


def test_numbers_carry_their_units_and_a_number_too_high_says_so(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    check = text_of(patient.read("/check-answers"))
    assert f"{COMPLETE['headache_days']} days a month" in check
    assert f"{COMPLETE['pain_intensity']} out of 10" in check
    response = patient.submit(
        "/questions/headaches", {**{key: COMPLETE[key] for key in HEADACHES}, "pain_intensity": 11}
    )
    error = check_page(response.data).find(id="pain_intensity-error")
    assert error is not None and "11 is too high. Enter a number from 0 to 10." in error.get_text()


def test_back_on_a_page_opened_with_change_returns_to_the_check_page(patient: Patient) -> None:
    patient.answer_all(COMPLETE)
    change = patient.read("/check-answers").find("a", href=lambda href: href and href.endswith("#pain_intensity"))
    assert change is not None
    page = patient.read(change["href"].split("#")[0])
    back = page.find("a", class_="back-link")
    assert back is not None and back["href"] == "/check-answers"
    assert patient.read("/questions/headaches").find("a", class_="back-link")["href"] == "/questions/neck"
