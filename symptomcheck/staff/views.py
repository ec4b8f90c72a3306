"""The front desk: log in, work the queue, change a request's status, export."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from symptomcheck.records import contact_requests, dashboard, desk, exports, staff_accounts
from symptomcheck.records.models import (
    ATTEMPT_OUTCOMES,
    CONTACT_TIMES,
    FAILED_ATTEMPTS_NOTICE,
    LANGUAGES,
    NEXT_STATUSES,
    OUTCOMES,
    SOURCES,
    STATUSES,
    VERDICTS,
    ContactRequest,
    Staff,
    now,
)
from symptomcheck.rules.engine import InvalidAnswers, assess_submission
from symptomcheck.staff import dashboard as clinic_dashboard
from symptomcheck.staff import forms
from symptomcheck.web import intake, rulebook, security
from symptomcheck.web.display import answer_rows, current_rules, say
from symptomcheck.web.forms import ButtonForm, EmergencyCall
from symptomcheck.web.security import limiter, talisman

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Log in to see the front desk pages."


# Endpoints open before a login is complete: the password page, and the two-factor pages after a right password.
OPEN_ENDPOINTS = {"staff.login", "staff.two_factor", "staff.two_factor_setup"}
# Pages a person with a temporary password may still open.
TEMPORARY_PASSWORD_ENDPOINTS = {"staff.change_password", "staff.logout"}
PENDING_LOGIN = datetime.timedelta(minutes=5)  # from a right password to a right code
STALE_FORM = "Nothing was saved: the page had been open too long. Try again."
ENDED_MESSAGES = {
    "idle": "You were logged out because the page was not used for a while.",
    "lifetime": "You were logged out because your login is more than {hours} hours old. Log in again.",
    "ended": "You were logged out. Log in again.",
}


@login_manager.user_loader
def load_staff(session_id: str) -> Staff | None:
    """Return the staff member of a live server-side session; the cookie holds only the session's id."""
    config = current_app.config
    staff, ended = staff_accounts.load_session(
        session_id,
        idle=datetime.timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
        lifetime=datetime.timedelta(hours=config["STAFF_SESSION_HOURS"]),
    )
    g.staff_session_ended = ended
    return staff


@bp.before_app_request
def end_ended_staff_sessions() -> None:
    """Forget a staff login whose server-side session ended, on any page (a phone intake uses the patient pages)."""
    # Most requests come from patients with no login: do not load a user for them.
    if request.endpoint == "static" or "_user_id" not in session or current_user.is_authenticated:
        return
    ended = g.get("staff_session_ended") or "ended"
    logout_user()
    session.clear()
    flash(ENDED_MESSAGES[ended].format(hours=current_app.config["STAFF_SESSION_HOURS"]))


@bp.before_request
def require_login() -> Response | None:
    """Refuse anonymous access to every front desk page but the login pages; hold a temporary password."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    if current_user.must_change_password and request.endpoint not in TEMPORARY_PASSWORD_ENDPOINTS:
        flash("Choose a new password to replace the temporary one.")
        return redirect(url_for("staff.change_password"))
    return None


def require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


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
        "outcomes": OUTCOMES,
        "verdicts": VERDICTS,
    }


def client_address() -> str:
    return request.remote_addr or "unknown"


def two_factor_required() -> bool:
    return bool(current_app.config["STAFF_TWO_FACTOR"])


def finish_login(staff: Staff) -> Response:
    """Start a new server-side session (a new id: nothing from before the login carries over)."""
    session.clear()  # no patient answers, pending login or old state carried into a staff session
    g.pop("csrf_token", None)  # Flask-WTF's token for this request was the cleared session's: make a new one
    staff_accounts.start_session(staff)
    login_user(staff)
    return redirect(url_for("staff.change_password" if staff.must_change_password else "staff.queue"))


def pending_staff() -> Staff | None:
    """Return who gave a right password in the last few minutes and still owes a two-factor code."""
    staff_id, since = session.get("pending_staff"), session.get("pending_since", 0)
    if staff_id is None or now().timestamp() - since > PENDING_LOGIN.total_seconds():
        return None
    staff = contact_requests.staff_member(int(staff_id))
    return staff if staff is not None and staff.is_active else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(security.STAFF_LOGINS, methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    form = forms.LoginPage()
    if form.validate_on_submit():
        username, address, key = form.username.data.strip(), client_address(), current_app.secret_key
        if staff_accounts.too_many_failed_logins(username, address, key):
            return render_template("staff/login.html", form=form, throttled=True), 429
        staff = staff_accounts.check_login(username, form.password.data, address, key)
        if staff is not None:
            if not two_factor_required():
                return finish_login(staff)
            session.clear()
            session["pending_staff"], session["pending_since"] = staff.id, now().timestamp()
            enrolled = staff.totp_enrolled_at is not None
            return redirect(url_for("staff.two_factor" if enrolled else "staff.two_factor_setup"))
        form.password.errors.append("The username or password is not right.")
    return render_template("staff/login.html", form=form, throttled=False)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(security.STAFF_LOGINS, methods=["POST"])
def two_factor() -> str | Response | tuple[str, int]:
    """Ask for the code from the authenticator app, or a recovery code, after a right password."""
    staff = pending_staff()
    if staff is None or staff.totp_enrolled_at is None:
        return redirect(url_for("staff.login"))
    form = forms.CodePage()
    if form.validate_on_submit():
        address, key = client_address(), current_app.secret_key
        if staff_accounts.too_many_failed_logins(staff.username, address, key):
            return render_template("staff/code.html", form=form, throttled=True), 429
        checked = staff_accounts.check_second_factor(staff, form.code.data)
        if checked.accepted:
            logged_in = finish_login(staff)  # before the message: a login starts an empty session
            if checked.used_recovery_code:
                left = staff_accounts.recovery_codes_left(staff)
                flash(f"You used a recovery code. {left} are left; an admin can reset two-factor login for you.")
            return logged_in
        staff_accounts.record_failure(staff, address, key)
        form.code.errors.append("The code is not right, or it was used already. Enter the newest code from the app.")
    return render_template("staff/code.html", form=form, throttled=False)


@bp.route("/login/two-factor-setup", methods=["GET", "POST"])
@limiter.limit(security.STAFF_LOGINS, methods=["POST"])
def two_factor_setup() -> str | Response:
    """Set up two-factor login on first use: scan the QR code, type the code the app shows, keep the recovery codes."""
    staff = pending_staff()
    if staff is None or staff.totp_enrolled_at is not None:
        return redirect(url_for("staff.login"))
    secret = staff_accounts.pending_totp_secret(staff)
    form = forms.EnrolCode()
    if form.validate_on_submit():
        codes = staff_accounts.confirm_enrolment(staff, form.code.data)
        if codes is not None:
            finish_login(staff)
            return render_template("staff/recovery_codes.html", codes=codes)
        form.code.errors.append("The code is not right. Enter the code the app shows now.")
    uri = staff_accounts.provisioning_uri(secret, staff.username)
    return render_template(
        "staff/two_factor_setup.html",
        form=form,
        qr=Markup(staff_accounts.qr_svg(uri)),  # noqa: S704 (segno's own SVG, from our own text)
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )


@bp.post("/logout")
@login_required
def logout() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    staff_accounts.end_session(current_user.session_id)
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    """Let each person change their own password (and replace a temporary one)."""
    form = forms.ChangePassword()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("The current password is not right.")
        elif problem := staff_accounts.password_problem(form.new_password.data, current_user.username):
            form.new_password.errors.append(problem)
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append("Choose a password different from the current one.")
        else:
            staff_accounts.change_own_password(current_user, form.new_password.data)
            flash("Your password was changed. Your other logins were ended.")
            return redirect(url_for("staff.queue"))
    return render_template("staff/change_password.html", form=form)


def find_account_or_404(staff_id: int) -> Staff:
    found = contact_requests.staff_member(staff_id)
    if found is None:
        abort(404)
    return found


@bp.route("/accounts", methods=["GET", "POST"])
def accounts() -> str | Response:
    """List the accounts, and add one with a temporary password shown once."""
    require_admin()
    form = forms.AddAccount()
    if form.validate_on_submit():
        username = form.username.data.strip()
        if staff_accounts.find_staff(username) is not None:
            form.username.errors.append(f"There is already an account named {username}.")
        else:
            password = staff_accounts.temporary_password()
            staff_accounts.add_account(current_user, username, password, admin=form.admin.data,
                                       clinician=form.clinician.data, temporary=True)  # fmt: skip
            return render_template("staff/temporary_password.html", username=username, password=password, added=True)
    return render_template(
        "staff/accounts.html",
        form=form,
        accounts=contact_requests.all_staff(),
        last_logins=staff_accounts.last_logins(),
    )


@bp.post("/accounts/<int:staff_id>/<action>")
def account_action(staff_id: int, action: str) -> str | Response:
    """Disable or enable an account, reset its password or its two-factor login; each ends its sessions."""
    require_admin()
    if not ButtonForm().validate_on_submit():
        abort(400)
    staff = find_account_or_404(staff_id)
    if action not in {"disable", "enable", "reset-password", "reset-two-factor"}:
        abort(404)
    if staff.id == current_user.id and action in {"disable", "reset-two-factor"}:
        flash("You cannot do that to your own account: ask another admin.")
    elif action == "disable":
        staff_accounts.disable_account(current_user, staff)
        flash(f"{staff.username} can no longer log in; their logins were ended.")
    elif action == "enable":
        staff_accounts.enable_account(current_user, staff)
        flash(f"{staff.username} can log in again.")
    elif action == "reset-two-factor":
        staff_accounts.reset_two_factor(current_user, staff)
        flash(f"{staff.username} will set up two-factor login again at their next login; their logins were ended.")
    else:
        password = staff_accounts.reset_password(current_user, staff)
        return render_template("staff/temporary_password.html", username=staff.username, password=password, added=False)
    return redirect(url_for("staff.accounts"))


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
    """Return the status form, offering only the statuses this request may move to, with what came of it."""
    form = forms.StatusChange(OUTCOMES)
    form.status.choices = [SelectChoice(status, STATUSES[status]) for status in NEXT_STATUSES[found.status]]
    if not form.is_submitted():
        form.closing_outcome.data, form.closing_note.data = found.outcome, found.outcome_note
    return form


STATUS_FIELDS = {"outcome": "closing_outcome", "outcome_note": "closing_note"}  # the workflow's names, the form's


def level_ranks() -> dict[str, int]:
    return {level.id: level.rank for level in current_rules().levels}


def verdict_form(found: ContactRequest) -> forms.VerdictPage:
    form = forms.VerdictPage(VERDICTS, {level: desk.LEVEL_WORDS.get(level, level) for level in level_ranks()})
    if not form.is_submitted() and found.verdict:
        form.verdict.data, form.verdict_level.data = found.verdict, found.verdict_level
        form.verdict_note.data = found.verdict_note
    return form


def render_request(
    found: ContactRequest,
    status_form: forms.StatusChange | None = None,
    clinician_form: forms.VerdictPage | None = None,
) -> str:
    """Return the request page, with a form sent back with its errors when one did not add up."""
    # The target is for the first contact: once the request has moved on from "new", there is nothing due.
    due = desk.due_at(found.received_at, found.level, desk_hours()) if found.status == "new" else None
    failed = next((form for form in (status_form, clinician_form) if form is not None and form.errors), None)
    config = current_app.config
    deleted_on = contact_requests.open_deletion_date(found, datetime.timedelta(days=config["OPEN_RETENTION_DAYS"]))
    warn = deleted_on is not None and deleted_on - now() <= datetime.timedelta(days=config["RETENTION_WARNING_DAYS"])
    return render_template(
        "staff/request.html",
        **({"form": failed} if failed else {}),  # "Error:" before the title
        item=found,
        rows=answer_rows(found.answers),
        level=current_rules().level(found.level) if found.level in level_ranks() else None,
        status_form=status_form or status_change_form(found),
        verdict_form=(clinician_form or verdict_form(found)) if current_user.is_clinician else None,
        note_form=forms.NotePage(),
        assign_form=assign_form(found),
        attempt_form=forms.AttemptPage(ATTEMPT_OUTCOMES),
        attempt_outcomes=ATTEMPT_OUTCOMES,
        failed_attempts=contact_requests.failed_attempts(found),
        failed_attempts_notice=FAILED_ATTEMPTS_NOTICE,
        duplicates=contact_requests.possible_duplicates([found]).get(found.id, ()),
        merge_form=forms.MergePage(formdata=None),
        say=say,
        due=due,
        overdue=desk.is_overdue(due, found.status, now()),
        target=desk_hours().targets.get(found.level),
        deleted_on=deleted_on if warn else None,
    )


@bp.get("/requests/<reference>")
def request_page(reference: str) -> str:
    found = find_or_404(reference)
    if request.method == "GET":  # a HEAD shows nobody anything: no audit entry
        contact_requests.audit(current_user, "view", found.reference)
    return render_request(found)


def optional_text(field: Any) -> str | None:
    return (field.data or "").strip() or None


@bp.post("/requests/<reference>/status")
def change_status(reference: str) -> Response | str:
    found = find_or_404(reference)
    form = status_change_form(found)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:  # a stale or missing token: nothing to correct on the form itself
            flash(STALE_FORM)
            return redirect(url_for("staff.request_page", reference=reference))
        return render_request(found, status_form=form)
    open_next = request.form.get("then") == "next"
    after = contact_requests.next_open_after(found) if open_next else None  # before the change moves it
    try:
        contact_requests.change_status(
            found,
            current_user,
            form.status.data,
            optional_text(form.status_note),
            form.closing_outcome.data or None,
            optional_text(form.closing_note),
        )
    except contact_requests.WorkflowError as refused:
        for problem in refused.problems:
            getattr(form, STATUS_FIELDS[problem.field]).errors.append(problem.message)
        return render_request(found, status_form=form)
    if not open_next:
        flash(f"Status changed to {STATUSES[form.status.data]}.")
        return redirect(url_for("staff.request_page", reference=reference))
    flash(f"Status of {reference} changed to {STATUSES[form.status.data]}.")  # said on another request's page
    if after:
        return redirect(url_for("staff.request_page", reference=after))
    flash("There is no other open request.")
    return redirect(url_for("staff.queue"))


@bp.post("/requests/<reference>/verdict")
def record_verdict(reference: str) -> Response | str:
    """Record a clinician's verdict on the suggested level; only a clinician may."""
    if not current_user.is_clinician:
        abort(403)
    found = find_or_404(reference)
    form = verdict_form(found)
    if not form.validate_on_submit():
        return render_request(found, clinician_form=form)
    try:
        contact_requests.record_verdict(
            found,
            current_user,
            form.verdict.data,
            form.verdict_level.data or None,
            optional_text(form.verdict_note),
            level_ranks(),
        )
    except contact_requests.WorkflowError as refused:
        for problem in refused.problems:
            getattr(form, problem.field).errors.append(problem.message)
        return render_request(found, clinician_form=form)
    flash(f"Verdict recorded: {VERDICTS[form.verdict.data]}.")
    return redirect(url_for("staff.request_page", reference=reference))


@bp.post("/requests/<reference>/merge")
def merge(reference: str) -> Response:
    """Merge this request into the possible duplicate kept: this one is closed, with a link to the other."""
    found = find_or_404(reference)
    form = forms.MergePage()
    if not form.validate_on_submit():
        abort(400)
    kept = find_or_404(form.kept.data)
    try:
        contact_requests.merge(found, kept, current_user)
    except ValueError:
        flash(f"{reference} is not a possible duplicate of {kept.reference}, so it was not merged.")
        return redirect(url_for("staff.request_page", reference=reference))
    flash(f"{reference} was merged into {kept.reference} and closed.")
    return redirect(url_for("staff.request_page", reference=kept.reference))


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
    body = exports.requests_csv([contact_requests.as_record(item) for item in found], desk_hours().zone)
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
    require_admin()
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
    intake.start()
    return redirect(url_for("check.first_question"))


@bp.post("/intake/end")
def end_intake() -> Response:
    """End the call: the banner goes and the caller's answers leave the session; nothing is stored."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    intake.end()
    flash("The phone intake has ended. Nothing was stored for this call.")
    return redirect(url_for("staff.queue"))


@bp.route("/intake/emergency", methods=["GET", "POST"])
def record_emergency_call() -> str | Response | tuple[str, int]:
    """Record that the caller was told to hang up and call the emergency number, as a closed request; end the intake."""
    if not intake.running():
        flash("No phone intake is running.")
        return redirect(url_for("staff.queue"))
    answers = dict(session.get("answers", {}))
    try:
        outcome = assess_submission(current_rules(), answers)
    except InvalidAnswers:
        return redirect(url_for("check.review"))
    if outcome.level != current_rules().most_urgent:
        return redirect(url_for("check.result"))
    form = EmergencyCall()
    if form.validate_on_submit():
        saved = contact_requests.record_emergency_call(
            outcome, answers, form.caller_name.data or "", current_user, intake.emergency_note()
        )
        intake.end()
        flash(f"Emergency call recorded as {saved.reference} and closed. The phone intake has ended.")
        return redirect(url_for("staff.request_page", reference=saved.reference))
    page = render_template(
        "staff/emergency_call.html", form=form, script=intake.script(outcome.level.id), level=outcome.level, say=say
    )
    return (page, 400) if form.is_submitted() else page


# --- The clinic's dashboard (admins and clinicians) ---------------------------------------------------------------


def dashboard_figures(default: str = "4weeks") -> clinic_dashboard.Figures:
    """Return the figures of the period asked for (this week, the last 4 weeks, a month): admins and clinicians only."""
    if not (current_user.is_admin or current_user.is_clinician):
        abort(403)
    at = now()
    period = dashboard.find_period(request.args.get("period", default), at.astimezone(desk_hours().zone).date())
    if period is None:
        abort(400)
    return clinic_dashboard.figures(period, current_rules(), desk_hours(), at)


def dashboard_page(template: str, found: clinic_dashboard.Figures) -> str:
    return render_template(
        template,
        found=found,
        charts=clinic_dashboard.chart_list(found),
        periods=dashboard.period_choices(found.at.astimezone(desk_hours().zone).date()),
        words=clinic_dashboard,
        outcome_words=OUTCOMES,
        targets={level: str(target) for level, target in desk_hours().targets.items()},
        rules_version=current_rules().version,
    )


@bp.get("/dashboard")
def dashboard_view() -> str:
    return dashboard_page("staff/dashboard.html", dashboard_figures())


@bp.get("/dashboard/report")
def dashboard_report() -> str:
    """The month's figures on a page that prints on two sheets or fewer."""
    today = now().astimezone(desk_hours().zone).date()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")  # the month just ended
    found = dashboard_figures(default=last_month)
    if len(found.period.key) != len("2026-11"):
        abort(400)  # the report is of a month
    return dashboard_page("staff/report.html", found)


@bp.get("/dashboard/charts/<name>.svg")
def dashboard_chart(name: str) -> Response:
    """A chart as an image of this site; its policy allows its own inline styles by their hashes, nothing more."""
    found = dashboard_figures()
    chart = next((chart for chart in clinic_dashboard.chart_list(found) if chart.name == name), None)
    if chart is None:
        abort(404)
    drawing = chart.draw(request.args.get("size") == "narrow")
    styles = " ".join(f"'{digest}'" for digest in drawing.style_hashes)
    response = Response(drawing.svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = security.policy_header({"style-src": styles})
    return response


@bp.get("/dashboard.csv")
def dashboard_csv() -> Response:
    found = dashboard_figures()
    contact_requests.audit(current_user, "export", None, f"dashboard CSV, {found.period.key}")
    return Response(
        clinic_dashboard.as_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dashboard-{found.period.key}.csv"'},
    )
