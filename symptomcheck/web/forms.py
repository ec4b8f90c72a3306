"""Forms both sets of pages use."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token and nothing else."""
