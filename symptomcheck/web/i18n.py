"""English and Spanish: which language a page is in, and which texts there are to translate.

Every text is written in English in one place (a template, a form, questions.py
or rules.yaml) and looked up in the catalog at symptomcheck/translations when a
page is made. The two extractors below let `pybabel extract` (see babel.cfg)
find the texts of the questions and of the rule file, which are data rather
than calls to gettext.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from gettext import NullTranslations
from types import SimpleNamespace
from typing import IO, Any

from babel import Locale
from flask import Flask, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, LazyString, get_translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"

babel = Babel()

Extracted = Iterator[tuple[int, str, str, list[str]]]


def N_(text: str) -> str:  # noqa: N802 (the name pybabel looks for)
    """Mark a text for the catalog (pybabel finds N_); it is translated where it is shown."""
    return text


def chosen_language() -> str:
    """Return the language picked with the switch, else the browser's best match, else English."""
    if request.blueprint in {"staff", "api", "fhir"} or session.get("intake"):
        # The front desk (a phone intake too), the API and FHIR speak English, whatever the browser prefers.
        return DEFAULT_LANGUAGE
    picked = session.get("language")
    if picked in LANGUAGES:
        return str(picked)
    return browser_language(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=256)
def browser_language(accept_language: str) -> str:
    """Return the best of our languages for a browser's Accept-Language header (a few headers cover most visitors)."""
    accepted = parse_accept_header(accept_language[:500], LanguageAccept)
    return accepted.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def language() -> str:
    """Return the language of the page being made, as a code ("en" or "es"), looked up once per request.

    Flask-Babel is handed the same choice as an already parsed Locale, so it neither chooses nor parses again.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
    namespace = g._get_current_object()  # type: ignore[attr-defined]
    found: str | None = getattr(namespace, "language", None)
    if found is None:
        found = namespace.language = chosen_language()
        babel_context = namespace.__dict__.setdefault("_flask_babel", SimpleNamespace())
        babel_context.babel_locale = LOCALES[found]
    return found


def translations() -> NullTranslations:
    """Return this request's catalog, looked up once (Flask-Babel looks it up again on every text)."""
    if not has_app_context():
        return NullTranslations()  # as Flask-Babel does: the English text
    namespace = g._get_current_object()  # type: ignore[attr-defined]  # one look-up of g, not three, per text
    found: NullTranslations | None = getattr(namespace, "translations", None)
    if found is None:
        found = namespace.translations = get_translations()
    return found


def gettext(text: str, **variables: Any) -> str:
    """Return the text in the page's language, with any %(name)s filled in."""
    translated = translations().gettext(text)
    return translated % variables if variables else translated


def lazy_gettext(text: str, **variables: Any) -> LazyString:
    """Return the text, to be put in the page's language where it is shown (Flask-Babel's, with gettext above)."""
    return LazyString(gettext, text, **variables)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the singular or plural text, as the page's language counts."""
    return translations().ngettext(singular, plural, count)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    babel.init_app(app, locale_selector=chosen_language)
    # The same lookups as Flask-Babel's, with the catalog found once per page rather than once per text.
    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    # {% trans %} blocks may wrap lines; their catalog ids are on one line (trimmed = true in babel.cfg).
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def extract_questions(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    """Yield every text of the questionnaire: labels, hints, error messages and choices."""
    from symptomcheck.rules.questions import NOTHING_TRIED_BUT_HELPED, QUESTIONS, TRIED_BUT_NOT_TRIED

    for text in (TRIED_BUT_NOT_TRIED, NOTHING_TRIED_BUT_HELPED):
        yield 0, "gettext", text, ["treatments_tried and treatment_result disagree"]
    for question in QUESTIONS:
        comment = [f"question {question.id}"]
        for text in (question.label, question.hint, question.error):
            if text:
                yield 0, "gettext", text, comment
        for choice in question.choices:
            for text in (choice.label, choice.hint):
                if text:
                    yield 0, "gettext", text, [f"question {question.id}, answer {choice.value}"]


def extract_rules(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    """Yield every patient-facing text of a rule file: level and pattern texts, reasons and notes."""
    from symptomcheck.rules import loader

    loaded = loader.parse(fileobj.read().decode("utf-8"), getattr(fileobj, "name", "rules.yaml"))
    yield 0, "gettext", loaded.reviewed_by, ["who reviewed the rules, shown on the result page"]
    for item in (*loaded.levels, *loaded.patterns):
        kind = "level" if isinstance(item, loader.Level) else "pattern"
        for text in (item.title, item.advice):
            if text:
                yield 0, "gettext", text, [f"{kind} {item.id}; keep {{emergency_number}} and {{clinic_name}}"]
    for rule in loaded.rules:
        for text in (rule.reason, rule.note):
            if text:
                yield rule.line, "gettext", text, [f"rule {rule.id}; keep {{emergency_number}} and {{clinic_name}}"]
