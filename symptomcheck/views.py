"""The patient pages: start, questions, check your answers, result."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import LazyString, lazy_gettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import Field
from wtforms.fields.core import UnboundField

from symptomcheck import forms, i18n, inquiries, security
from symptomcheck.engine import InvalidAnswers, Result, assess_submission, stops_early
from symptomcheck.i18n import N_, gettext
from symptomcheck.questions import BY_ID, Kind
from symptomcheck.ruleset import RuleSet
from symptomcheck.security import limiter

bp = Blueprint("check", __name__)

# In English here, for the catalog and the API; say() gives it in the page's language.
DISCLAIMER = N_(
    "This self-check is not a diagnosis or medical advice, and it does not replace a visit with a clinician. "
    "If your symptoms get worse or new ones appear, get medical care. "
    "In an emergency, call {emergency_number} now."
)


@dataclass(frozen=True)
class Step:
    slug: str
    title: LazyString
    page: type[forms.QuestionPage]

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(
            name for name, value in vars(self.page).items() if isinstance(value, UnboundField) and name in BY_ID
        )


STEPS = (
    Step("about-you", lazy_gettext("About you"), forms.AboutYouPage),
    Step("warning-signs", lazy_gettext("Warning signs"), forms.SafetyPage),
    Step("neck", lazy_gettext("Your neck and your headache"), forms.NeckPage),
    Step("headaches", lazy_gettext("How often and how bad"), forms.HeadachePage),
    Step("treatment", lazy_gettext("What you have tried"), forms.TreatmentPage),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}
STEP_BY_ANSWER = {answer_id: step for step in STEPS for answer_id in step.answer_ids}


def rules() -> RuleSet:
    """Return the rule set loaded when the app started."""
    loaded: RuleSet = current_app.extensions["symptomcheck_rules"]
    return loaded


def say(text: str) -> str:
    """Return a patient text (from rules.yaml or this module) in the page's language, with the clinic's details."""
    config = current_app.config
    return gettext(text).format(emergency_number=config["EMERGENCY_NUMBER"], clinic_name=config["CLINIC_NAME"])


def stored_answers() -> dict[str, Any]:
    """Return the answers kept in this browser's session."""
    return dict(session.get("answers", {}))


def store(answers: dict[str, Any]) -> None:
    """Add one page's answers to those kept in the session."""
    session["answers"] = {**stored_answers(), **answers}


def first_incomplete_step(answers: dict[str, Any]) -> Step | None:
    """Return the first page with a question not yet answered."""
    return next((step for step in STEPS if any(name not in answers for name in step.answer_ids)), None)


def next_page(answers: dict[str, Any]) -> Response:
    """Redirect to the emergency result, the first unanswered page, or the check page."""
    if stops_early(rules(), answers):
        return redirect(url_for(".result"))
    step = first_incomplete_step(answers)
    return redirect(url_for(".question", slug=step.slug) if step else url_for(".check_answers"))


@bp.after_app_request
def do_not_store(response: Response) -> Response:
    """Keep pages with answers or contact details out of browser and proxy caches."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


# Macros are imported without the page's context, so what they call is a global.
bp.add_app_template_global(forms.options, "options")

# A question with no error looks the same for everyone who gave the same answer:
# render it once per answer, not on every page view. Keys hold answer values only.
QUESTION_MARKUP_LIMIT = 5_000


@bp.app_template_global()
def question_markup(field: Field, form: forms.QuestionPage) -> Markup:
    """Return the HTML of one question (the question_field macro), kept per answer when it has no error."""
    none_box = form.none_option(field)
    # A macro called from Python returns Markup, escaped as in any page.
    render = current_app.jinja_env.get_template("macros/fields.html").module.question_field  # type: ignore[attr-defined]
    if field.errors or (none_box and none_box.errors):
        return render(field, form)  # type: ignore[no-any-return]
    kept: dict[tuple[Any, ...], Markup] = current_app.extensions.setdefault("symptomcheck_question_markup", {})
    key = (i18n.language(), field.name, repr(field.data), repr(field.raw_data), none_box.data if none_box else None)
    if key not in kept:
        if len(kept) >= QUESTION_MARKUP_LIMIT:
            kept.clear()
        kept[key] = render(field, form)
    return kept[key]


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    """Give every page the clinic's details, the disclaimer and the phone-intake flag."""
    return {
        "clinic_name": current_app.config["CLINIC_NAME"],
        "clinic_phone": current_app.config["CLINIC_PHONE"],
        "emergency_number": current_app.config["EMERGENCY_NUMBER"],
        "disclaimer": say(DISCLAIMER),
        "say": say,
        "phone_intake": phone_intake(),
        "language": i18n.language(),
        "languages": i18n.LANGUAGES,
    }


@bp.get("/")
def start() -> str:
    return render_template("start.html", steps=STEPS)


@bp.get("/language/<code>")
def switch_language(code: str) -> Response:
    """Show the pages in another language from now on; go back to the same page, answers and all."""
    if code not in i18n.LANGUAGES:
        abort(404)
    session["language"] = code
    back = request.args.get("next", "")
    # Only a path on this site: never an address elsewhere ("//evil.example" or "/\\evil.example").
    if not back.startswith("/") or back.startswith(("//", "/\\")):
        back = url_for(".start")
    return redirect(back)


@bp.post("/start-again")
def start_again() -> Response:
    if not forms.ButtonForm().validate_on_submit():
        abort(400)
    session.clear()
    return redirect(url_for(".question", slug=STEPS[0].slug))


@bp.route("/questions/<slug>", methods=["GET", "POST"])
@limiter.limit(security.ANSWER_PAGES, methods=["POST"])
def question(slug: str) -> str | Response:
    step = STEP_BY_SLUG.get(slug) or abort(404)
    answers = stored_answers()
    form = step.page(data=step.page.initial(answers))
    if form.validate_on_submit():
        store(form.answers())
        return next_page(stored_answers())
    first_gap = first_incomplete_step(answers)
    if not form.is_submitted() and first_gap and STEPS.index(step) > STEPS.index(first_gap):
        return redirect(url_for(".question", slug=first_gap.slug))
    number = STEPS.index(step)
    back = url_for(".question", slug=STEPS[number - 1].slug) if number else url_for(".start")
    return render_template(
        "question.html",
        form=form,
        step=step,
        number=number + 1,
        total=len(STEPS),
        back=back,
        session_lost="csrf_token" in form.errors,
    )


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(security.CONTACT_REQUESTS, methods=["POST"])
def contact() -> str | Response:
    answers = stored_answers()
    try:
        outcome = assess_submission(rules(), answers)
    except InvalidAnswers:
        return next_page(answers)
    if outcome.level == rules().most_urgent:
        return redirect(url_for(".result"))  # the only message there: call the emergency number now
    form = forms.ContactPage()
    if form.validate_on_submit():
        source = "phone" if phone_intake() else "web"
        saved = inquiries.create(outcome, answers, form.contact(), source)
        session["sent_reference"] = saved.reference
        if source == "phone":
            session.pop("answers", None)
            session.pop("intake", None)
            return redirect(url_for("staff.request_page", reference=saved.reference))
        return redirect(url_for(".contact_sent"))
    return render_template(
        "contact.html", form=form, result=outcome, retention_days=current_app.config["RETENTION_DAYS"]
    )


@bp.get("/contact/sent")
def contact_sent() -> str | Response:
    reference = session.get("sent_reference")
    if not reference:
        return redirect(url_for(".start"))
    return render_template("contact_sent.html", reference=reference, start_again=forms.ButtonForm())


def phone_intake() -> bool:
    """Say whether a signed-in staff member is filling in the questions for a caller."""
    return bool(session.get("intake")) and current_user.is_authenticated


@bp.get("/check-answers")
def check_answers() -> str | Response:
    answers = stored_answers()
    if stops_early(rules(), answers):
        return redirect(url_for(".result"))
    if first_incomplete_step(answers):
        return next_page(answers)
    return render_template("check.html", rows=answer_rows(answers))


@bp.get("/result")
def result() -> str | Response:
    answers = stored_answers()
    try:
        outcome = assess_submission(rules(), answers)
    except InvalidAnswers:
        return next_page(answers)
    return render_template(
        "result.html",
        result=outcome,
        sent_reference=session.get("sent_reference"),
        rules=rules(),
        groups=reason_groups(outcome),
        rows=answer_rows(answers),
        today=datetime.date.today(),
        start_again=forms.ButtonForm(),
    )


def answer_text(answer_id: str, value: Any) -> list[str]:
    """Return an answer in the words the person saw, one item per ticked box."""
    question = BY_ID[answer_id]
    if question.kind is Kind.INTEGER:
        return [str(value)]
    if question.kind is Kind.SINGLE:
        return [gettext(question.choice_label(value))]
    nothing_ticked = forms.NONE_OF_THESE if answer_id in forms.HAS_NONE_OPTION else gettext("None")
    return [gettext(question.choice_label(item)) for item in value] or [str(nothing_ticked)]


def answer_rows(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one row per answered question, in the order the pages ask them, with a link to change it."""
    return [
        {
            "id": answer_id,
            "question": gettext(question.label),
            "answer": answer_text(answer_id, answers[answer_id]),
            "change": url_for("check.question", slug=STEP_BY_ANSWER[answer_id].slug, _anchor=answer_id),
        }
        for step in STEPS
        for answer_id in step.answer_ids
        if answer_id in answers
        for question in (BY_ID[answer_id],)
    ]


def reason_groups(outcome: Result) -> dict[str, list[dict[str, Any]]]:
    """Sort the fired rules for the page: why this level, what to do next, the pattern, the rest."""
    groups: dict[str, list[dict[str, Any]]] = {"main": [], "next": [], "pattern": [], "other": []}
    for rule in outcome.fired:
        questions = [gettext(BY_ID[answer_id].label) for answer_id in BY_ID if answer_id in rule.condition.answer_ids]
        reason = {"rule": rule.id, "text": say(rule.reason), "questions": questions}
        if rule.note:
            groups["next"].append({**reason, "note": say(rule.note)})
        if rule.level:
            groups["main" if rule.level == outcome.level else "other"].append(reason)
        elif rule.pattern:
            groups["pattern"].append(reason)
    return groups
