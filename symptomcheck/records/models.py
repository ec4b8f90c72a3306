"""What is stored: contact requests, their history, staff accounts and the audit log.

Only a person who asks to be contacted (or a caller, entered by staff) is
stored: contact details, the answers, and the suggestion with its rule version.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from flask_babel import lazy_gettext
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

# The front desk's workflow: new -> contacted -> booked / referred / closed.
STATUSES = {
    "new": "New",
    "contacted": "Contacted",
    "booked": "Booked",
    "referred": "Referred elsewhere",
    "closed": "Closed",
}
NEXT_STATUSES = {
    "new": ("contacted", "booked", "closed"),  # booked at once when the first call books a visit
    "contacted": ("booked", "referred", "closed"),
    "booked": ("closed",),
    "referred": ("closed",),
    "closed": (),
}
FINISHED = ("booked", "referred", "closed")
# What came of a call to the person; every one but "reached" is a failed attempt.
ATTEMPT_OUTCOMES = {
    "reached": "Reached the person",
    "no_answer": "No answer",
    "left_message": "Left a message",
    "wrong_number": "Wrong number",
}
FAILED_ATTEMPTS_NOTICE = 3  # the request page says so after this many failed attempts
# Shown to patients in their language (the staff pages are in English).
CONTACT_TIMES = {
    "morning": lazy_gettext("Morning"),
    "afternoon": lazy_gettext("Afternoon"),
    "evening": lazy_gettext("Evening"),
    "any": lazy_gettext("Any time"),
}
# What came of a request, recorded by staff when they close it (issue 11); the clinic's view counts these.
OUTCOMES = {
    "booked": "Booked a visit",
    "emergency": "Sent to emergency care",
    "referred": "Referred elsewhere",
    "self_care": "Gave self-care advice",
    "not_reached": "Could not reach the person",
}
# A clinician's judgement of the suggested level, once they have spoken to the person.
VERDICTS = {
    "right": "The suggested level was right",
    "more_urgent": "It should have been more urgent",
    "less_urgent": "It should have been less urgent",
}
SOURCES = {"web": "Online", "phone": "Phone"}
LANGUAGES = {"en": "English", "es": "Spanish"}

# No 0/O or 1/I/L: a reference is read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_reference() -> str:
    """Return a short random code like 'K7QM-2XPA', not the database id."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


class Staff(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_clinician: Mapped[bool] = mapped_column(default=False)  # may record whether a suggested level was right
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    disabled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))  # may no longer log in
    must_change_password: Mapped[bool] = mapped_column(default=False)  # a temporary password set by an admin
    # Made at enrolment, in use once confirmed; stored sealed (staff_accounts.seal), never as the plain secret.
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    totp_enrolled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last code's time step: a code works once
    # The id of the server-side session this object was loaded for (not stored): Flask-Login keeps it in the cookie.
    session_id = None

    def get_id(self) -> str | None:
        """Return the session id, not the account id, so that ending the session row ends the login."""
        return self.session_id

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class StaffSession(db.Model):  # type: ignore[name-defined,misc]
    """A staff login: the cookie carries a random id, kept here only as its SHA-256, so a copied cookie can be ended."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    ended_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    staff: Mapped[Staff] = relationship()


class RecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A one-time code for logging in without the authenticator app; only its hash is kept."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class ContactRequest(db.Model):  # type: ignore[name-defined,misc]
    __table_args__ = (UniqueConstraint("submission_token", name="uq_contact_request_submission_token"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(9), unique=True, default=new_reference)
    received_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    source: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    preferred_time: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(10))  # the pages' language when sent: "en" or "es"
    # None for an emergency phone call: the caller was told to call 911 and gave no details to keep.
    consented_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(40))
    level_rank: Mapped[int] = mapped_column(Integer, index=True)
    pattern: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    rules_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    status_changed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)  # who will call
    assigned_to: Mapped[Staff | None] = relationship(foreign_keys=[assigned_to_id])
    # Who took the call, for a phone intake; None for a request sent online.
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    taken_by: Mapped[Staff | None] = relationship(foreign_keys=[taken_by_id])
    # The earlier request this one updates: the person changed their answers after sending them.
    updates_id: Mapped[int | None] = mapped_column(ForeignKey("contact_request.id"), index=True)
    updates: Mapped[ContactRequest | None] = relationship(remote_side=[id], foreign_keys=[updates_id])
    # What came of it (OUTCOMES), recorded when staff close it, with a note such as whom it was booked with.
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    # A clinician's verdict on the suggested level (VERDICTS) and the level they judge right.
    verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    verdict_level: Mapped[str | None] = mapped_column(String(40))
    verdict_note: Mapped[str | None] = mapped_column(Text)
    verdict_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    verdict_by: Mapped[Staff | None] = relationship(foreign_keys=[verdict_by_id])
    verdict_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    # The request this one was merged into: a possible duplicate, closed, its history kept.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_request.id", ondelete="SET NULL", name="fk_contact_request_merged_into_id"), index=True
    )
    merged_into: Mapped[ContactRequest | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id], back_populates="merged"
    )
    merged: Mapped[list[ContactRequest]] = relationship(
        foreign_keys=[merged_into_id], back_populates="merged_into", order_by="ContactRequest.received_at"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestEvent.at"
    )
    alerts: Mapped[list[Alert]] = relationship(back_populates="request", cascade="all, delete-orphan")
    # The contact form's one-time token: sending the same form again finds this request instead of a second one.
    submission_token: Mapped[str | None] = mapped_column(String(43))


class Alert(db.Model):  # type: ignore[name-defined,misc]
    """An email to the desk about a request, kept in the outbox until it has been sent, once."""

    __table_args__ = (UniqueConstraint("request_id", "kind", name="uq_alert_request_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("contact_request.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "new" or "overdue"
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    # When a sender may next try; a sender that takes the alert moves it forward first, so no other sends it too.
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))  # the kind of error only, never a message
    request: Mapped[ContactRequest] = relationship(back_populates="alerts")


class RequestEvent(db.Model):  # type: ignore[name-defined,misc]
    """A status change or a note on a request, stamped with who and when."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("contact_request.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[str | None] = mapped_column(String(20))  # a call's outcome (ATTEMPT_OUTCOMES)
    outcome: Mapped[str | None] = mapped_column(String(20))  # what came of the request (OUTCOMES), when recorded
    verdict: Mapped[str | None] = mapped_column(String(20))  # a clinician's verdict (VERDICTS), when recorded
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # set when the request changed hands
    request: Mapped[ContactRequest] = relationship(back_populates="events")
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
    assigned_to: Mapped[Staff | None] = relationship(foreign_keys=[assigned_to_id])


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """Who viewed, changed or exported which request. Holds no health data or contact details."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(9))
    detail: Mapped[str] = mapped_column(String(200), default="")
    staff: Mapped[Staff] = relationship()


class LoginAttempt(db.Model):  # type: ignore[name-defined,misc]
    """A staff login attempt, kept to slow down password guessing.

    The name typed is kept only as a keyed hash (HMAC with the secret key), so a mistyped password or a
    guessed name leaves no readable text; the account is linked when the name is one.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    name_key: Mapped[str] = mapped_column(String(64), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)


class UsageCount(db.Model):  # type: ignore[name-defined,misc]
    """How many times something happened on one day, e.g. ('2026-12-01', 'page', 'neck', 41): a counter, not a visit.

    Never an address, a session, an answer or a time finer than the day (records/usage.py says what is counted).
    """

    __table_args__ = (UniqueConstraint("day", "metric", "key", name="uq_usage_count_day_metric_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[datetime.date] = mapped_column(Date, index=True)
    metric: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(40), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class EndedSession(db.Model):  # type: ignore[name-defined,misc]
    """A browser session ended by "Start again" or a login: its cookie must not work again. Only a random id."""

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), index=True)  # then forgotten
    ended_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
