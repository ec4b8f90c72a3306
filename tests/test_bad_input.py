"""Bad input: NUL bytes and control characters get a field's message, never a database error."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examples import COMPLETE
from symptomcheck.records.models import ContactRequest
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import CONTACT
from tests.test_journey import Patient


def test_a_nul_byte_in_a_name_is_the_fields_message_and_keeps_the_rest(storage_app: Flask) -> None:
    patient = Patient(storage_app.test_client())
    patient.answer_all(COMPLETE)
    response = patient.submit("/contact", {**CONTACT, "name": "Ada\x00Lovelace"})
    assert response.status_code == 200
    page = check_page(response.data)
    assert "Use only letters, numbers, spaces and marks like - or ' in your name." in text_of(page)
    phone = page.find("input", attrs={"name": "phone"})
    assert phone is not None
    assert phone["value"] == CONTACT["phone"]
    assert detached_rows(storage_app, ContactRequest) == []


def test_a_nul_byte_in_a_username_or_a_reference_is_a_422(desk_client: FlaskClient, storage_app: Flask) -> None:
    for url in ("/staff/?q=AB\x00CD-EFGH", "/staff/requests/AB%00C-DEFG"):
        response = desk_client.get(url)
        assert response.status_code == 422, url
        assert "has a character we cannot use" in text_of(check_page(response.data))
    login = storage_app.test_client()
    page = Patient(login).read("/staff/login")
    token = page.find("input", attrs={"name": "csrf_token"})
    assert token is not None
    form = {"username": "front\x00desk", "password": "x", "csrf_token": token["value"]}
    response = login.post("/staff/login", data=form)
    assert response.status_code == 422
    assert "username" in response.get_data(as_text=True) or "cannot use" in text_of(check_page(response.data))


@pytest.mark.parametrize("name", ["Ada\x1bLovelace", "Ada\rLovelace", "Ada\x7f"])
def test_other_control_characters_in_a_name_are_refused_too(client: FlaskClient, name: str) -> None:
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    response = patient.submit("/contact", {**CONTACT, "name": name})
    assert response.status_code == 200
    assert "in your name" in text_of(check_page(response.data))


def test_names_shown_to_staff_are_isolated_for_direction(storage_app: Flask, desk_client: FlaskClient) -> None:
    from tests.test_frontdesk import send_request

    disguised = "Ada \u202eecnalaval"  # a right-to-left override: would reorder what follows it on the page
    send_request(storage_app, contact={**CONTACT, "name": disguised})
    (stored,) = detached_rows(storage_app, ContactRequest)
    for url in ("/staff/", f"/staff/requests/{stored.reference}"):
        page = check_page(desk_client.get(url).data)
        isolated = [tag.get_text() for tag in page.find_all("bdi")]
        assert disguised in isolated, url
    assert "Ada@example.org" in isolated  # the request page shows the email address too
