"""Alerts to the desk: an outbox written with the request, sent after the response to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from examples import COMPLETE
from symptomcheck.records import alerts
from symptomcheck.records.models import Alert, ContactRequest, db
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import CONTACT, count, log_in, make_staff, send_request

URGENT = {**COMPLETE, "red_flags": ["fever"]}
SOON = {**COMPLETE, "red_flags": ["progressive"]}
DESK = ("desk@clinic.example", "lead@clinic.example")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Inbox:
    """What the SMTP server received: each message with its envelope."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def check_login(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.login == b"desk-sender" and data.password == b"mail-password")


def start_inbox(port: int | None = None, with_login: bool = False) -> tuple[Inbox, Controller]:
    inbox = Inbox(port or free_port())
    extra: dict[str, Any] = {"authenticator": inbox.check_login, "auth_require_tls": False} if with_login else {}
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **extra)
    controller.start()
    return inbox, controller


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    found, controller = start_inbox()
    yield found
    controller.stop()


def mail_config(port: int, **more: Any) -> dict[str, Any]:
    return {
        "MAIL_SERVER": f"127.0.0.1:{port}",
        "MAIL_FROM": "symptomcheck@clinic.example",
        "DESK_EMAIL": ", ".join(DESK),
        "PUBLIC_URL": "https://check.clinic.example/",
        **more,
    }


@pytest.fixture
def mail_app(storage_app: Flask, inbox: Inbox) -> Flask:
    storage_app.config.update(mail_config(inbox.port))
    return storage_app


def run_alerts(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["desk", "alerts"])


def outbox(app: Flask) -> list[Alert]:
    return detached_rows(app, Alert)


def only_reference(app: Flask) -> str:
    with app.app_context():
        (reference,) = db.session.scalars(select(ContactRequest.reference))
        return reference


def sent_request(app: Flask, answers: dict[str, Any], contact: dict[str, Any] | None = None) -> Any:
    """Send a request as a person would; close the response as a server does once it has gone out."""
    patient, response = send_request(app, answers, contact)
    assert response.location == "/contact/sent"
    response.close()
    return patient


def test_a_new_urgent_request_emails_the_desk_once_with_no_personal_details(mail_app: Flask, inbox: Inbox) -> None:
    patient = sent_request(mail_app, URGENT)
    reference = only_reference(mail_app)
    assert reference in text_of(patient.read("/contact/sent"))

    (message,) = inbox.messages
    assert inbox.recipients == [list(DESK)]
    assert message["From"] == "symptomcheck@clinic.example"
    assert message["Subject"] == f"New Urgent (care today) request {reference}"
    body = message.get_content()
    assert f"Reference: {reference}" in body
    assert "Level: Urgent (care today)" in body
    assert "Due by: " in body
    assert "(1 working hour)" in body
    assert f"Open it: https://check.clinic.example/staff/requests/{reference}" in body
    raw = " ".join(f"{name}: {value}" for name, value in message.items()).lower() + body.lower()
    for private in ("ada", "lovelace", "555", "0143", "example.org", "fever", "morning", "neck", "headache"):
        assert private not in raw, f"the alert email contains {private!r}"
    (alert,) = outbox(mail_app)
    assert alert.kind == "new"
    assert alert.sent_at is not None
    assert alert.attempts == 1

    result = run_alerts(mail_app)  # cron a minute later: nothing left to send
    assert result.exit_code == 0, result.output
    assert "sent 0, failed 0, waiting 0" in result.output
    assert len(inbox.messages) == 1


def test_the_link_in_the_email_opens_the_request_for_staff(mail_app: Flask, inbox: Inbox) -> None:
    sent_request(mail_app, SOON)
    (message,) = inbox.messages
    link = next(line for line in message.get_content().splitlines() if line.startswith("Open it: "))
    path = link.removeprefix("Open it: https://check.clinic.example")
    make_staff(mail_app)
    client: FlaskClient = mail_app.test_client()
    log_in(client)
    page = text_of(check_page(client.get(path).data))
    assert "Ada Lovelace" in page
    assert message["Subject"].startswith("New Soon (within a week) request")


def test_routine_requests_send_no_alert_by_default_and_levels_are_configurable(mail_app: Flask, inbox: Inbox) -> None:
    sent_request(mail_app, COMPLETE)
    assert inbox.messages == []
    assert outbox(mail_app) == []
    mail_app.config["ALERT_LEVELS"] = "urgent, routine"
    sent_request(mail_app, COMPLETE, {**CONTACT, "name": "Second Person"})
    sent_request(mail_app, SOON, {**CONTACT, "name": "Third Person"})
    assert [message["Subject"].split(" request")[0] for message in inbox.messages] == ["New Routine visit"]


def test_a_mail_server_that_is_down_never_breaks_the_confirmation(storage_app: Flask) -> None:
    port = free_port()  # nothing listens here yet
    storage_app.config.update(mail_config(port))
    patient = sent_request(storage_app, URGENT)
    reference = only_reference(storage_app)
    assert reference in text_of(patient.read("/contact/sent"))
    assert count(storage_app, ContactRequest) == 1
    (alert,) = outbox(storage_app)
    assert alert.sent_at is None
    assert alert.attempts == 1
    assert alert.last_error == "ConnectionRefusedError"
    wait = alert.next_attempt_at.replace(tzinfo=datetime.UTC) - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(seconds=30) < wait <= datetime.timedelta(minutes=1)

    inbox, controller = start_inbox(port)
    try:
        result = run_alerts(storage_app)  # within the minute: the retry is not due yet
        assert "sent 0, failed 0, waiting 1" in result.output
        assert inbox.messages == []
        with storage_app.app_context():
            db.session.execute(update(Alert).values(next_attempt_at=datetime.datetime.now(datetime.UTC)))
            db.session.commit()
        result = run_alerts(storage_app)
        assert result.exit_code == 0, result.output
        assert "sent 1, failed 0, waiting 0" in result.output
        assert run_alerts(storage_app).output.count("sent 0") == 1
    finally:
        controller.stop()
    (message,) = inbox.messages
    assert reference in message["Subject"]
    (alert,) = outbox(storage_app)
    assert alert.sent_at is not None
    assert alert.attempts == 2
    assert alert.last_error is None


def test_failed_sends_back_off_and_the_command_says_so(storage_app: Flask) -> None:
    storage_app.config.update(mail_config(free_port()))
    sent_request(storage_app, URGENT)
    with storage_app.app_context():
        db.session.execute(update(Alert).values(next_attempt_at=datetime.datetime.now(datetime.UTC)))
        db.session.commit()
    result = run_alerts(storage_app)
    assert result.exit_code == 1
    assert "sent 0, failed 1" in result.output
    (alert,) = outbox(storage_app)
    assert alert.attempts == 2
    assert [alerts.retry_delay(attempt).total_seconds() / 60 for attempt in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_alert_taken_by_one_sender_is_not_taken_by_another(mail_app: Flask) -> None:
    mail_app.config["MAIL_SERVER"] = ""  # keep it in the outbox
    sent_request(mail_app, URGENT)
    (alert,) = outbox(mail_app)
    with mail_app.app_context():
        at = datetime.datetime.now(datetime.UTC)
        assert alerts.take(alert.id, at)
        assert not alerts.take(alert.id, at)  # a second sender (cron, another worker) finds it taken


def test_overdue_requests_are_alerted_once_each(mail_app: Flask, inbox: Inbox) -> None:
    mail_app.config["ALERT_LEVELS"] = ""
    sent_request(mail_app, COMPLETE)
    sent_request(mail_app, SOON, {**CONTACT, "name": "Contacted Already"})
    sent_request(mail_app, URGENT, {**CONTACT, "name": "Just Arrived"})
    with mail_app.app_context():
        late = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8)
        db.session.execute(update(ContactRequest).where(ContactRequest.level != "urgent").values(received_at=late))
        db.session.execute(update(ContactRequest).where(ContactRequest.level == "soon").values(status="contacted"))
        db.session.commit()
        routine = db.session.scalar(select(ContactRequest.reference).where(ContactRequest.level == "routine"))
    result = run_alerts(mail_app)
    assert result.exit_code == 0, result.output
    assert "1 new overdue alert(s); sent 1" in result.output
    (message,) = inbox.messages
    assert message["Subject"] == f"Overdue: Routine visit request {routine} has had no contact"
    assert "passed its response target" in message.get_content()
    assert "0 new overdue alert(s); sent 0" in run_alerts(mail_app).output
    assert len(inbox.messages) == 1


def test_login_to_the_mail_server(storage_app: Flask) -> None:
    inbox, controller = start_inbox(with_login=True)
    try:
        storage_app.config.update(mail_config(inbox.port, MAIL_USERNAME="desk-sender", MAIL_PASSWORD="mail-password"))
        sent_request(storage_app, URGENT)
    finally:
        controller.stop()
    assert inbox.logins == ["desk-sender"]
    assert len(inbox.messages) == 1


def test_without_mail_settings_alerts_wait_in_the_outbox(storage_app: Flask) -> None:
    sent_request(storage_app, URGENT)
    result = run_alerts(storage_app)
    assert "sent 0, failed 0, waiting 1" in result.output
    assert "Mail is not configured" in result.output
    (alert,) = outbox(storage_app)
    assert alert.attempts == 0
