"""symptomcheck: a self-check for headaches that may come from the neck."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app; refuse to start with a rule file that has any problem."""
    # Imported here, not at the top: `import symptomcheck.rules` must load no web framework.
    from flask_login import current_user

    from symptomcheck import commands
    from symptomcheck.patient import api
    from symptomcheck.patient import views as patient_views
    from symptomcheck.patient.forms import PAGES
    from symptomcheck.records import desk, storage, usage
    from symptomcheck.rules import loader
    from symptomcheck.rules.problems import RuleFileError
    from symptomcheck.staff import views as staff_views
    from symptomcheck.web import errors, i18n, logs, security
    from symptomcheck.web.application import App

    app = App(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_mapping(
        SECRET_KEY=None,
        CLINIC_NAME="Resolution Spine & Joint",
        CLINIC_PHONE="",
        # The clinic's own words about itself on the teaching page ("why choose us"), in English and Spanish.
        CLINIC_ABOUT="",
        CLINIC_ABOUT_ES="",
        EMERGENCY_NUMBER="911",
        RULES_FILE=str(loader.PUBLISHED_RULES_FILE),  # SYMPTOMCHECK_RULES_FILE overrides it
        # The SHA-256 on the release note the clinician signed; the FHIR Questionnaire is `draft` until it matches.
        RULES_SIGNED_SHA256="",
        # A patient may leave a page open for hours: the CSRF token lives as
        # long as the browser session instead of expiring after an hour.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The session cookie is encrypted (web/sessions.py); the server refuses it after this long unused, or in all.
        SESSION_IDLE_MINUTES=120,
        SESSION_MAX_HOURS=12,
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        AUTO_MIGRATE=None,  # None: migrate an SQLite file at start, leave other databases to `flask db upgrade`
        RETENTION_DAYS=90,  # finished contact requests are deleted this long after they close
        OPEN_RETENTION_DAYS=365,  # requests never moved past new or contacted: this long after their last change
        RETENTION_WARNING_DAYS=30,  # staff are warned on the request page this long before such a deletion
        PHONE_REGION="US",  # how to read a phone number given without a country code
        STAFF_IDLE_MINUTES=30,  # a staff login ends this long after its last request
        STAFF_SESSION_HOURS=12,  # and this long after it began, however busy
        STAFF_TWO_FACTOR=True,  # a code from an authenticator app after the password; false only for a demo or a test
        DESK_HOURS=None,  # opening hours, time zone and response targets; see records/desk.py for the defaults
        # Alerts to the desk by email (nothing is sent until the server and the desk's address are set).
        MAIL_SERVER="",  # host:port
        MAIL_FROM="symptomcheck@localhost",
        DESK_EMAIL="",  # one or more addresses, comma-separated
        MAIL_TLS=False,  # STARTTLS before logging in
        MAIL_USERNAME="",
        MAIL_PASSWORD="",
        ALERT_LEVELS="urgent,soon",  # a new request at these levels is emailed to the desk
        PUBLIC_URL="http://127.0.0.1:5000",  # the canonical address: alert links, the FHIR Questionnaire's url
        TRUSTED_HOSTS=None,  # host names a request may give (comma-separated); default PUBLIC_URL's and loopback
        MAX_CONTENT_LENGTH=64 * 1024,  # a full set of answers is under 2 KB
        SESSION_COOKIE_SECURE=False,  # set True behind HTTPS
        FORCE_HTTPS=False,  # redirect http to https (behind a proxy, with PROXY_HOPS)
        PROXY_HOPS=0,  # how many reverse proxies set X-Forwarded-For/-Proto/-Host
        RATELIMIT_STORAGE_URI="memory://",  # redis://127.0.0.1:6379 to share limits across workers
        RATELIMIT_ENABLED=True,  # stated, not left to the limiter: it keeps the last app's setting
        COUNT_USAGE=True,  # daily counters of checks started, pages sent, results (records/usage.py); false: none
        USAGE_FLUSH_SECONDS=10,  # each worker writes its counts at most this often (and when it exits)
        DEMO_DATABASE=False,  # true only on a demo database: `flask demo seed` fills it with made-up history
    )
    app.config.from_prefixed_env("SYMPTOMCHECK")
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        # Fine on one laptop; a real deployment sets SYMPTOMCHECK_SECRET_KEY.
        log.warning("SYMPTOMCHECK_SECRET_KEY is not set; using a random key, so answers are lost on restart.")
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    try:
        app.extensions["symptomcheck_rules"] = loader.load(app.config["RULES_FILE"])
    except RuleFileError as exc:
        raise SystemExit(f"symptomcheck cannot start: the rule file has problems.\n{exc}") from exc

    try:
        app.extensions["desk_hours"] = desk.parse_hours(app.config["DESK_HOURS"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"symptomcheck cannot start: DESK_HOURS cannot be used: {exc}") from exc

    logs.install()
    security.init_app(app)
    i18n.init_app(app)
    storage.init_app(app)
    usage.init_app(app, [(page.slug, str(page.title), page.answer_ids) for page in PAGES])
    # current_user for templates as a proxy: a patient page never uses it, so no user is loaded for one.
    staff_views.login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(patient_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.fhir_bp)
    app.register_blueprint(staff_views.bp)
    errors.register(app)
    commands.register(app)
    return app
