"""The front desk: log in, work the queue, change a request's status, export."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from symptomcheck.records import contact_requests, desk, exports
from symptomcheck.records.models import (
    ATTEMPT_OUTCOMES,
    CONTACT_TIMES,
    FAILED_ATTEMPTS_NOTICE,
    LANGUAGES,
    NEXT_STATUSES,
    SOURCES,
    STATUSES,
    ContactRequest,
    Staff,
    now,
)
from symptomcheck.staff import forms
from symptomcheck.web import rulebook, security
from symptomcheck.web.display import answer_rows, current_rules, say
from symptomcheck.web.forms import ButtonForm
from symptomcheck.web.security import limiter, talisman

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Log in to see the front desk pages."


@login_manager.user_loader
def load_staff(staff_id: str) -> Staff | None:
    return contact_requests.staff_member(int(staff_id))


@bp.before_app_request
def end_idle_staff_sessions() -> None:
    """Log out a staff session left idle too long, on any page (a phone intake uses the patient pages)."""
    # Most requests come from patients with no login: do not load a user for them.
    if request.endpoint == "static" or "_user_id" not in session or not current_user.is_authenticated:
        return
    idle_limit = datetime.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    if now().timestamp() - session.get("staff_seen", 0) > idle_limit.total_seconds():
        logout_user()
        session.clear()
        flash("You were logged out because the page was not used for a while.")
        return
    session["staff_seen"] = now().timestamp()


@bp.before_request
def require_login() -> Response | None:
    """Refuse anonymous access to every front desk page but the login page."""
    if request.endpoint == "staff.login" or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()  # type: ignore[no-any-return]


@bp.app_template_filter("phone")
def phone_for_people(number: str) -> str:
    """Show a stored E.164 number the way people read it: +1 202-555-0143."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def desk_hours() -> desk.Hours:
    hours: desk.Hours = current_app.extensions["desk_hours"]
    return hours


@bp.app_template_filter("desk_time")
def desk_time(at: datetime.datetime | None, with_date: bool = True) -> str:
    """Show a stored time in the clinic's time zone: 'Tue 1 Dec 09:30 EST', or 'today 09:30' in the queue."""
    if at is None:
        return ""
    local = desk.as_utc(at).astimezone(desk_hours().zone)
    if with_date:
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    today = now().astimezone(desk_hours().zone).date()
    words = {
        today: "today",
        today - datetime.timedelta(days=1): "yesterday",
        today + datetime.timedelta(days=1): "tomorrow",
    }
    return f"{words.get(local.date()) or f'{local:%a} {local.day} {local:%b}'} {local:%H:%M}"


@bp.context_processor
def staff_globals() -> dict[str, Any]:
    # formdata=None: a page (an error page, say) must render without reading the request body.
    button_form = ButtonForm(formdata=None)
    return {
        "statuses": STATUSES,
        "contact_times": CONTACT_TIMES,
        "sources": SOURCES,
        "button_form": button_form,
        "level_words": desk.LEVEL_WORDS,
        "languages": LANGUAGES,
        "pattern_words": desk.PATTERN_WORDS,
        "time_zone": desk_hours().zone.key,
    }


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(security.STAFF_LOGINS, methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    form = forms.LoginPage()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr or "unknown"
        if contact_requests.too_many_failed_logins(username, address):
            return render_template("staff/login.html", form=form, throttled=True), 429
        staff = contact_requests.log_in(username, form.password.data, address)
        if staff is not None:
            session.clear()  # no patient answers or old state carried into a staff session
            login_user(staff)
            session["staff_seen"] = now().timestamp()
            return redirect(url_for("staff.queue"))
        form.password.errors.append("The username or password is not right.")
    return render_template("staff/login.html", form=form, throttled=False)


@bp.post("/logout")
@login_required
def logout() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


QUEUE_ORDERS = {"urgency": "Most urgent first", "overdue": "Overdue first"}


@dataclass(frozen=True)
class QueueFilters:
    status: str
    level: str | None
    search: str
    order: str
    mine: bool

    def requests(self) -> list[ContactRequest]:
        return contact_requests.queue(
            self.status,
            self.level,
            self.search,
            current_app.config["PHONE_REGION"],
            assigned_to=current_user.id if self.mine else None,
        )


def queue_filters() -> QueueFilters:
    status = request.args.get("status", "open")
    if status not in {"open", "all", *STATUSES}:
        abort(400)
    level = request.args.get("level") or None
    if level is not None and level not in {level.id for level in current_rules().levels}:
        abort(400)
    order = request.args.get("order", "urgency")
    if order not in QUEUE_ORDERS:
        abort(400)
    return QueueFilters(status, level, request.args.get("q", "")[:200], order, request.args.get("mine") == "1")


@bp.get("/")
def queue() -> str:
    filters = queue_filters()
    at = now()
    urgent_rank = current_rules().level("urgent").rank
    new_urgent, overdue_urgent = contact_requests.urgent_counts(desk_hours(), at, urgent_rank)
    return render_template(
        "staff/queue.html",
        items=contact_requests.with_targets(filters.requests(), desk_hours(), at, filters.order == "overdue"),
        filters=filters,
        orders=QUEUE_ORDERS,
        levels=current_rules().levels,
        new_urgent=new_urgent,
        overdue_urgent=overdue_urgent,
        failed_calls_notice=FAILED_ATTEMPTS_NOTICE,
        refresh=request.args.get("refresh") == "1",
    )


def find_or_404(reference: str) -> ContactRequest:
    found = contact_requests.find(reference)
    if found is None:
        abort(404)
    return found


NOBODY = "nobody"


def assign_form(found: ContactRequest) -> forms.AssignPage:
    """Return the assign form, offering every staff member, or nobody."""
    form = forms.AssignPage()
    form.assignee.choices = [SelectChoice(NOBODY, "Nobody")] + [
        SelectChoice(str(staff.id), staff.username) for staff in contact_requests.all_staff()
    ]
    if not form.is_submitted():
        form.assignee.data = str(found.assigned_to_id or NOBODY)
    return form


def status_change_form(found: ContactRequest) -> forms.StatusChange:
    """Return the status form, offering only the statuses this request may move to."""
    form = forms.StatusChange()
    form.status.choices = [SelectChoice(status, STATUSES[status]) for status in NEXT_STATUSES[found.status]]
    return form


@bp.get("/requests/<reference>")
def request_page(reference: str) -> str:
    found = find_or_404(reference)
    if request.method == "GET":  # a HEAD shows nobody anything: no audit entry
        contact_requests.audit(current_user, "view", found.reference)
    status_form = status_change_form(found)
    due = desk.due_at(found.received_at, found.level, desk_hours())
    config = current_app.config
    deleted_on = contact_requests.open_deletion_date(found, datetime.timedelta(days=config["OPEN_RETENTION_DAYS"]))
    warn = deleted_on is not None and deleted_on - now() <= datetime.timedelta(days=config["RETENTION_WARNING_DAYS"])
    return render_template(
        "staff/request.html",
        item=found,
        rows=answer_rows(found.answers),
        level=current_rules().level(found.level)
        if found.level in {level.id for level in current_rules().levels}
        else None,
        status_form=status_form,
        note_form=forms.NotePage(),
        assign_form=assign_form(found),
        attempt_form=forms.AttemptPage(ATTEMPT_OUTCOMES),
        attempt_outcomes=ATTEMPT_OUTCOMES,
        failed_attempts=contact_requests.failed_attempts(found),
        failed_attempts_notice=FAILED_ATTEMPTS_NOTICE,
        say=say,
        due=due,
        overdue=desk.is_overdue(due, found.status, now()),
        target=desk_hours().targets.get(found.level),
        deleted_on=deleted_on if warn else None,
    )


@bp.post("/requests/<reference>/status")
def change_status(reference: str) -> Response:
    found = find_or_404(reference)
    form = status_change_form(found)
    if not form.validate_on_submit():
        flash("Select one of the next statuses.")
        return redirect(url_for("staff.request_page", reference=reference))
    open_next = request.form.get("then") == "next"
    after = contact_requests.next_open_after(found) if open_next else None  # before the change moves it
    contact_requests.change_status(found, current_user, form.status.data, (form.status_note.data or "").strip() or None)
    if not open_next:
        flash(f"Status changed to {STATUSES[form.status.data]}.")
        return redirect(url_for("staff.request_page", reference=reference))
    flash(f"Status of {reference} changed to {STATUSES[form.status.data]}.")  # said on another request's page
    if after:
        return redirect(url_for("staff.request_page", reference=after))
    flash("There is no other open request.")
    return redirect(url_for("staff.queue"))


@bp.post("/requests/<reference>/claim")
def claim(reference: str) -> Response:
    found = find_or_404(reference)
    if not ButtonForm().validate_on_submit():
        abort(400)
    contact_requests.assign(found, current_user, current_user)
    flash(f"You will call about {reference}.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.post("/requests/<reference>/assign")
def assign(reference: str) -> Response:
    found = find_or_404(reference)
    form = assign_form(found)
    if form.validate_on_submit():
        chosen = form.assignee.data
        assignee = None if chosen == NOBODY else contact_requests.staff_member(int(chosen))
        contact_requests.assign(found, current_user, assignee)
        flash(f"{assignee.username if assignee else 'Nobody'} will call about {reference}.")
    else:
        flash("Select who will call.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.post("/requests/<reference>/attempts")
def record_attempt(reference: str) -> Response:
    found = find_or_404(reference)
    form = forms.AttemptPage(ATTEMPT_OUTCOMES)
    if form.validate_on_submit():
        note = (form.attempt_note.data or "").strip() or None
        contact_requests.record_attempt(found, current_user, form.outcome.data, note)
        flash(f"Call recorded: {ATTEMPT_OUTCOMES[form.outcome.data]}.")
    else:
        flash("Select what happened on the call.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.post("/requests/<reference>/notes")
def add_note(reference: str) -> Response:
    found = find_or_404(reference)
    form = forms.NotePage()
    if form.validate_on_submit() and (form.note.data or "").strip():
        contact_requests.add_note(found, current_user, form.note.data.strip())
        flash("Note added.")
    else:
        flash("Enter a note of 4000 characters or fewer.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.get("/requests/<reference>/fhir")
def export_fhir(reference: str) -> Response:
    found = find_or_404(reference)
    contact_requests.audit(current_user, "export", found.reference, "FHIR QuestionnaireResponse")
    record = contact_requests.as_record(found)
    body = json.dumps(exports.questionnaire_response(record, url_for("fhir.questionnaire", _external=True)), indent=2)
    return Response(
        body,
        mimetype="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{found.reference}.json"'},
    )


@bp.get("/export.csv")
def export_csv() -> Response:
    filters = queue_filters()
    found = filters.requests()
    body = exports.requests_csv([contact_requests.as_record(item) for item in found])
    detail = f"CSV of {len(found)} requests (status {filters.status}, level {filters.level or 'any'})"
    if filters.search:
        detail += ", searched"  # not what was searched: it may be a name or a phone number
    contact_requests.audit(current_user, "export", None, detail)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="contact-requests.csv"'},
    )


@bp.get("/audit")
def audit_log() -> str:
    if not current_user.is_admin:
        abort(403)
    return render_template("staff/audit.html", entries=contact_requests.audit_log())


@bp.get("/rules")
@talisman(content_security_policy=security.CONTENT_SECURITY_POLICY | {"style-src": f"'{rulebook.STYLE_HASH}'"})
def rule_book() -> str:
    """Show the rule book of the rules in use, built once per process (the proofs take a moment)."""
    if "symptomcheck_rule_book" not in current_app.extensions:
        config = current_app.config
        current_app.extensions["symptomcheck_rule_book"] = rulebook.build(
            current_rules(), emergency_number=config["EMERGENCY_NUMBER"], clinic_name=config["CLINIC_NAME"]
        )
    page: str = current_app.extensions["symptomcheck_rule_book"]
    return page


@bp.post("/intake")
def start_intake() -> Response:
    """Start the questions on a caller's behalf; the result goes into the queue marked phone."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    session.pop("answers", None)
    session.pop("sent_reference", None)
    session["intake"] = True
    return redirect(url_for("check.first_question"))
