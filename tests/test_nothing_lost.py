"""Nothing lost, nothing doubled: the contact form's one-time token, faults at the commit, faults at teardown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from examples import COMPLETE
from symptomcheck.records import contact_requests
from symptomcheck.records.models import ContactRequest
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import CONTACT
from tests.test_journey import Patient


def filled_form(patient: Patient) -> dict[str, Any]:
    """Return the contact form as the page gives it (CSRF and one-time tokens), filled in."""
    page = patient.read("/contact")
    hidden = {field["name"]: field["value"] for field in page.find_all("input", attrs={"type": "hidden"})}
    assert set(hidden) == {"csrf_token", "submission"}
    assert len(hidden["submission"]) == 32
    return {**CONTACT, **hidden}


def shown_reference(patient: Patient) -> str:
    page = patient.read("/contact/sent")
    found = page.find(class_="reference")
    assert found is not None, text_of(page)
    return found.get_text(strip=True)


@pytest.fixture
def patient(storage_app: Flask) -> Patient:
    patient = Patient(storage_app.test_client())
    patient.answer_all(COMPLETE)
    return patient


@pytest.fixture
def commit_fault(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the next commits fail as a lost connection does: after the database committed, or before."""
    real_commit = Session.commit
    plan: list[str] = []

    def commit(self: Session) -> None:
        if not plan:
            return real_commit(self)
        when = plan.pop(0)
        if when == "after":
            real_commit(self)
        raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection unexpectedly"))

    def arrange(*faults: str) -> None:
        plan.extend(faults)

    monkeypatch.setattr(Session, "commit", commit)
    return arrange


def test_the_same_form_sent_twice_stores_one_request(storage_app: Flask, patient: Patient) -> None:
    form = filled_form(patient)
    first = patient.client.post("/contact", data=form)
    assert first.location == "/contact/sent"
    reference = shown_reference(patient)
    again = patient.client.post("/contact", data=form)  # a retry: the browser sends the same page again
    assert again.location == "/contact/sent"
    assert shown_reference(patient) == reference
    assert [row.reference for row in detached_rows(storage_app, ContactRequest)] == [reference]
    second_form = filled_form(patient)  # a new form is a new request
    assert second_form["submission"] != form["submission"]
    assert patient.client.post("/contact", data=second_form).location == "/contact/sent"
    assert len(detached_rows(storage_app, ContactRequest)) == 2


def test_a_commit_that_reached_the_database_before_the_connection_broke_is_confirmed(
    storage_app: Flask, patient: Patient, commit_fault: Callable[..., None]
) -> None:
    commit_fault("after")
    response = patient.client.post("/contact", data=filled_form(patient))
    assert response.location == "/contact/sent"  # found again by its token: confirmed, not "Nothing was saved"
    rows = detached_rows(storage_app, ContactRequest)
    assert [row.reference for row in rows] == [shown_reference(patient)]


def test_when_it_cannot_tell_it_says_so_and_a_retry_stores_it_once(
    storage_app: Flask, patient: Patient, commit_fault: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    form = filled_form(patient)
    commit_fault("after")
    monkeypatch.setattr(contact_requests, "find_submission_after_fault", lambda token: None)  # the database is gone
    response = patient.client.post("/contact", data=form)
    assert response.status_code == 503
    page = check_page(response.data)
    text = text_of(page)
    assert "We could not tell if your request reached us" in text
    assert "Nothing was saved" not in text
    kept = page.find("input", attrs={"name": "submission"})
    assert kept is not None
    assert kept["value"] == form["submission"]  # the page to send again carries the same token
    name = page.find("input", attrs={"name": "name"})
    assert name is not None
    assert name["value"] == CONTACT["name"]
    assert len(detached_rows(storage_app, ContactRequest)) == 1  # it was stored, the person could not be told
    retry = patient.client.post("/contact", data={**form, "csrf_token": form["csrf_token"]})
    assert retry.location == "/contact/sent"
    rows = detached_rows(storage_app, ContactRequest)
    assert [row.reference for row in rows] == [shown_reference(patient)]


def test_a_commit_that_failed_is_stored_once_by_the_retry(
    storage_app: Flask, patient: Patient, commit_fault: Callable[..., None]
) -> None:
    form = filled_form(patient)
    commit_fault("before")
    assert patient.client.post("/contact", data=form).status_code == 503
    assert detached_rows(storage_app, ContactRequest) == []
    assert patient.client.post("/contact", data=form).location == "/contact/sent"
    assert len(detached_rows(storage_app, ContactRequest)) == 1


def test_a_fault_during_teardown_gives_the_branded_page_with_its_headers(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.teardown_appcontext
    def broken_teardown(error: BaseException | None) -> None:
        raise OperationalError("ROLLBACK", {}, ConnectionResetError("gone"))

    response = app.test_client().get("/")
    assert response.status_code == 500
    page = check_page(response.data)
    assert "Sorry, something went wrong" in text_of(page)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def sent_and_changed(patient: Patient) -> dict[str, str]:
    """Send a request, change an answer, and return the result page's update form (CSRF and one-time tokens)."""
    assert patient.client.post("/contact", data=filled_form(patient)).location == "/contact/sent"
    patient.submit("/questions/warning-signs", {"red_flags": ["fever"]})
    form = patient.read("/result").find("form", action="/contact/update")
    assert form is not None
    hidden = {field["name"]: field["value"] for field in form.find_all("input", attrs={"type": "hidden"})}
    assert set(hidden) == {"csrf_token", "submission"}
    assert len(hidden["submission"]) == 32
    return hidden


def updates(storage_app: Flask) -> list[ContactRequest]:
    return [row for row in detached_rows(storage_app, ContactRequest) if row.updates_id is not None]


def test_an_update_sent_twice_after_a_fault_stores_one_update(
    storage_app: Flask, patient: Patient, commit_fault: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed answers whose commit reached the database while the person was not told are kept once, not twice."""
    form = sent_and_changed(patient)
    commit_fault("after")
    monkeypatch.setattr(contact_requests, "find_submission_after_fault", lambda token: None)  # the database is gone
    response = patient.client.post("/contact/update", data=form)
    assert response.status_code == 503
    page = check_page(response.data)
    assert "We could not tell if your new answers reached us" in text_of(page)
    kept = page.find("form", action="/contact/update").find("input", attrs={"name": "submission"})
    assert kept["value"] == form["submission"]  # pressing the button again sends the same token
    assert len(updates(storage_app)) == 1  # stored, though the person could not be told
    monkeypatch.undo()
    assert patient.client.post("/contact/update", data=form).location == "/result"
    assert len(updates(storage_app)) == 1
    assert "We sent your new answers with your request" in text_of(patient.read("/result"))


def test_an_update_whose_commit_failed_is_stored_once_by_the_retry(
    storage_app: Flask, patient: Patient, commit_fault: Callable[..., None]
) -> None:
    form = sent_and_changed(patient)
    commit_fault("before")
    assert patient.client.post("/contact/update", data=form).status_code == 503
    assert updates(storage_app) == []
    assert patient.client.post("/contact/update", data=form).location == "/result"
    assert len(updates(storage_app)) == 1
