"""The question pages: one form per page, each field built from its question."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import phonenumbers
import wtforms.i18n
from babel.support import NullTranslations, Translations
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from symptomcheck.records.contact_requests import Contact
from symptomcheck.records.models import CONTACT_TIMES
from symptomcheck.rules.questions import BY_ID, Question, disagreement
from symptomcheck.web import display, intake
from symptomcheck.web.i18n import gettext, language, lazy_gettext

PHONE_EXAMPLE = "202 555 0143"  # a number phonenumbers accepts: the hint must pass its own check
NONE_OF_THESE = lazy_gettext(display.NONE_OF_THESE)
BOTH_TICKED = lazy_gettext(
    "You selected a sign and 'None of these'. Select only the signs you have, or only 'None of these'."
)


def translated(text: str) -> Any:
    """Return the text in the page's language when the page is made (an empty text stays empty)."""
    return lazy_gettext(text) if text else ""


def label_of(question: Question) -> Any:
    """Return a question's label, put in words when the page is made: the caller's words during a phone intake."""
    return LazyString(intake.question_label, question.id)


def hint_of(question: Question) -> Any:
    """Return a question's hint the same way (a question with no hint has none in either wording)."""
    return LazyString(intake.question_hint, question.id) if question.hint else ""


@cache
def choices_of(question: Question) -> list[SelectChoice]:
    """Return a question's choices as WTForms takes them, made once: their labels are put in the page's language."""
    return [SelectChoice(choice.value, translated(choice.label)) for choice in question.choices]


@cache
def required(question: Question) -> list[InputRequired]:
    """Return the validator that refuses a missing answer with the question's message, made once."""
    return [InputRequired(translated(question.error))]


class SingleChoice(RadioField):
    """Radio buttons for a single-choice question."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            label_of(question),
            choices=choices_of(question),
            validators=required(question),
            description=hint_of(question),
            **kwargs,
        )
        self.question = question

    def pre_validate(self, form: Any) -> None:
        if self.data not in self.question.values:
            raise ValidationError(gettext(self.question.error))


class MultiChoice(SelectMultipleField):
    """Checkboxes for a multi-choice question; ticking none gives an empty list."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            label_of(question),
            choices=choices_of(question),
            description=hint_of(question),
            **kwargs,
        )
        self.question = question

    def pre_validate(self, form: Any) -> None:
        if any(value not in self.question.values for value in self.data or ()):
            raise ValidationError(gettext(self.question.error))
        self.data = list(dict.fromkeys(self.data or ()))


class WholeNumber(IntegerField):
    """A text box for a whole number, refusing anything else with the question's message."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            label_of(question),
            validators=required(question),
            description=hint_of(question),
            **kwargs,
        )
        self.question = question

    def pre_validate(self, form: Any) -> None:
        # Only digits get this far, so a number out of range is too high, never below 0: say so, and the fix.
        if self.data is not None and self.data > self.question.maximum:
            raise ValidationError(
                gettext(
                    "%(number)s is too high. Enter a number from %(minimum)s to %(maximum)s.",
                    number=self.data, minimum=self.question.minimum, maximum=self.question.maximum,
                )
            )  # fmt: skip

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        if text and not re.fullmatch(r"[0-9]{1,3}", text):  # int() would take "1_0" and full-width digits
            self.data = None
            raise ValueError(gettext(self.question.error))
        super().process_formdata([text] if valuelist else [])


@dataclass(frozen=True)
class Option:
    """One radio button or checkbox as the page shows it."""

    id: str
    value: str
    label: str
    hint: str
    checked: bool


def options(field: RadioField | SelectMultipleField) -> list[Option]:
    """Return the boxes of a choice field, with their hints and whether each is ticked.

    Read from the field's choices directly: WTForms' own option subfields cost
    a field object per box, on every page.
    """
    chosen = set(field.data or ()) if isinstance(field, SelectMultipleField) else {field.data}
    question: Question | None = getattr(field, "question", None)
    hints = {choice.value: gettext(choice.hint) for choice in question.choices if choice.hint} if question else {}
    return [
        Option(f"{field.id}-{index}", choice.value, choice.label, hints.get(choice.value, ""), choice.value in chosen)
        for index, choice in enumerate(field.choices)  # type: ignore[arg-type]
    ]


class QuestionPage(FlaskForm):
    """A page of questions whose field names are the answer ids."""

    # A multi-choice question that must not be skipped gets a "None of these"
    # box of its own: answer id -> name of that box.
    none_options: dict[str, str] = {}

    def none_option(self, field: Field) -> Field | None:
        """Return the "None of these" box that goes with a multi-choice field, if any."""
        name = self.none_options.get(field.name)
        return self[name] if name else None

    def answers(self) -> dict[str, Any]:
        """Return this page's answers, keyed by answer id."""
        return {name: field.data for name, field in self._fields.items() if name in BY_ID}

    @classmethod
    def initial(cls, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Return the stored answers as this page's starting values."""
        return dict(answers)

    @property
    def question_fields(self) -> list[Field]:
        return [field for name, field in self._fields.items() if name in BY_ID]


class AboutYouPage(QuestionPage):
    age_band = SingleChoice(BY_ID["age_band"])


class SafetyPage(QuestionPage):
    red_flags = MultiChoice(BY_ID["red_flags"])
    no_red_flags = BooleanField(NONE_OF_THESE, false_values=("", "false", "n", "no", "off", "0"))
    none_options = {"red_flags": "no_red_flags"}

    @classmethod
    def initial(cls, answers: Mapping[str, Any]) -> dict[str, Any]:
        return {**answers, "no_red_flags": answers.get("red_flags") == []}

    def validate_red_flags(self, field: MultiChoice) -> None:
        if field.data and self.no_red_flags.data:
            raise ValidationError(BOTH_TICKED)
        if not field.data and not self.no_red_flags.data:
            raise ValidationError(gettext(field.question.error))


class NeckPage(QuestionPage):
    neck_origin = SingleChoice(BY_ID["neck_origin"])
    headache_side = SingleChoice(BY_ID["headache_side"])
    movement_trigger = SingleChoice(BY_ID["movement_trigger"])
    posture_trigger = SingleChoice(BY_ID["posture_trigger"])
    neck_pressure_trigger = SingleChoice(BY_ID["neck_pressure_trigger"])
    neck_stiffness = SingleChoice(BY_ID["neck_stiffness"])
    radiation = MultiChoice(BY_ID["radiation"])
    neck_injury_history = SingleChoice(BY_ID["neck_injury_history"])


class HeadachePage(QuestionPage):
    migraine_features = MultiChoice(BY_ID["migraine_features"])
    duration = SingleChoice(BY_ID["duration"])
    headache_days = WholeNumber(BY_ID["headache_days"])
    pain_intensity = WholeNumber(BY_ID["pain_intensity"])
    impact = MultiChoice(BY_ID["impact"])


class TreatmentPage(QuestionPage):
    treatments_tried = MultiChoice(BY_ID["treatments_tried"])
    treatment_result = SingleChoice(BY_ID["treatment_result"])
    pain_relief_days = WholeNumber(BY_ID["pain_relief_days"])

    def validate_treatment_result(self, field: SingleChoice) -> None:
        problem = disagreement(self.answers())
        if problem:
            raise ValidationError(gettext(problem))


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def no_control_characters(message: Any) -> Any:
    """Refuse a line of text holding a control character (a NUL byte above all: the database refuses it)."""

    def check(form: Any, field: Field) -> None:
        if field.data and CONTROL_CHARACTERS.search(field.data):
            raise ValidationError(str(message))

    return check


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


@cache
def wtforms_messages(language: str) -> NullTranslations:
    """Return WTForms' own messages in a language, read from disk once (Flask-WTF reads them on every request)."""
    return Translations.load(wtforms.i18n.messages_path(), [language], domain="wtforms")


SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class OneTimeSubmission(FlaskForm):
    """A form with a one-time token drawn with the page: sent twice, it stores once (see contact_requests.create)."""

    submission = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not SUBMISSION_TOKEN.fullmatch(self.submission.data or ""):
            self.submission.data = secrets.token_urlsafe(24)


class SendUpdate(OneTimeSubmission):
    """Send changed answers to the clinic as an update of the request sent before: a button and its token."""


class ContactPage(OneTimeSubmission):
    """Ask the clinic to contact me: who, how, when, and explicit consent."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)  # type: ignore[misc]
            return wtforms_messages(language())

    name = StringField(
        lazy_gettext("Your name"),
        validators=[
            DataRequired(lazy_gettext("Enter your name.")),
            Length(max=200, message=lazy_gettext("Enter a shorter name.")),
            no_control_characters(
                lazy_gettext("Use only letters, numbers, spaces and marks like - or ' in your name.")
            ),
        ],
        filters=[_strip],
    )
    phone = StringField(
        lazy_gettext("Phone number"),
        description=lazy_gettext("We may call or text you. For example, %(example)s.", example=PHONE_EXAMPLE),
        validators=[
            Length(max=40, message=lazy_gettext("Enter a phone number, like %(example)s.", example=PHONE_EXAMPLE))
        ],
        filters=[_strip],
    )
    email = StringField(
        lazy_gettext("Email address"),
        validators=[Length(max=320, message=lazy_gettext("Enter an email address, like name@example.com."))],
        filters=[_strip],
    )
    preferred_time = RadioField(
        lazy_gettext("When is the best time to contact you?"),
        choices=[SelectChoice(value, label) for value, label in CONTACT_TIMES.items()],
        validators=[InputRequired(lazy_gettext("Select when we should contact you."))],
    )
    consent = BooleanField(validators=[DataRequired(lazy_gettext("Check the box to agree, or we cannot contact you."))])

    def validate_phone(self, field: StringField) -> None:
        if not field.data:
            if not self.email.data:
                raise ValidationError(gettext("Enter a phone number or an email address, so we can reach you."))
            return
        try:
            number = phonenumbers.parse(field.data, current_app.config["PHONE_REGION"])
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(gettext("Enter a phone number, like %(example)s.", example=PHONE_EXAMPLE)) from exc
        if phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
            raise ValidationError(gettext("Include the area code, like %(example)s.", example=PHONE_EXAMPLE))
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(gettext("Enter a phone number, like %(example)s.", example=PHONE_EXAMPLE))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def validate_email(self, field: StringField) -> None:
        if not field.data:
            return
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(gettext("Enter an email address, like name@example.com.")) from exc

    @property
    def question_fields(self) -> list[Field]:
        return [self.name, self.phone, self.email, self.preferred_time, self.consent]

    def contact(self) -> Contact:
        return Contact(self.name.data, self.phone.data or None, self.email.data or None, self.preferred_time.data)


@dataclass(frozen=True)
class Page:
    """One page of questions: where it is, its title, and its form, whose fields are the answer ids it asks."""

    slug: str
    title: LazyString
    form: type[QuestionPage]
    caller_title: str  # the title during a phone intake (English, as the staff pages)

    @cached_property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(name for name in self.field_names if name in BY_ID)

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        """Return the names of the page's fields: its answer ids and any "None of these" box."""
        return tuple(name for name, value in vars(self.form).items() if isinstance(value, UnboundField))

    def shown(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Return the starting values of this page's fields, and nothing else, from the stored answers."""
        values = self.form.initial(answers)
        return {name: values[name] for name in self.field_names if name in values}


# Which questions are on which page, in the order they are asked: the questionnaire's own order, split in five.
PAGES = (
    Page("about-you", lazy_gettext("About you"), AboutYouPage, "About the caller"),
    Page("warning-signs", lazy_gettext("Warning signs"), SafetyPage, "The caller's warning signs"),
    Page("neck", lazy_gettext("Your neck and your headache"), NeckPage, "The caller's neck and headache"),
    Page("headaches", lazy_gettext("How often and how bad"), HeadachePage, "How often and how bad"),
    Page("treatment", lazy_gettext("What you have tried"), TreatmentPage, "What the caller has tried"),
)
PAGE_BY_SLUG = {page.slug: page for page in PAGES}
PAGE_BY_ANSWER = {answer_id: page for page in PAGES for answer_id in page.answer_ids}
