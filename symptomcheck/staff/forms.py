"""The front desk's forms: log in, change a request's status, add a note, assign a request, record a call."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length


class LoginPage(FlaskForm):
    username = StringField("Username", validators=[InputRequired("Enter your username.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])

    @property
    def question_fields(self) -> list[Field]:
        return [self.username, self.password]


class StatusChange(FlaskForm):
    status = RadioField("New status", validators=[InputRequired("Select the new status.")])
    status_note = TextAreaField("Note (optional)", validators=[Length(max=4000)])


class NotePage(FlaskForm):
    note = TextAreaField("Add a note", validators=[InputRequired("Enter a note."), Length(max=4000)])


class AssignPage(FlaskForm):
    assignee = RadioField("Who will call", validators=[InputRequired("Select who will call.")])


class AttemptPage(FlaskForm):
    outcome = RadioField("What happened", validators=[InputRequired("Select what happened on the call.")])
    attempt_note = TextAreaField("Note about the call (optional)", validators=[Length(max=4000)])

    def __init__(self, outcomes: dict[str, str]) -> None:
        super().__init__()
        self.outcome.choices = [SelectChoice(key, label) for key, label in outcomes.items()]
