"""Forms both sets of pages use."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField
from wtforms.validators import DataRequired, Length


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token and nothing else."""


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class EmergencyCall(FlaskForm):
    """Record an emergency phone call: staff confirm they told the caller to call the emergency number."""

    caller_name = StringField(
        "The caller's name (optional)",
        validators=[Length(max=200, message="Enter a shorter name.")],
        filters=[_strip],
    )
    told = BooleanField(validators=[DataRequired("Select this box once you have told the caller to call now.")])

    @property
    def question_fields(self) -> list[Field]:
        return [self.caller_name, self.told]
