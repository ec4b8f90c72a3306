"""Privacy canary: contact details and notes never reach a URL, a header or a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from examples import COMPLETE
from symptomcheck.records.models import Staff, db
from tests.test_journey import Patient

CANARY = "Qzx7Canary"
PHONE = "+1 202-555-0177"


def test_the_canary_stays_where_it_belongs(make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app()
    with app.app_context():
        staff = Staff(username="desk")
        staff.set_password("correct horse battery staple")
        db.session.add(staff)
        db.session.commit()
    responses: list[tuple[str, TestResponse]] = []

    def record(client: Any) -> None:
        original = client.open

        def open_and_record(*args: Any, **kwargs: Any) -> TestResponse:
            response = original(*args, **kwargs)
            responses.append((str(args[0]) if args else "", response))
            return response

        client.open = open_and_record

    patient_client, desk_client = app.test_client(), app.test_client()
    record(patient_client)
    record(desk_client)
    patient = Patient(patient_client)
    patient.answer_all({**COMPLETE, "red_flags": ["progressive"]})
    patient.submit("/contact", {"name": f"{CANARY} Name", "email": f"{CANARY.lower()}@example.org",
                                "phone": "", "preferred_time": "any", "consent": ""})  # fmt: skip
    patient.submit("/contact", {"name": f"{CANARY} Name", "email": f"{CANARY.lower()}@example.org",
                                "phone": PHONE, "preferred_time": "any", "consent": "y"})  # fmt: skip
    patient.read("/contact/sent")

    desk = Patient(desk_client)
    desk.submit("/staff/login", {"username": "desk", "password": "correct horse battery staple"})
    reference = desk.read("/staff/").select("tbody tr a")[0].get_text()
    page = desk.read(f"/staff/requests/{reference}")
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    desk_client.post(f"/staff/requests/{reference}/notes", data={"note": f"{CANARY} note", "csrf_token": token})
    desk_client.post(f"/staff/requests/{reference}/status",
                     data={"status": "contacted", "status_note": f"{CANARY} called", "csrf_token": token})  # fmt: skip
    shown = desk_client.get(f"/staff/requests/{reference}").get_data(as_text=True)
    desk_client.get("/staff/export.csv")
    desk_client.get(f"/staff/requests/{reference}/fhir")
    desk_client.get("/staff/audit")
    desk_client.get(f"/staff/requests/{CANARY}")  # a 404 page

    assert f"{CANARY} Name" in shown
    assert f"{CANARY} note" in shown  # the staff page that must show it does
    assert len(responses) > 25
    secrets = (CANARY, CANARY.lower(), "2025550177")
    for url, response in responses:
        for secret in secrets:
            if url.endswith(f"/staff/requests/{CANARY}"):
                continue  # the one URL we typed the canary into ourselves
            assert secret not in url, url
            assert secret not in (response.location or ""), url
            cookies = response.headers.getlist("Set-Cookie")
            headers = [f"{name}: {value}" for name, value in response.headers.items() if name != "Set-Cookie"]
            assert not any(secret in header for header in headers), (url, headers)
            assert not any(secret in cookie for cookie in cookies), url
        if response.status_code >= 400:
            assert CANARY not in response.get_data(as_text=True), url
    for record_ in caplog.records:
        assert not any(secret in record_.getMessage() for secret in secrets), record_.getMessage()


def test_gunicorn_logs_paths_never_query_strings() -> None:
    import runpy

    from tests.helpers import ROOT

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert "%(U)s" in config["access_log_format"]
    assert not any(field in config["access_log_format"] for field in ("%(r)s", "%(q)s", "%(i)s", "%(a)s"))
    assert config["workers"] >= 2
