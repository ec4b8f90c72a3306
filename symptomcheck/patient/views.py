"""The patient pages: start, questions, check your answers, result, and the contact request."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from symptomcheck.patient import call_time, forms
from symptomcheck.patient.forms import PAGE_BY_ANSWER, PAGE_BY_SLUG, PAGES, Page
from symptomcheck.records import contact_requests, usage
from symptomcheck.records.models import db
from symptomcheck.rules.engine import InvalidAnswers, Result, assess_submission, stops_early
from symptomcheck.rules.questions import BY_ID
from symptomcheck.web import errors, i18n, intake, security
from symptomcheck.web.display import EMERGENCY_LINE, NOT_ADVICE, answer_rows, current_rules, disclaimer, say
from symptomcheck.web.forms import ButtonForm, EmergencyCall
from symptomcheck.web.pagecache import frozen, shown_page
from symptomcheck.web.security import limiter

bp = Blueprint("check", __name__)


def session_answers() -> dict[str, Any]:
    """Return the answers kept in this browser's session."""
    return dict(session.get("answers", {}))


def keep(answers: dict[str, Any]) -> None:
    """Add one page's answers to those kept in the session."""
    session["answers"] = {**session_answers(), **answers}


def answers_seal(answers: dict[str, Any]) -> str:
    """Return a keyed digest of a set of answers, to tell later whether the answers sent have changed."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"))
    return hmac.new(current_app.secret_key.encode(), text.encode(), hashlib.sha256).hexdigest()  # type: ignore[union-attr]


def remember_sent(reference: str, answers: dict[str, Any]) -> None:
    """Keep which request this browser sent, and a seal of the answers it carried (not the answers again)."""
    session["sent_reference"] = reference
    session["sent_seal"] = answers_seal(answers)


def changed_since_sent(answers: dict[str, Any]) -> bool:
    """Say whether the answers now differ from those the clinic has from this browser."""
    return bool(session.get("sent_reference")) and session.get("sent_seal") != answers_seal(answers)


def first_unanswered_page(answers: dict[str, Any]) -> Page | None:
    """Return the first page with a question not yet answered."""
    return next((page for page in PAGES if any(name not in answers for name in page.answer_ids)), None)


def next_page(answers: dict[str, Any]) -> Response:
    """Redirect to the emergency result, the first unanswered page, or the check page."""
    if stops_early(current_rules(), answers):
        return redirect(url_for(".result"))
    page = first_unanswered_page(answers)
    return redirect(url_for(".question", slug=page.slug) if page else url_for(".review"))


@bp.after_app_request
def do_not_store(response: Response) -> Response:
    """Keep pages with answers or contact details out of browser and proxy caches."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


# Macros are imported without the page's context, so what they call is a global.
bp.add_app_template_global(forms.options, "options")


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    """Give every page the clinic's details, the disclaimer and the phone-intake flag."""
    return {
        "clinic_name": current_app.config["CLINIC_NAME"],
        "clinic_phone": current_app.config["CLINIC_PHONE"],
        "emergency_number": current_app.config["EMERGENCY_NUMBER"],
        "disclaimer": disclaimer(),
        "not_advice": say(NOT_ADVICE),
        "emergency_line": say(EMERGENCY_LINE),
        "say": say,
        "phone_intake": phone_intake(),
        "intake_form": ButtonForm(formdata=None) if phone_intake() else None,  # "End the call" in the banner
        "language": i18n.language(),
        "languages": i18n.LANGUAGES,
    }


def frame_key(name: str) -> tuple[Any, ...]:
    """Return what a page without answers depends on: its name, the language, the intake flag, the rules."""
    return (name, i18n.language(), phone_intake(), id(current_rules()))


@bp.get("/")
def start() -> str:
    return shown_page(frame_key("start"), lambda: render_template("start.html", first_page=PAGES[0]))


# Which part of the teaching page fits each pattern a result shows.
LEARN_SECTION = {
    "cgh_likely": "treatments",
    "cgh_possible": "why-the-neck",
    "other_pattern": "migraine-or-neck",
    "unclear": "how-it-is-checked",
}


@bp.get("/learn")
def learn() -> str:
    """The clinic's teaching about headaches that start in the neck, in plain words."""
    config = current_app.config
    about = (
        config["CLINIC_ABOUT_ES"] if i18n.language() == "es" and config["CLINIC_ABOUT_ES"] else config["CLINIC_ABOUT"]
    )
    return shown_page(frame_key("learn"), lambda: render_template("learn.html", clinic_about=about))


@bp.get("/language/<code>")
def switch_language(code: str) -> Response:
    """Show the pages in another language from now on; go back to the same page, answers and all."""
    if code not in i18n.LANGUAGES:
        abort(404)
    session["language"] = code
    return redirect(page_of_this_site(request.args.get("next", "")) or url_for(".start"))


# The paths of this site's pages use only these characters: no tab, newline, backslash or "%" can slip through.
PAGE_PATH = re.compile(r"/[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*/?|/")


def page_of_this_site(path: str) -> str | None:
    """Return the path when it names a page of this site (after decoding), else None: never an address elsewhere."""
    if not PAGE_PATH.fullmatch(path):
        return None
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:  # not found, not a GET page, or a redirect to another form of the path
        return None
    return path


@bp.post("/start-again")
def start_again() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    if phone_intake():
        intake.start()  # a new caller's answers; the staff member stays logged in
    else:
        session.clear()
    return redirect(url_for(".question", slug=PAGES[0].slug))


@bp.get("/questions/")
def first_question() -> Response:
    """Go to the first page of questions (the phone intake starts here)."""
    return redirect(url_for(".question", slug=PAGES[0].slug))


@bp.route("/questions/<slug>", methods=["GET", "POST"])
@limiter.limit(security.ANSWER_PAGES, methods=["POST"], exempt_when=security.staff_on_a_call)
def question(slug: str) -> str | Response:
    page = PAGE_BY_SLUG.get(slug) or abort(404)
    answers = session_answers()
    shown = page.shown(answers)
    form = page.form(data=shown) if request.method == "POST" else None
    if form and form.validate_on_submit():
        keep(form.answers())
        if not phone_intake():
            usage.page_sent(current_rules(), page.slug, answers, session_answers())
        return next_page(session_answers())
    first_gap = first_unanswered_page(answers)
    if not form and first_gap and PAGES.index(page) > PAGES.index(first_gap):
        return redirect(url_for(".question", slug=first_gap.slug))
    if form:  # a post with errors: shown once, not kept
        return question_page(page, form)
    # A page not yet posted depends only on these: the same key, the same page for anyone.
    key = (*frame_key("question"), slug, frozen(shown), back_link(page))
    return shown_page(key, lambda: question_page(page, page.form(data=shown)))


def back_link(page: Page) -> str:
    """Return where Back goes from a page of questions: the page before, or the check page after "Change".

    Worked out once per page, way in and the app's place under the site (as url_for would, on every request).
    """
    # Opened with "Change": back is where the person came from. (No query string: no need to parse one.)
    after_change = bool(request.query_string) and request.args.get("from") == "check"
    links: dict[tuple[str, bool, str], str] = current_app.extensions.setdefault("back_links", {})
    key = (page.slug, after_change, request.script_root)
    link = links.get(key)
    if link is None:
        number = PAGES.index(page)
        if after_change:
            link = url_for(".review")
        else:
            link = url_for(".question", slug=PAGES[number - 1].slug) if number else url_for(".start")
        links[key] = link
    return link


def question_page(page: Page, form: Any, wait_minutes: int | None = None) -> str:
    """Render a page of questions with its form, and the wait when a rate limit stopped it."""
    return render_template(
        "question.html",
        form=form,
        page=page,
        number=PAGES.index(page) + 1,
        total=len(PAGES),
        back=back_link(page),
        session_lost="csrf_token" in form.errors,
        wait_minutes=wait_minutes,
    )


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(
    security.CONTACT_REQUESTS,
    methods=["POST"],
    exempt_when=security.staff_on_a_call,
    deduct_when=security.stored_a_request,
)
def contact() -> str | Response:
    answers = session_answers()
    try:
        outcome = assess_submission(current_rules(), answers)
    except InvalidAnswers:
        return next_page(answers)
    if outcome.level == current_rules().most_urgent:
        return redirect(url_for(".result"))  # the only message there: call the emergency number now
    form = forms.ContactPage()
    if form.validate_on_submit():
        source = "phone" if phone_intake() else "web"
        token = form.submission.data
        # Only the new row's reference is read after the commit: keep it rather than read the row back.
        db.session().expire_on_commit = False  # this request's session only; it ends with the request
        saved = contact_requests.find_submission(token)  # this very form, sent again: the first reference
        if saved is None:
            saved = contact_requests.create(
                outcome, answers, form.contact(), source, taken_by_id=intake.staff_id(), submission_token=token
            )
            g.stored_a_request = True
            if source == "web":
                usage.contact_sent(outcome.level.id)
        remember_sent(saved.reference, answers)
        if source == "phone":
            intake.end()
            return redirect(url_for("staff.request_page", reference=saved.reference))
        session["sent_call"] = {
            "at": call_time.clock().timestamp(),
            "level": outcome.level.id,
            "phone": bool(saved.phone),
        }
        return redirect(url_for(".contact_sent"))
    return contact_page(form, outcome)


def contact_page(
    form: forms.ContactPage, outcome: Result, wait_minutes: int | None = None, not_sure_it_was_sent: bool = False
) -> str:
    """Render the contact form, with the wait when a rate limit stopped it, or the news of a fault."""
    return render_template(
        "contact.html",
        form=form,
        result=outcome,
        retention_days=current_app.config["RETENTION_DAYS"],
        call=when_we_call(outcome.level.id, call_time.clock()),
        act_now=outcome.level.rank <= 1,
        wait_minutes=wait_minutes,
        not_sure_it_was_sent=not_sure_it_was_sent,
    )


@bp.errorhandler(SQLAlchemyError)
def database_fault(error: SQLAlchemyError) -> tuple[str | Response, int, list[tuple[str, str]]]:
    """On the contact and update forms, say the truth after a fault: it may have been saved; again stores it once.

    The form comes back with the token it was sent with, so pressing the button again finds what was stored.
    """
    page = errors.database_error(error)  # rolls back and logs the one line
    if request.endpoint not in {"check.contact", "check.send_update"} or request.method != "POST":
        return page
    answers = session_answers()
    try:
        outcome = assess_submission(current_rules(), answers)
    except InvalidAnswers:
        return page
    if request.endpoint == "check.send_update":
        shown = result_page(outcome, answers, forms.SendUpdate(), not_sure_update_sent=True)
    else:
        shown = contact_page(forms.ContactPage(), outcome, not_sure_it_was_sent=True)
    return shown, 503, [("Retry-After", "5")]


@bp.errorhandler(429)
def too_many_tries(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]] | HTTPException:
    """Stop a form sent too often, keeping what was typed on it, with the real wait and the clinic's phone."""
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    wait = security.wait_minutes()
    if request.endpoint == "check.contact":
        try:
            outcome = assess_submission(current_rules(), session_answers())
        except InvalidAnswers:
            outcome = None
        if outcome is not None:
            return contact_page(forms.ContactPage(), outcome, wait), 429, headers
    if request.endpoint == "check.question" and request.view_args:
        page = PAGE_BY_SLUG.get(request.view_args.get("slug", ""))
        if page is not None:
            return question_page(page, page.form(), wait), 429, headers
    return render_template("error.html", code=429, wait_minutes=wait), 429, headers


@bp.post("/contact/update")
@limiter.limit(
    security.CONTACT_REQUESTS,
    methods=["POST"],
    exempt_when=security.staff_on_a_call,
    deduct_when=security.stored_a_request,
)
def send_update() -> Response:
    """Send changed answers to the clinic, linked to the request this browser sent before."""
    form = forms.SendUpdate()
    if not form.validate_on_submit():
        abort(400)
    answers = session_answers()
    reference = session.get("sent_reference")
    try:
        outcome = assess_submission(current_rules(), answers)
    except InvalidAnswers:
        return next_page(answers)
    if reference and changed_since_sent(answers):
        db.session().expire_on_commit = False  # as on the contact form: nothing is read back after the commit
        update = contact_requests.find_submission(form.submission.data)  # this very form, sent again
        if update is None:
            update = contact_requests.send_update(outcome, answers, reference, form.submission.data)
            if update is None:  # the earlier request is gone: ask for the details again
                session.pop("sent_reference", None)
                return redirect(url_for(".contact"))
            g.stored_a_request = True
        remember_sent(reference, answers)  # the person keeps one reference; the desk sees the link
        session["update_sent"] = True
    return redirect(url_for(".result"))


@bp.get("/contact/sent")
def contact_sent() -> str | Response:
    reference = session.get("sent_reference")
    if not reference:
        return redirect(url_for(".start"))
    sent = session.get("sent_call") or {}
    level = sent.get("level", "")
    known = {item.id: item for item in current_rules().levels}
    at = datetime.datetime.fromtimestamp(sent.get("at", 0), datetime.UTC)
    return render_template(
        "contact_sent.html",
        reference=reference,
        start_again=ButtonForm(),
        call=when_we_call(level, at, sent.get("phone", True)) if level in known else None,
        act_now=level in known and known[level].rank <= 1,
    )


def when_we_call(level: str, at: datetime.datetime, phone: bool = True) -> call_time.CallTime | None:
    """Say when the clinic will call about a request at this level sent at `at`, from the desk's hours."""
    return call_time.call_time(level, at, current_app.extensions["desk_hours"], phone)


def phone_intake() -> bool:
    """Say whether a signed-in staff member is filling in the questions for a caller."""
    return intake.running()


@bp.get("/check-answers")
def review() -> str | Response:
    answers = session_answers()
    if stops_early(current_rules(), answers):
        return redirect(url_for(".result"))
    if first_unanswered_page(answers):
        return next_page(answers)
    return render_template("check.html", rows=answer_rows_to_change(answers), last_page=PAGES[-1])


@bp.get("/result")
def result() -> str | Response:
    answers = session_answers()
    try:
        outcome = assess_submission(current_rules(), answers)
    except InvalidAnswers:
        return next_page(answers)
    return result_page(outcome, answers, forms.SendUpdate(formdata=None))


def result_page(
    outcome: Result, answers: dict[str, Any], send_update_form: forms.SendUpdate, not_sure_update_sent: bool = False
) -> str:
    """Render the result, with the button that sends changed answers and, after a fault, the news of it."""
    return render_template(
        "result.html",
        result=outcome,
        sent_reference=session.get("sent_reference"),
        changed_since_sent=changed_since_sent(answers),
        update_sent=session.pop("update_sent", False),
        send_update_form=send_update_form,
        not_sure_update_sent=not_sure_update_sent,
        rule_set=current_rules(),
        groups=reason_groups(outcome),
        rows=answer_rows(answers),
        today=datetime.date.today(),
        start_again=ButtonForm(),
        warning_signs=PAGE_BY_ANSWER["red_flags"],
        learn_section=LEARN_SECTION.get(outcome.pattern.id if outcome.pattern else "", ""),
        script=intake.script(outcome.level.id) if phone_intake() else [],
        emergency_call=EmergencyCall(formdata=None) if phone_intake() else None,
    )


def answer_rows_to_change(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the answer rows, each with a link to the question on its page."""
    return [
        {
            **row,
            "change": url_for(".question", slug=PAGE_BY_ANSWER[row["id"]].slug, _anchor=row["id"], **{"from": "check"}),
        }
        for row in answer_rows(answers)
    ]


def reason_groups(outcome: Result) -> dict[str, list[dict[str, Any]]]:
    """Sort the fired rules for the page: why this level, what to do next, the pattern, the rest."""
    groups: dict[str, list[dict[str, Any]]] = {"main": [], "next": [], "pattern": [], "other": []}
    for rule in outcome.fired:
        questions = [gettext_label(answer_id) for answer_id in BY_ID if answer_id in rule.condition.answer_ids]
        reason = {"rule": rule.id, "text": say(rule.reason), "questions": questions}
        if rule.note:
            groups["next"].append({**reason, "note": say(rule.note)})
        if rule.level:
            groups["main" if rule.level == outcome.level else "other"].append(reason)
        elif rule.pattern:
            groups["pattern"].append(reason)
    return groups


def gettext_label(answer_id: str) -> str:
    """Return a question's words in the page's language (about the caller, during a phone intake)."""
    return intake.question_label(answer_id)
