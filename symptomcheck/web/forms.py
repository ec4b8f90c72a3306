"""Forms both sets of pages use, and the CSRF token they carry."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import BooleanField, Field, StringField
from wtforms.validators import DataRequired, Length

# Each session's signed token, signed once per worker. The signature's timestamp does not matter:
# tokens do not expire (WTF_CSRF_TIME_LIMIT is None), so a token signed earlier is as good as a new one.
SIGNED_TOKENS: dict[tuple[object, str], str] = {}
SIGNED_TOKENS_KEPT = 4096  # about 150 bytes each


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token and nothing else."""


def csrf_token() -> str:
    """Return this session's signed CSRF token, as Flask-WTF's generate_csrf does, without signing it afresh."""
    if "csrf_token" in g or current_app.config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()  # type: ignore[no-any-return]
    raw = session.get("csrf_token")
    key = (current_app.secret_key, raw)
    signed = SIGNED_TOKENS.get(key) if isinstance(raw, str) else None
    if signed is None:
        signed = generate_csrf()
        if len(SIGNED_TOKENS) >= SIGNED_TOKENS_KEPT:
            SIGNED_TOKENS.clear()
        SIGNED_TOKENS[(current_app.secret_key, session["csrf_token"])] = signed
    g.csrf_token = signed  # where generate_csrf looks first: the page's forms get this one
    return signed


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
