"""The front desk: log in, work the queue, change a request's status, export."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from typing import Any

import phonenumbers
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from symptomcheck import fhir, forms, inquiries, security
from symptomcheck.models import (
    CONTACT_TIMES,
    NEXT_STATUSES,
    SOURCES,
    STATUSES,
    ContactRequest,
    LoginAttempt,
    Staff,
    db,
    now,
)
from symptomcheck.questions import QUESTIONS
from symptomcheck.security import limiter
from symptomcheck.views import answer_rows, rules, say

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Log in to see the front desk pages."

MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = datetime.timedelta(minutes=15)
CSV_ANSWER_COLUMNS = [question.id for question in QUESTIONS]


@login_manager.user_loader
def load_staff(staff_id: str) -> Staff | None:
    return db.session.get(Staff, int(staff_id))


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


@bp.context_processor
def staff_globals() -> dict[str, Any]:
    # formdata=None: a page (an error page, say) must render without reading the request body.
    button_form = forms.ButtonForm(formdata=None)
    return {"statuses": STATUSES, "contact_times": CONTACT_TIMES, "sources": SOURCES, "button_form": button_form}


def too_many_failures(username: str, address: str) -> bool:
    since = now() - FAILURE_WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at > since, ~LoginAttempt.succeeded)
    by_name = db.session.scalar(failures.where(LoginAttempt.username == username)) or 0
    by_address = db.session.scalar(failures.where(LoginAttempt.address == address)) or 0
    return by_name >= MAX_FAILURES_PER_USERNAME or by_address >= MAX_FAILURES_PER_ADDRESS


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(security.STAFF_LOGINS, methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    form = forms.LoginPage()
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr or "unknown"
        if too_many_failures(username, address):
            return render_template("staff/login.html", form=form, throttled=True), 429
        staff = db.session.scalar(select(Staff).where(Staff.username == username))
        succeeded = staff is not None and staff.check_password(form.password.data)
        db.session.add(LoginAttempt(username=username[:80], address=address[:64], succeeded=succeeded))
        db.session.commit()
        if staff is not None and succeeded:
            session.clear()  # no patient answers or old state carried into a staff session
            login_user(staff)
            session["staff_seen"] = now().timestamp()
            return redirect(url_for("staff.queue"))
        form.password.errors.append("The username or password is not right.")
    return render_template("staff/login.html", form=form, throttled=False)


@bp.post("/logout")
@login_required
def logout() -> Response:
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


def queue_filters() -> tuple[str, str | None]:
    status = request.args.get("status", "open")
    if status not in {"open", "all", *STATUSES}:
        abort(400)
    level = request.args.get("level") or None
    if level is not None and level not in {level.id for level in rules().levels}:
        abort(400)
    return status, level


@bp.get("/")
def queue() -> str:
    status, level = queue_filters()
    return render_template(
        "staff/queue.html", requests=inquiries.queue(status, level), status=status, level=level, levels=rules().levels
    )


def find_or_404(reference: str) -> ContactRequest:
    found = inquiries.find(reference)
    if found is None:
        abort(404)
    return found


def status_change_form(found: ContactRequest) -> forms.StatusChange:
    """Return the status form, offering only the statuses this request may move to."""
    form = forms.StatusChange()
    form.status.choices = [SelectChoice(status, STATUSES[status]) for status in NEXT_STATUSES[found.status]]
    return form


@bp.get("/requests/<reference>")
def request_page(reference: str) -> str:
    found = find_or_404(reference)
    inquiries.audit(current_user, "view", found.reference)
    status_form = status_change_form(found)
    return render_template(
        "staff/request.html",
        item=found,
        rows=answer_rows(found.answers),
        level=rules().level(found.level) if found.level in {level.id for level in rules().levels} else None,
        status_form=status_form,
        note_form=forms.NotePage(),
        say=say,
    )


@bp.post("/requests/<reference>/status")
def change_status(reference: str) -> Response:
    found = find_or_404(reference)
    form = status_change_form(found)
    if form.validate_on_submit():
        inquiries.change_status(found, current_user, form.status.data, (form.status_note.data or "").strip() or None)
        flash(f"Status changed to {STATUSES[form.status.data]}.")
    else:
        flash("Select one of the next statuses.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.post("/requests/<reference>/notes")
def add_note(reference: str) -> Response:
    found = find_or_404(reference)
    form = forms.NotePage()
    if form.validate_on_submit() and (form.note.data or "").strip():
        inquiries.add_note(found, current_user, form.note.data.strip())
        flash("Note added.")
    else:
        flash("Enter a note of 4000 characters or fewer.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.get("/requests/<reference>/fhir")
def export_fhir(reference: str) -> Response:
    found = find_or_404(reference)
    inquiries.audit(current_user, "export", found.reference, "FHIR QuestionnaireResponse")
    body = json.dumps(fhir.questionnaire_response(found, url_for("fhir.questionnaire", _external=True)), indent=2)
    return Response(
        body,
        mimetype="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{found.reference}.json"'},
    )


def csv_cell(value: Any) -> str:
    """Return a CSV cell a spreadsheet will show as text, never run as a formula."""
    text = ";".join(value) if isinstance(value, list) else "" if value is None else str(value)
    if re.fullmatch(r"\+\d+", text):  # a phone number: a spreadsheet reads it as a number, which is safe
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
def export_csv() -> Response:
    status, level = queue_filters()
    found = inquiries.queue(status, level)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["reference", "received_at", "source", "status", "level", "pattern", "rules_version", "name", "phone",
         "email", "preferred_time", *CSV_ANSWER_COLUMNS]
    )  # fmt: skip
    for item in found:
        row = [item.reference, item.received_at.isoformat(), item.source, item.status, item.level, item.pattern,
               item.rules_version, item.name, item.phone, item.email, item.preferred_time]  # fmt: skip
        writer.writerow([csv_cell(value) for value in row + [item.answers.get(key) for key in CSV_ANSWER_COLUMNS]])
    detail = f"CSV of {len(found)} requests (status {status}, level {level or 'any'})"
    inquiries.audit(current_user, "export", None, detail)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="contact-requests.csv"'},
    )


@bp.get("/audit")
def audit_log() -> str:
    if not current_user.is_admin:
        abort(403)
    return render_template("staff/audit.html", entries=inquiries.audit_log())


@bp.post("/intake")
def start_intake() -> Response:
    """Start the questions on a caller's behalf; the result goes into the queue marked phone."""
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    session.pop("answers", None)
    session.pop("sent_reference", None)
    session["intake"] = True
    return redirect(url_for("check.question", slug="about-you"))
