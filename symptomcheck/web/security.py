"""Response headers, rate limits and proxy handling for a public site that handles health data."""

from __future__ import annotations

import time
from typing import Any

import flask_limiter
from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from itsdangerous import URLSafeTimedSerializer
from limits.storage import MemoryStorage
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from symptomcheck.web import intake

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = dict.fromkeys(
    ("camera", "microphone", "geolocation", "payment", "usb", "interest-cohort", "browsing-topics"), "()"
)


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, doing no work on a request whose method no limit names (every GET, here), and counting once.

    Flask-Limiter checks every request twice, in an app-wide hook and in the
    route's decorator; with only routes' own limits declared, the hook is skipped.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self.has_app_wide_limits():
            return  # the app-wide hook would find nothing to count: a route's own limits are counted by its decorator
        if self.applies_to(request.method):
            super()._check_request_limit(callable_name, in_middleware)

    def has_app_wide_limits(self) -> bool:
        """Say whether any limit is declared beyond the routes' own (for the whole app, a blueprint, or a fallback)."""
        manager = self.limit_manager
        return bool(
            self._meta_limits
            or self._in_memory_fallback
            or manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
        )

    def applies_to(self, method: str) -> bool:
        """Say whether any limit could count a request with this method, read afresh from the limits declared."""
        manager = self.limit_manager
        if self.has_app_wide_limits():
            return True
        declared = manager._decorated_limits.values()
        return any(limit.methods is None or method.lower() in limit.methods for limits in declared for limit in limits)


class SteadyMemoryStorage(MemoryStorage):
    """limits' in-memory store (`memory://`), sweeping out old counts at most once a second.

    The store it replaces starts a thread 10 ms after each count to sweep, so a
    busy worker started a thread for every third request or so. Counts expire
    on reading as well, so a slower sweep changes no limit, only how soon the
    memory of old counts is given back.
    """

    STORAGE_SCHEME = ["memory"]  # registered in place of limits' own for this scheme
    SWEEP_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the name it overrides, as Python mangles it)
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class SecureHeaders(Talisman):
    """Flask-Talisman, with each view's headers worked out once rather than on every response."""

    def init_app(self, app: Flask, **options: Any) -> None:
        super().init_app(app, **options)
        app.extensions["security_headers"] = {}  # (endpoint, over HTTPS) -> the headers Talisman gives

    def _set_response_headers(self, response: Response) -> Response:
        own_policy = response.headers.get("Content-Security-Policy")  # a view's own, stricter policy (a chart)
        response = self._set_secure_headers(response)
        if own_policy:
            response.headers["Content-Security-Policy"] = own_policy
        return response

    def _set_secure_headers(self, response: Response) -> Response:
        if self.content_security_policy_nonce_in:  # a nonce differs on every response
            return super()._set_response_headers(response)  # type: ignore[no-any-return]
        # What Talisman's headers depend on: the view's own options, and whether the request came over HTTPS.
        key = (request.endpoint, request.is_secure or request.headers.get("X-Forwarded-Proto") == "https")
        by_view: dict[tuple[str | None, bool], list[tuple[str, str]]] = current_app.extensions["security_headers"]
        headers = by_view.get(key)
        if headers is None:
            worked_out = Response()
            worked_out.headers = Headers()
            super()._set_response_headers(worked_out)
            headers = by_view[key] = list(worked_out.headers.items())
        for name, value in headers:
            response.headers[name] = value
        return response


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its serializer made once per secret key, not twice per request."""

    def __init__(self) -> None:
        self.serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self.serializers:
            self.serializers[key] = super().get_signing_serializer(app)  # type: ignore[assignment]
        return self.serializers[key]


def policy_header(extra: dict[str, str]) -> str:
    """Return the site's Content-Security-Policy with some directives added, as a header value."""
    return "; ".join(f"{directive} {value}" for directive, value in (CONTENT_SECURITY_POLICY | extra).items())


limiter = Limiter(get_remote_address)
talisman = SecureHeaders()

# Rate limits, per client address: generous for a person, tight for a script.
ANSWER_PAGES = "60 per minute"
ASSESSMENTS = "60 per minute"
CONTACT_REQUESTS = "10 per hour"
STAFF_LOGINS = "20 per minute"


def staff_on_a_call() -> bool:
    """Exempt a phone intake from the patients' limits: one desk takes many calls an hour from one address."""
    return intake.running()


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies, send the security headers, and limit request rates."""
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.session_interface = SessionCookies()
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,  # sent only over HTTPS
        strict_transport_security_max_age=63072000,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="no-referrer",
        permissions_policy=PERMISSIONS_POLICY,
        frame_options="DENY",
        x_content_type_options=True,
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
