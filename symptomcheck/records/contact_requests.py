"""The contact-request workflow: store one, list the queue, move it along, audit every look."""

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
    OUTCOMES,
    VERDICTS,
    Alert,
    AuditEntry,
    ContactRequest,
    EndedSession,
    LoginAttempt,
    RequestEvent,
    Staff,
    StaffSession,
    db,
    new_reference,
    now,
)
from symptomcheck.rules.engine import Result

LOGIN_ATTEMPTS_KEPT = datetime.timedelta(days=30)  # login attempts, and staff sessions after they end


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    email: str | None
    preferred_time: str


def suggestion(result: Result) -> dict[str, Any]:
    """Return what a stored request keeps of a result: the level, the pattern, the reasons and the rule version."""
    return {
        "level": result.level.id,
        "level_rank": result.level.rank,
        "pattern": result.pattern.id if result.pattern else None,
        "reasons": [{"rule": rule.id, "text": rule.reason} for rule in result.fired],
        "rules_version": result.rules_version,
    }


def create(
    result: Result,
    answers: dict[str, Any],
    contact: Contact,
    source: str,
    updates: ContactRequest | None = None,
    taken_by_id: int | None = None,
    submission_token: str | None = None,
) -> ContactRequest:
    """Store a request with its answers, suggestion and any alert to the desk in one transaction; alert after it.

    The reference is drawn before the commit, so it is known whatever happens after. With a submission token,
    a form sent again (a retry after a fault) finds the request it stored the first time instead of a second row,
    also when the first commit's answer was lost with the connection. (The views look the token up first, so a
    plain retry costs no failed insert; the unique token catches two sent at once.)
    """
    for _ in range(5):
        request = ContactRequest(
            updates=updates,
            taken_by_id=taken_by_id,
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
            **suggestion(result),
        )
        alerted = alerts.add_new_alert(request, alerts.split_list(current_app.config["ALERT_LEVELS"]))
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
        if alerted and alerts.MailSettings.from_config(current_app.config).can_send:
            alerts.send_after_response()  # only then: otherwise it would take a second connection for nothing
        return request
    raise RuntimeError("could not draw an unused reference")


EMERGENCY_OUTCOME = "emergency"


def record_emergency_call(
    result: Result, answers: dict[str, Any], caller_name: str, staff: Staff, note: str
) -> ContactRequest:
    """Store an emergency phone call, closed at once with the outcome "emergency" and a note of what was said."""
    for _ in range(5):
        at = now()
        request = ContactRequest(
            reference=new_reference(),
            source="phone",
            taken_by_id=staff.id,
            name=caller_name,
            phone=None,
            email=None,
            preferred_time="any",
            language=page_language(),
            consented_at=None,  # nothing was asked for: the record is of the advice given
            answers=answers,
            **suggestion(result),
            received_at=at,
            status="closed",
            status_changed_at=at,
            outcome=EMERGENCY_OUTCOME,
            outcome_note=note,
        )
        request.events.append(RequestEvent(staff_id=staff.id, at=at, from_status="new", to_status="closed", note=note))
        db.session.add(request)
        audit(staff, "change", request.reference, "emergency call recorded", commit=False)
        try:
            db.session.commit()
        except IntegrityError:  # the random reference was taken: draw another
            db.session.rollback()
            continue
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
    duplicates: tuple[Duplicate, ...] = ()


def with_targets(
    requests: Iterable[ContactRequest], hours: desk.Hours, at: datetime.datetime, overdue_first: bool = False
) -> list[QueueItem]:
    """Return the requests with their due times, in the order given or with the overdue ones first (most late first)."""
    items = []
    requests = list(requests)
    duplicates = possible_duplicates(requests)
    for request in requests:
        due = desk.due_at(request.received_at, request.level, hours)
        overdue = desk.is_overdue(due, request.status, at)
        waited = desk.waited(request.received_at, at)
        items.append(QueueItem(request, due, overdue, waited, failed_attempts(request), duplicates.get(request.id, ())))
    if overdue_first:
        late = sorted((item for item in items if item.overdue), key=lambda item: item.due or at)
        items = late + [item for item in items if not item.overdue]
    return items


DUPLICATE_WINDOW = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Duplicate:
    """Another request that may be from the same person, and what they share."""

    request: ContactRequest
    same_phone: bool
    same_email: bool

    @property
    def shared(self) -> str:
        return " and ".join(what for what, same in (("phone", self.same_phone), ("email", self.same_email)) if same)


def possible_duplicates(requests: Iterable[ContactRequest]) -> dict[int, tuple[Duplicate, ...]]:
    """Return, for each request, the others with the same phone number or email within 7 days, oldest first.

    Phone numbers are stored as E.164 (the forms normalise them with phonenumbers), so equal numbers are equal
    text; emails are compared without case. A merged request, and the request an update changes, are left out.
    """
    wanted = [request for request in requests if request.merged_into_id is None and (request.phone or request.email)]
    if not wanted:
        return {}
    phones = {request.phone for request in wanted if request.phone}
    emails = {request.email.lower() for request in wanted if request.email}
    times = [desk.as_utc(request.received_at) for request in wanted]
    candidates = list(
        db.session.scalars(
            select(ContactRequest)
            .where(
                ContactRequest.merged_into_id.is_(None),
                or_(ContactRequest.phone.in_(phones), func.lower(ContactRequest.email).in_(emails)),
                ContactRequest.received_at >= min(times) - DUPLICATE_WINDOW,
                ContactRequest.received_at <= max(times) + DUPLICATE_WINDOW,
            )
            .order_by(ContactRequest.received_at)
        )
    )
    found: dict[int, tuple[Duplicate, ...]] = {}
    for request in wanted:
        others = []
        for other in candidates:
            if other.id == request.id or request.id == other.updates_id or other.id == request.updates_id:
                continue
            if abs(desk.as_utc(other.received_at) - desk.as_utc(request.received_at)) > DUPLICATE_WINDOW:
                continue
            same_phone = bool(request.phone) and other.phone == request.phone
            same_email = bool(request.email and other.email) and other.email.lower() == request.email.lower()
            if same_phone or same_email:
                others.append(Duplicate(other, same_phone, same_email))
        if others:
            found[request.id] = tuple(others)
    return found


def merge(duplicate: ContactRequest, kept: ContactRequest, staff: Staff) -> None:
    """Close a possible duplicate with a link to the request kept; both histories say so."""
    if kept.reference not in {
        other.request.reference for other in possible_duplicates([duplicate]).get(duplicate.id, ())
    }:
        raise ValueError(f"{duplicate.reference} is not a possible duplicate of {kept.reference}")
    duplicate.events.append(
        RequestEvent(
            staff_id=staff.id,
            from_status=duplicate.status if duplicate.status != "closed" else None,
            to_status="closed" if duplicate.status != "closed" else None,
            note=f"Merged into {kept.reference}.",
        )
    )
    duplicate.status = "closed"
    duplicate.status_changed_at = now()
    duplicate.merged_into_id = kept.id
    kept.events.append(RequestEvent(staff_id=staff.id, note=f"{duplicate.reference} was merged into this request."))
    audit(staff, "merge", duplicate.reference, f"merged into {kept.reference}", commit=False)
    db.session.commit()


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


def send_update(
    result: Result, answers: dict[str, Any], reference: str, submission_token: str | None = None
) -> ContactRequest | None:
    """Store changed answers as a new request that updates the one sent before, with the same contact details.

    Return None when the earlier request is gone (purged): there is nothing to update. With the update form's
    one-time token, the same form sent again (a retry after a fault) stores one update, as `create` does.
    """
    earlier = find(reference)
    if earlier is None:
        return None
    contact = Contact(earlier.name, earlier.phone, earlier.email, earlier.preferred_time)
    return create(result, answers, contact, earlier.source, updates=earlier, submission_token=submission_token)


def find(reference: str) -> ContactRequest | None:
    return db.session.scalar(select(ContactRequest).where(ContactRequest.reference == reference))


# The messages of a finish or a verdict that does not add up; the staff forms show them as they are.
OUTCOME_MISSING = "Select what came of the request before you mark it {status}."
OUTCOME_NOTE_MISSING = (
    "Enter a note on what came of it: whom it was booked with, where they were sent, or what was said."
)
VERDICT_LEVEL_MISSING = "Select the level you judge right."
VERDICT_LEVEL_NOT_MORE_URGENT = "Select a level more urgent than the suggested one, or change the verdict."
VERDICT_LEVEL_NOT_LESS_URGENT = "Select a level less urgent than the suggested one, or change the verdict."
VERDICT_LEVEL_WITH_RIGHT = "Leave the level blank when the suggested level was right."
VERDICT_NOTE_MISSING = "Enter a note on why the level should have been different."


@dataclass(frozen=True)
class FieldProblem:
    """Why the workflow refuses a change, and the field of the form it belongs to."""

    field: str
    message: str


class WorkflowError(ValueError):
    """A change the workflow refuses, with every problem found."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems = problems


def change_status(
    request: ContactRequest,
    staff: Staff,
    status: str,
    note: str | None,
    outcome: str | None = None,
    outcome_note: str | None = None,
) -> None:
    """Move a request to one of its allowed next statuses; a finished one needs what came of it, with a note."""
    if status not in NEXT_STATUSES[request.status]:
        raise ValueError(f"cannot go from {request.status} to {status}")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome}")
    if status in FINISHED:
        outcome = outcome or request.outcome
        outcome_note = outcome_note or (request.outcome_note if outcome == request.outcome else None)
        if problems := finish_problems(status, outcome, outcome_note):
            raise WorkflowError(problems)
    event = RequestEvent(staff_id=staff.id, from_status=request.status, to_status=status, note=note)
    detail = f"status {status}"
    if outcome and (outcome, outcome_note) != (request.outcome, request.outcome_note):
        request.outcome, request.outcome_note = outcome, outcome_note
        event.outcome = outcome
        detail += ", outcome recorded"  # not which: the audit log holds no health data
    request.events.append(event)
    request.status = status
    request.status_changed_at = now()
    audit(staff, "change", request.reference, detail, commit=False)
    db.session.commit()


def finish_problems(status: str, outcome: str | None, outcome_note: str | None) -> list[FieldProblem]:
    """Return what is missing to finish a request: what came of it, and a note on it."""
    problems = []
    if status in FINISHED and outcome is None:
        problems.append(FieldProblem("outcome", OUTCOME_MISSING.format(status=status)))
    if status in FINISHED and not outcome_note:
        problems.append(FieldProblem("outcome_note", OUTCOME_NOTE_MISSING))
    return problems


def verdict_problems(verdict: str, level_rank: int, judged_rank: int | None, note: str | None) -> list[FieldProblem]:
    """Return why a verdict, the level judged right (a lower rank is more urgent) and the note disagree."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict}")
    if verdict == "right":
        return [] if judged_rank is None else [FieldProblem("verdict_level", VERDICT_LEVEL_WITH_RIGHT)]
    problems = []
    if judged_rank is None:
        problems.append(FieldProblem("verdict_level", VERDICT_LEVEL_MISSING))
    elif verdict == "more_urgent" and judged_rank >= level_rank:
        problems.append(FieldProblem("verdict_level", VERDICT_LEVEL_NOT_MORE_URGENT))
    elif verdict == "less_urgent" and judged_rank <= level_rank:
        problems.append(FieldProblem("verdict_level", VERDICT_LEVEL_NOT_LESS_URGENT))
    if not note:
        problems.append(FieldProblem("verdict_note", VERDICT_NOTE_MISSING))
    return problems


def record_verdict(
    request: ContactRequest,
    clinician: Staff,
    verdict: str,
    judged_level: str | None,
    note: str | None,
    level_ranks: dict[str, int],
) -> None:
    """Record a clinician's verdict on the suggested level, and the level they judge right when it was not."""
    if not clinician.is_clinician:
        raise PermissionError("only a clinician records a verdict")
    if judged_level is not None and judged_level not in level_ranks:
        raise ValueError(f"unknown level {judged_level}")
    judged_rank = level_ranks[judged_level] if judged_level else None
    if problems := verdict_problems(verdict, request.level_rank, judged_rank, note):
        raise WorkflowError(problems)
    request.verdict, request.verdict_level, request.verdict_note = verdict, judged_level, note
    request.verdict_by_id, request.verdict_at = clinician.id, now()
    request.events.append(RequestEvent(staff_id=clinician.id, verdict=verdict, note=note))
    audit(clinician, "change", request.reference, "verdict recorded", commit=False)
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
        # A request merged into a purged one stays, without the link (SQLite does not apply ON DELETE SET NULL).
        merged = update(ContactRequest).where(ContactRequest.merged_into_id.in_(every)).values(merged_into_id=None)
        db.session.execute(merged)
        db.session.execute(delete(RequestEvent).where(RequestEvent.request_id.in_(every)))
        db.session.execute(delete(Alert).where(Alert.request_id.in_(every)))
        db.session.execute(delete(ContactRequest).where(ContactRequest.id.in_(every)))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now() - LOGIN_ATTEMPTS_KEPT))
    db.session.execute(delete(StaffSession).where(StaffSession.ended_at < now() - LOGIN_ATTEMPTS_KEPT))
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
        reasons=tuple(request.reasons), language=request.language, status_changed_at=request.status_changed_at,
        outcome=request.outcome, outcome_note=request.outcome_note, verdict=request.verdict,
        verdict_level=request.verdict_level, verdict_note=request.verdict_note,
        verdict_by=request.verdict_by.username if request.verdict_by else None, verdict_at=request.verdict_at,
        merged_into=request.merged_into.reference if request.merged_into else None,
        taken_by=request.taken_by.username if request.taken_by else None,
    )  # fmt: skip


def staff_member(staff_id: int) -> Staff | None:
    return db.session.get(Staff, staff_id)


def count_open_before(cutoff: datetime.datetime) -> int:
    """Return how many open requests last changed before the cutoff."""
    return db.session.scalar(select(func.count()).select_from(still_open_before(cutoff).subquery())) or 0
