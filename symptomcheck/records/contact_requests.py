"""The contact-request workflow: store one, list the queue, move it along, audit every look; staff logins."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from symptomcheck.records.exports import Record
from symptomcheck.records.models import (
    FINISHED,
    NEXT_STATUSES,
    AuditEntry,
    ContactRequest,
    LoginAttempt,
    RequestEvent,
    Staff,
    db,
    new_reference,
    now,
)
from symptomcheck.rules.engine import Result

LOGIN_ATTEMPTS_KEPT = datetime.timedelta(days=30)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = datetime.timedelta(minutes=15)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    email: str | None
    preferred_time: str


def create(result: Result, answers: dict[str, Any], contact: Contact, source: str) -> ContactRequest:
    """Store a request with its answers and suggestion, all in one transaction."""
    for _ in range(5):
        request = ContactRequest(
            reference=new_reference(),
            source=source,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            preferred_time=contact.preferred_time,
            consented_at=now(),
            answers=answers,
            level=result.level.id,
            level_rank=result.level.rank,
            pattern=result.pattern.id if result.pattern else None,
            reasons=[{"rule": rule.id, "text": rule.reason} for rule in result.fired],
            rules_version=result.rules_version,
        )
        db.session.add(request)
        try:
            db.session.commit()
        except IntegrityError:  # the random reference was taken: draw another
            db.session.rollback()
            continue
        return request
    raise RuntimeError("could not draw an unused reference")


def queue(status: str, level: str | None) -> list[ContactRequest]:
    """Return the requests to work on: most urgent first, then oldest first."""
    query = select(ContactRequest).order_by(ContactRequest.level_rank, ContactRequest.received_at)
    if status == "open":
        query = query.where(ContactRequest.status.not_in(FINISHED))
    elif status != "all":
        query = query.where(ContactRequest.status == status)
    if level:
        query = query.where(ContactRequest.level == level)
    return list(db.session.scalars(query))


def find(reference: str) -> ContactRequest | None:
    return db.session.scalar(select(ContactRequest).where(ContactRequest.reference == reference))


def change_status(request: ContactRequest, staff: Staff, status: str, note: str | None) -> None:
    """Move a request to one of its allowed next statuses, with an optional note."""
    if status not in NEXT_STATUSES[request.status]:
        raise ValueError(f"cannot go from {request.status} to {status}")
    request.events.append(RequestEvent(staff_id=staff.id, from_status=request.status, to_status=status, note=note))
    request.status = status
    request.status_changed_at = now()
    audit(staff, "change", request.reference, f"status {status}", commit=False)
    db.session.commit()


def add_note(request: ContactRequest, staff: Staff, note: str) -> None:
    request.events.append(RequestEvent(staff_id=staff.id, note=note))
    audit(staff, "change", request.reference, "note", commit=False)
    db.session.commit()


def audit(staff: Staff, action: str, reference: str | None, detail: str = "", *, commit: bool = True) -> None:
    """Record who looked at, changed or exported what. Never put health data in `detail`."""
    db.session.add(AuditEntry(staff_id=staff.id, action=action, reference=reference, detail=detail))
    if commit:
        db.session.commit()


def audit_log(limit: int = 500) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.at.desc()).limit(limit)))


def purge(older_than: datetime.timedelta) -> int:
    """Delete finished requests whose status last changed before the period; return how many."""
    cutoff = now() - older_than
    old = select(ContactRequest.id).where(
        ContactRequest.status.in_(FINISHED), ContactRequest.status_changed_at < cutoff
    )
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(delete(RequestEvent).where(RequestEvent.request_id.in_(ids)))
        db.session.execute(delete(ContactRequest).where(ContactRequest.id.in_(ids)))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - LOGIN_ATTEMPTS_KEPT))
    db.session.commit()
    return len(ids)


def stored_request_answers() -> list[tuple[str, dict[str, Any]]]:
    """Return every stored request's reference and answers, for replaying new rules."""
    rows = db.session.execute(select(ContactRequest.reference, ContactRequest.answers).order_by(ContactRequest.id))
    return [(reference, answers) for reference, answers in rows]


def as_record(request: ContactRequest) -> Record:
    """Return what the exports show of a stored request, as plain values."""
    return Record(
        request.reference, request.received_at, request.source, request.status, request.level, request.pattern,
        request.rules_version, request.name, request.phone, request.email, request.preferred_time, request.answers,
    )  # fmt: skip


def staff_member(staff_id: int) -> Staff | None:
    return db.session.get(Staff, staff_id)


def too_many_failed_logins(username: str, address: str) -> bool:
    """Say whether this username, or this address, failed to log in too often lately."""
    since = now() - FAILURE_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at > since, ~LoginAttempt.succeeded)
    by_name = db.session.scalar(failures.where(LoginAttempt.username == username)) or 0
    by_address = db.session.scalar(failures.where(LoginAttempt.address == address)) or 0
    return by_name >= MAX_FAILURES_PER_USERNAME or by_address >= MAX_FAILURES_PER_ADDRESS


def log_in(username: str, password: str, address: str) -> Staff | None:
    """Return the staff member when the password is right; record the attempt either way."""
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    succeeded = staff is not None and staff.check_password(password)
    db.session.add(LoginAttempt(username=username[:80], address=address[:64], succeeded=succeeded))
    db.session.commit()
    return staff if succeeded else None
