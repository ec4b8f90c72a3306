"""Alerts to the desk by email, through an outbox: written with the request, sent after commit, each sent once.

An alert says which request, its level and when it is due, with a link; never a name, a contact detail or an
answer. A sender takes an alert by moving its next attempt forward in one UPDATE, so two senders (a web worker
after a response, and cron) never send the same alert; a failed send is retried later, with a growing delay.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from symptomcheck.records import desk
from symptomcheck.records.models import Alert, ContactRequest, db, now

log = logging.getLogger(__name__)
NEW, OVERDUE = "new", "overdue"
STAFF_REQUEST_PATH = "/staff/requests/{reference}"  # the staff request page (staff.request_page)
TAKEN_FOR = datetime.timedelta(minutes=5)  # how long a sender holds an alert it is sending
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class MailSettings:
    server: str  # host:port
    sender: str
    recipients: tuple[str, ...]
    tls: bool
    username: str
    password: str
    public_url: str
    levels: frozenset[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            server=str(config.get("MAIL_SERVER") or ""),
            sender=str(config.get("MAIL_FROM") or ""),
            recipients=split_list(config.get("DESK_EMAIL")),
            tls=bool(config.get("MAIL_TLS")),
            username=str(config.get("MAIL_USERNAME") or ""),
            password=str(config.get("MAIL_PASSWORD") or ""),
            public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
            levels=frozenset(split_list(config.get("ALERT_LEVELS"))),
        )

    @property
    def can_send(self) -> bool:
        return bool(self.server and self.sender and self.recipients)


def split_list(value: Any) -> tuple[str, ...]:
    """Read 'a, b' or ['a', 'b'] (a setting from the environment or from Python)."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(item).strip() for item in items if str(item).strip())


def add_new_alert(request: ContactRequest, levels: Collection[str]) -> bool:
    """Put an alert for a new request in the outbox (in the caller's transaction) when its level asks for one."""
    if request.level not in levels:
        return False
    request.alerts.append(Alert(kind=NEW, next_attempt_at=now()))
    return True


def send_after_response() -> None:
    """Send waiting alerts once the current response has gone out, so the person never waits for the mail server."""
    if not has_request_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send_later(response: Response) -> Response:
        def send() -> None:
            with app.app_context():
                try:
                    send_pending(MailSettings.from_config(app.config), app.extensions["desk_hours"])
                except Exception as exc:  # never let mail trouble reach a person; cron will retry
                    log.error("Alerts not sent after the response (%s); `flask desk alerts` will retry.",
                              type(exc).__name__)  # fmt: skip
                finally:
                    db.session.remove()

        response.call_on_close(send)
        return response

    after_this_request(send_later)


def add_overdue_alerts(hours: desk.Hours, at: datetime.datetime | None = None) -> int:
    """Put an alert in the outbox for each request past its target with no contact yet, once each; say how many."""
    at = at or now()
    already = select(Alert.request_id).where(Alert.kind == OVERDUE)
    waiting = db.session.scalars(
        select(ContactRequest).where(ContactRequest.status == "new", ContactRequest.id.not_in(already))
    )
    late = [item.id for item in waiting if desk.is_overdue(desk.due_at(item.received_at, item.level, hours), "new", at)]
    added = 0
    for request_id in late:
        db.session.add(Alert(request_id=request_id, kind=OVERDUE, next_attempt_at=at))
        try:
            db.session.commit()
            added += 1
        except IntegrityError:  # another run added it first
            db.session.rollback()
    return added


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0  # not due for another try yet, or no mail server configured


def retry_delay(attempts: int) -> datetime.timedelta:
    """Return how long to wait after this many failed attempts: 1, 2, 4 ... minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def take(alert_id: int, at: datetime.datetime) -> bool:
    """Take an alert for sending; False when another sender has it or it was sent."""
    taken = db.session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.sent_at.is_(None), Alert.next_attempt_at <= at)
        .values(next_attempt_at=at + TAKEN_FOR)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def send_pending(settings: MailSettings, hours: desk.Hours, at: datetime.datetime | None = None) -> SendReport:
    """Send every alert that is due for a try, over one SMTP connection; mark each sent or schedule a retry."""
    at = at or now()
    report = SendReport()
    unsent = list(db.session.scalars(select(Alert).where(Alert.sent_at.is_(None)).order_by(Alert.id)))
    due = [alert for alert in unsent if desk.as_utc(alert.next_attempt_at) <= at]
    report.waiting = len(unsent) - len(due)
    if not settings.can_send:
        report.waiting += len(due)
        return report
    connection: smtplib.SMTP | None = None
    try:
        for alert in due:
            if not take(alert.id, at):
                continue
            try:
                connection = connection or connect(settings)
                connection.send_message(compose(alert, settings, hours))
            except (OSError, smtplib.SMTPException) as exc:
                record_failure(alert, at, exc)
                report.failed += 1
                if connection is None:  # the server cannot be reached: leave the rest for the next run
                    report.waiting += len(due) - report.sent - report.failed
                    break
                connection = None
                continue
            alert.sent_at = now()
            alert.attempts += 1
            alert.last_error = None
            db.session.commit()
            report.sent += 1
    finally:
        if connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()
    return report


def record_failure(alert: Alert, at: datetime.datetime, exc: Exception) -> None:
    alert.attempts += 1
    alert.next_attempt_at = at + retry_delay(alert.attempts)
    alert.last_error = type(exc).__name__[:200]
    db.session.commit()
    log.warning("Alert for %s not sent (%s, attempt %d); next try at %s.", alert.request.reference,
                type(exc).__name__, alert.attempts, alert.next_attempt_at.isoformat())  # fmt: skip


def connect(settings: MailSettings) -> smtplib.SMTP:
    host, _, port = settings.server.rpartition(":")
    if not host:
        host, port = settings.server, "25"
    connection = smtplib.SMTP(host, int(port), timeout=SMTP_TIMEOUT_SECONDS)
    if settings.tls:
        connection.starttls()
    if settings.username:
        connection.login(settings.username, settings.password)
    return connection


def compose(alert: Alert, settings: MailSettings, hours: desk.Hours) -> EmailMessage:
    """Write the email: the reference, the level, when it was received and is due, a link. Nothing about the person."""
    request = alert.request
    level = desk.LEVEL_WORDS.get(request.level, request.level)
    due = desk.due_at(request.received_at, request.level, hours)
    target = hours.targets.get(request.level)

    def clinic_time(at: datetime.datetime) -> str:
        local = desk.as_utc(at).astimezone(hours.zone)
        return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"

    due_text = f"{clinic_time(due)} ({target})" if due else "no target for this level"
    if alert.kind == OVERDUE:
        subject = f"Overdue: {level} request {request.reference} has had no contact"
        opening = "This request has passed its response target and nobody has contacted the person yet."
    else:
        subject = f"New {level} request {request.reference}"
        opening = "A new contact request is waiting in the queue."
    link = settings.public_url + STAFF_REQUEST_PATH.format(reference=request.reference)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(
        "\n".join(
            [
                opening,
                "",
                f"Reference: {request.reference}",
                f"Level: {level}",
                f"Received: {clinic_time(request.received_at)}",
                f"Due by: {due_text}",
                f"Open it: {link}",
                "",
                "This email holds no name, contact details or answers: log in to the front desk to see them.",
            ]
        )
    )
    return message
