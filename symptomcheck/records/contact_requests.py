"""The contact-request workflow: store one, list the queue, move it along, audit every look; staff logins."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask import current_app, has_request_context
from flask_babel import get_locale
from sqlalchemy import ColumnElement, Select, delete, false, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from symptomcheck.records import alerts, desk
from symptomcheck.records.exports import Record
from symptomcheck.records.models import (
    ATTEMPT_OUTCOMES,
    FINISHED,
    NEXT_STATUSES,
    Alert,
    AuditEntry,
    ContactRequest,
    EndedSession,
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


def create(
    result: Result,
    answers: dict[str, Any],
    contact: Contact,
    source: str,
    updates: ContactRequest | None = None,
    submission_token: str | None = None,
) -> ContactRequest:
    """Store a request with its answers, suggestion and any alert to the desk in one transaction; alert after it.

    The reference is drawn before the commit, so it is known whatever happens after. With a submission token,
    a form sent again (a retry after a fault) finds the request it stored the first time instead of a second row,
    also when the first commit's answer was lost with the connection.
    """
    if submission_token and (earlier := find_submission(submission_token)) is not None:
        return earlier
    for _ in range(5):
        request = ContactRequest(
            updates=updates,
            reference=new_reference(),
            submission_token=submission_token,
            source=source,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            preferred_time=contact.preferred_time,
            language=page_language(),
            consented_at=now(),
            answers=answers,
            level=result.level.id,
            level_rank=result.level.rank,
            pattern=result.pattern.id if result.pattern else None,
            reasons=[{"rule": rule.id, "text": rule.reason} for rule in result.fired],
            rules_version=result.rules_version,
        )
        alerts.add_new_alert(request, alerts.split_list(current_app.config["ALERT_LEVELS"]))
        db.session.add(request)
        try:
            db.session.commit()
        except IntegrityError:  # the random reference was taken (draw another), or the same form was sent twice
            db.session.rollback()
            if submission_token and (earlier := find_submission(submission_token)) is not None:
                return earlier
            continue
        except DBAPIError:  # the connection failed: the commit may have reached the database all the same
            db.session.rollback()
            if submission_token and (earlier := find_submission_after_fault(submission_token)) is not None:
                return earlier
            raise
        alerts.send_after_response()
        return request
    raise RuntimeError("could not draw an unused reference")


def find_submission(token: str) -> ContactRequest | None:
    """Return the request a contact form with this one-time token stored, if any."""
    return db.session.scalar(select(ContactRequest).where(ContactRequest.submission_token == token))


def find_submission_after_fault(token: str) -> ContactRequest | None:
    """Look once more, on a fresh connection, for a request whose commit was cut off; None when that fails too."""
    try:
        return find_submission(token)
    except DBAPIError:
        db.session.rollback()
        return None


def page_language() -> str | None:
    """Return the language the person saw the pages in, so the desk can call in it."""
    return str(get_locale()) if has_request_context() and get_locale() else None


def queue(
    status: str, level: str | None, search: str = "", phone_region: str = "US", assigned_to: int | None = None
) -> list[ContactRequest]:
    """Return the requests to work on: most urgent first, then oldest first; matching the search, if any."""
    query = select(ContactRequest).order_by(ContactRequest.level_rank, ContactRequest.received_at)
    if assigned_to is not None:
        query = query.where(ContactRequest.assigned_to_id == assigned_to)
    if status == "open":
        query = query.where(ContactRequest.status.not_in(FINISHED))
    elif status != "all":
        query = query.where(ContactRequest.status == status)
    if level:
        query = query.where(ContactRequest.level == level)
    if search.strip():
        query = query.where(matches(search, phone_region))
    return list(db.session.scalars(query))


def matches(search: str, phone_region: str) -> ColumnElement[bool]:
    """Return a condition true for a request whose reference, name, phone or email is what was typed."""
    text = search.strip()
    found: list[ColumnElement[bool]] = [
        func.lower(ContactRequest.name).contains(text.lower(), autoescape=True),
        func.lower(ContactRequest.email).contains(text.lower(), autoescape=True),
    ]
    compact = re.sub(r"[\s-]", "", text).upper()
    if len(compact) == 8 and compact.isalnum():  # a reference read out: any case, with or without the dash
        found.append(ContactRequest.reference == f"{compact[:4]}-{compact[4:]}")
    if sum(character.isdigit() for character in text) >= 7:
        try:
            number = phonenumbers.parse(text, phone_region)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_possible_number(number):
            found.append(
                ContactRequest.phone == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            )
    return or_(false(), *found)


@dataclass(frozen=True)
class QueueItem:
    """A request in the queue with what its target says: when it is due and whether it is late."""

    request: ContactRequest
    due: datetime.datetime | None
    overdue: bool
    waited: str
    failed_calls: int


def with_targets(
    requests: Iterable[ContactRequest], hours: desk.Hours, at: datetime.datetime, overdue_first: bool = False
) -> list[QueueItem]:
    """Return the requests with their due times, in the order given or with the overdue ones first (most late first)."""
    items = []
    for request in requests:
        due = desk.due_at(request.received_at, request.level, hours)
        overdue = desk.is_overdue(due, request.status, at)
        items.append(QueueItem(request, due, overdue, desk.waited(request.received_at, at), failed_attempts(request)))
    if overdue_first:
        late = sorted((item for item in items if item.overdue), key=lambda item: item.due or at)
        items = late + [item for item in items if not item.overdue]
    return items


def urgent_counts(hours: desk.Hours, at: datetime.datetime, most_urgent_rank: int = 1) -> tuple[int, int]:
    """Return how many new requests at `urgent` or above wait, and how many of those are overdue."""
    waiting = list(
        db.session.scalars(
            select(ContactRequest).where(ContactRequest.status == "new", ContactRequest.level_rank <= most_urgent_rank)
        )
    )
    overdue = sum(
        desk.is_overdue(desk.due_at(item.received_at, item.level, hours), item.status, at) for item in waiting
    )
    return len(waiting), overdue


def send_update(result: Result, answers: dict[str, Any], reference: str) -> ContactRequest | None:
    """Store changed answers as a new request that updates the one sent before, with the same contact details.

    Return None when the earlier request is gone (purged): there is nothing to update.
    """
    earlier = find(reference)
    if earlier is None:
        return None
    contact = Contact(earlier.name, earlier.phone, earlier.email, earlier.preferred_time)
    return create(result, answers, contact, earlier.source, updates=earlier)


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


def assign(request: ContactRequest, staff: Staff, assignee: Staff | None) -> None:
    """Give a request to a staff member to call (the staff member themself: "I'll call"), or to nobody."""
    request.assigned_to_id = assignee.id if assignee else None
    who = assignee.username if assignee else "nobody"
    request.events.append(
        RequestEvent(staff_id=staff.id, assigned_to_id=request.assigned_to_id, note=f"Assigned to {who}.")
    )
    audit(staff, "change", request.reference, f"assigned to {who}", commit=False)
    db.session.commit()


def record_attempt(request: ContactRequest, staff: Staff, outcome: str, note: str | None) -> None:
    """Record a call to the person and what came of it; reaching a new request makes it contacted."""
    if outcome not in ATTEMPT_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome}")
    event = RequestEvent(staff_id=staff.id, attempt=outcome, note=note)
    if outcome == "reached" and request.status == "new":
        event.from_status, event.to_status = "new", "contacted"
        request.status = "contacted"
        request.status_changed_at = now()
    request.events.append(event)
    audit(staff, "change", request.reference, f"call: {outcome}", commit=False)
    db.session.commit()


def failed_attempts(request: ContactRequest) -> int:
    """Return how many calls did not reach the person since the last one that did."""
    failed = 0
    for event in request.events:
        if event.attempt == "reached":
            failed = 0
        elif event.attempt:
            failed += 1
    return failed


def next_open_after(request: ContactRequest) -> str | None:
    """Return the reference of the open request after this one in the queue's order, to open next."""
    order = [item.reference for item in queue("open", None)]
    if request.reference not in order:
        return order[0] if order else None
    later = order[order.index(request.reference) + 1 :]
    return later[0] if later else None


def all_staff() -> list[Staff]:
    return list(db.session.scalars(select(Staff).order_by(Staff.username)))


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


def purge(older_than: datetime.timedelta, open_older_than: datetime.timedelta | None = None) -> tuple[int, int]:
    """Delete finished requests whose status last changed before the period, and, with the longer second period,
    requests never moved past new or contacted; return how many of each."""
    cutoff = now() - older_than
    finished = select(ContactRequest.id).where(
        ContactRequest.status.in_(FINISHED), ContactRequest.status_changed_at < cutoff
    )
    ids = list(db.session.scalars(finished))
    open_ids: list[int] = []
    if open_older_than is not None:
        open_ids = list(db.session.scalars(still_open_before(now() - open_older_than)))
    every = ids + open_ids
    if every:
        db.session.execute(update(ContactRequest).where(ContactRequest.updates_id.in_(every)).values(updates_id=None))
        db.session.execute(delete(RequestEvent).where(RequestEvent.request_id.in_(every)))
        db.session.execute(delete(Alert).where(Alert.request_id.in_(every)))
        db.session.execute(delete(ContactRequest).where(ContactRequest.id.in_(every)))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - LOGIN_ATTEMPTS_KEPT))
    db.session.execute(delete(EndedSession).where(EndedSession.expires_at < now()))  # expired anyway
    db.session.commit()
    return len(ids), len(open_ids)


def still_open_before(cutoff: datetime.datetime) -> Select[tuple[int]]:
    """Select the ids of requests never moved past new or contacted whose status last changed before the cutoff."""
    return select(ContactRequest.id).where(
        ContactRequest.status.not_in(FINISHED), ContactRequest.status_changed_at < cutoff
    )


def open_deletion_date(request: ContactRequest, open_retention: datetime.timedelta) -> datetime.datetime | None:
    """Return when an open request will be deleted if nothing moves it on; None for a finished one."""
    if request.status in FINISHED:
        return None
    changed = request.status_changed_at
    if changed.tzinfo is None:  # SQLite gives naive times back
        changed = changed.replace(tzinfo=datetime.UTC)
    return changed + open_retention


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


def count_open_before(cutoff: datetime.datetime) -> int:
    """Return how many open requests last changed before the cutoff."""
    return db.session.scalar(select(func.count()).select_from(still_open_before(cutoff).subquery())) or 0
