"""The question pages: one form per page, each field built from its question."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, RadioField, SelectChoice, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from symptomcheck.questions import BY_ID, Question

NONE_OF_THESE = "None of these"
BOTH_TICKED = "You ticked a sign and 'None of these'. Tick only the signs you have, or only 'None of these'."


class SingleChoice(RadioField):
    """Radio buttons for a single-choice question."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            question.label,
            choices=[SelectChoice(choice.value, choice.label) for choice in question.choices],
            validators=[InputRequired(question.error)],
            description=question.hint,
            **kwargs,
        )
        self.question = question

    def pre_validate(self, form: Any) -> None:
        if self.data not in self.question.values:
            raise ValidationError(self.question.error)


class MultiChoice(SelectMultipleField):
    """Checkboxes for a multi-choice question; ticking none gives an empty list."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            question.label,
            choices=[SelectChoice(choice.value, choice.label) for choice in question.choices],
            description=question.hint,
            **kwargs,
        )
        self.question = question

    def pre_validate(self, form: Any) -> None:
        if any(value not in self.question.values for value in self.data or ()):
            raise ValidationError(self.question.error)
        self.data = list(dict.fromkeys(self.data or ()))


class WholeNumber(IntegerField):
    """A text box for a whole number, refusing anything else with the question's message."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(
            question.label,
            validators=[InputRequired(question.error), NumberRange(question.minimum, question.maximum, question.error)],
            description=question.hint,
            **kwargs,
        )
        self.question = question

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata([value.strip() for value in valuelist[:1]])
        except ValueError as exc:
            raise ValueError(self.question.error) from exc


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
    no_red_flags = BooleanField(NONE_OF_THESE)
    none_options = {"red_flags": "no_red_flags"}

    @classmethod
    def initial(cls, answers: Mapping[str, Any]) -> dict[str, Any]:
        return {**answers, "no_red_flags": answers.get("red_flags") == []}

    def validate_red_flags(self, field: MultiChoice) -> None:
        if field.data and self.no_red_flags.data:
            raise ValidationError(BOTH_TICKED)
        if not field.data and not self.no_red_flags.data:
            raise ValidationError(field.question.error)


class NeckPage(QuestionPage):
    neck_origin = SingleChoice(BY_ID["neck_origin"])
    headache_side = SingleChoice(BY_ID["headache_side"])
    movement_trigger = SingleChoice(BY_ID["movement_trigger"])
    posture_trigger = SingleChoice(BY_ID["posture_trigger"])
    neck_pressure_trigger = SingleChoice(BY_ID["neck_pressure_trigger"])
    neck_stiffness = SingleChoice(BY_ID["neck_stiffness"])
    radiation = MultiChoice(BY_ID["radiation"])


class HeadachePage(QuestionPage):
    duration = SingleChoice(BY_ID["duration"])
    headache_days = WholeNumber(BY_ID["headache_days"])
    pain_intensity = WholeNumber(BY_ID["pain_intensity"])
    migraine_features = MultiChoice(BY_ID["migraine_features"])
    impact = MultiChoice(BY_ID["impact"])
    neck_injury_history = SingleChoice(BY_ID["neck_injury_history"])


class TreatmentPage(QuestionPage):
    treatments_tried = MultiChoice(BY_ID["treatments_tried"])
    treatment_result = SingleChoice(BY_ID["treatment_result"])
    pain_relief_days = WholeNumber(BY_ID["pain_relief_days"])
