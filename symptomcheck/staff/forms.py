"""The front desk's forms: log in, accounts and passwords, a request's status, notes, assignment, calls."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, PasswordField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp


class LoginPage(FlaskForm):
    username = StringField("Username", validators=[InputRequired("Enter your username.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])

    @property
    def question_fields(self) -> list[Field]:
        return [self.username, self.password]


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
