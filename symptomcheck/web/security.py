"""Response headers, rate limits and proxy handling for a public site that handles health data."""

from __future__ import annotations

import logging
import time
from typing import Any

import flask_limiter
from flask import Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from symptomcheck.web import sessions

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
    """Flask-Limiter, doing no work on a request whose method no limit names (every GET, here)."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if self.applies_to(request.method):
            super()._check_request_limit(callable_name, in_middleware)

    def applies_to(self, method: str) -> bool:
        """Say whether any limit could count a request with this method, read afresh from the limits declared."""
        manager = self.limit_manager
        if self._meta_limits or self._in_memory_fallback or manager._application_limits or manager._default_limits:
            return True
        declared = (*manager._decorated_limits.values(), *manager._blueprint_limits.values())
        return any(limit.methods is None or method.lower() in limit.methods for limits in declared for limit in limits)


class SecureHeaders(Talisman):
    """Flask-Talisman, with each view's headers worked out once rather than on every response."""

    def init_app(self, app: Flask, **options: Any) -> None:
        super().init_app(app, **options)
        app.extensions["security_headers"] = {}  # (endpoint, over HTTPS) -> the headers Talisman gives

    def _set_response_headers(self, response: Response) -> Response:
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


limiter = Limiter(get_remote_address)
talisman = SecureHeaders()

# Rate limits, per client address: generous for a person, tight for a script.
ANSWER_PAGES = "60 per minute"
ASSESSMENTS = "60 per minute"
CONTACT_REQUESTS = "10 per hour"
STAFF_LOGINS = "20 per minute"


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies, send the security headers, and limit request rates."""
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.session_interface = sessions.EncryptedSessions()
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
    # Fail open: with the shared store (Redis) unreachable, each worker counts in its own memory, says so in one
    # log line, and checks the store again now and then. A limit never stops a patient because a store is down.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    limiter._storage_dead = False  # one Limiter serves every app made in a process (the tests): start afresh
    limiter.logger.addFilter(without_stack)


def without_stack(record: logging.LogRecord) -> bool:
    """Keep a limiter error to its one line: the stack of a refused connection says nothing more."""
    record.exc_info = None
    record.exc_text = None
    return True


def stored_a_request(response: Response) -> bool:
    """Say whether this request stored a contact request: only those count against the contact limit."""
    return bool(g.get("stored_a_request"))


def wait_minutes() -> int:
    """Return how many whole minutes until the limit that refused this request lets it through again."""
    breached = limiter.current_limit
    if breached is None:
        return 1
    try:
        seconds = breached.reset_at - time.time()
    except Exception:  # the store may be down: then a minute is the honest guess
        return 1
    return max(1, round(seconds / 60))
