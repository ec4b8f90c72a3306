"""The front desk's forms: log in, accounts, passwords, status, notes, assignment, calls, verdicts, merges."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp


class LoginPage(FlaskForm):
    username = StringField("Username", validators=[InputRequired("Enter your username.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])

    @property
    def question_fields(self) -> list[Field]:
        return [self.username, self.password]


class OptionalRadioField(RadioField):
    """Radios that may be left blank; a value given must still be one of the choices."""

    def pre_validate(self, form: Any) -> None:
        if self.data:
            super().pre_validate(form)


class CodePage(FlaskForm):
    code = StringField(
        "Code",
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        validators=[InputRequired("Enter the code from your authenticator app."), Length(max=40)],
    )

    @property
    def question_fields(self) -> list[Field]:
        return [self.code]


class EnrolCode(CodePage):
    code = StringField(
        "Code",
        description="The 6-digit code your authenticator app shows for symptomcheck.",
        validators=[InputRequired("Enter the code from your authenticator app."), Length(max=40)],
    )


class ChangePassword(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password.")])
    new_password = PasswordField(
        "New password",
        description="At least 12 characters. A few uncommon words together are easy to remember and hard to guess.",
        validators=[InputRequired("Enter a new password."), Length(max=200, message="Use 200 characters or fewer.")],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            InputRequired("Enter the new password again."),
            EqualTo("new_password", "The new passwords differ."),
        ],
    )

    @property
    def question_fields(self) -> list[Field]:
        return [self.current_password, self.new_password, self.confirm_password]


class AddAccount(FlaskForm):
    username = StringField(
        "Username",
        description="Letters, digits, dots, dashes or underscores; 3 to 80 characters.",
        validators=[
            InputRequired("Enter a username."),
            Regexp(
                r"^\s*[A-Za-z0-9._-]{3,80}\s*$", message="Use 3 to 80 letters, digits, dots, dashes or underscores."
            ),
        ],
    )
    admin = BooleanField("Admin: manages accounts and reads the audit log")
    clinician = BooleanField("Clinician: records whether a suggested level was right")

    @property
    def question_fields(self) -> list[Field]:
        return [self.username]


class StatusChange(FlaskForm):
    status = RadioField("New status", validators=[InputRequired("Select the new status.")])
    status_note = TextAreaField("Note (optional)", validators=[Length(max=4000)])
    # Needed to finish a request (booked, referred, closed); the workflow says so when they are missing.
    closing_outcome = OptionalRadioField(
        "What came of it", description="Needed when you mark it booked, referred or closed.", validators=[Optional()]
    )
    closing_note = TextAreaField(
        "About the outcome",
        description="Whom it was booked with and when, where they were sent, or what was said.",
        validators=[Length(max=4000)],
    )

    @property
    def question_fields(self) -> list[Field]:
        return [self.status, self.closing_outcome, self.closing_note, self.status_note]

    def __init__(self, outcomes: dict[str, str]) -> None:
        super().__init__()
        self.closing_outcome.choices = [SelectChoice(key, label) for key, label in outcomes.items()]


class VerdictPage(FlaskForm):
    """A clinician's verdict on the suggested level, with the level they judge right when it was not."""

    verdict = RadioField("Your verdict", validators=[InputRequired("Select a verdict.")])
    verdict_level = OptionalRadioField(
        "The level you judge right",
        description="Only when it should have been more or less urgent.",
        validators=[Optional()],
    )
    verdict_note = TextAreaField(
        "Why (needed when it was not right)", validators=[Length(max=4000, message="Enter 4000 characters or fewer.")]
    )

    @property
    def question_fields(self) -> list[Field]:
        return [self.verdict, self.verdict_level, self.verdict_note]

    def __init__(self, verdicts: dict[str, str], levels: dict[str, str]) -> None:
        super().__init__()
        self.verdict.choices = [SelectChoice(key, label) for key, label in verdicts.items()]
        self.verdict_level.choices = [SelectChoice(key, label) for key, label in levels.items()]


class MergePage(FlaskForm):
    kept = HiddenField(validators=[InputRequired()])


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
