"""Response headers, rate limits and proxy handling for a public site that handles health data."""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import flask_limiter
from flask import Flask, current_app, g, request
from flask.globals import request_ctx
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from limits.storage import MemoryStorage
from werkzeug.datastructures import Headers
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wrappers import Response

from symptomcheck.web import intake, sessions

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

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Flask-Limiter's after-request hook (rate-limit headers, deductions) runs on every response; put it behind
        # a check that some limit was counted on this request (none is, on a GET), as the teardown below is.
        hooks = app.after_request_funcs.setdefault(None, [])
        hooks[:] = [self.headers_if_counted if self.is_headers_hook(hook) else hook for hook in hooks]

    @staticmethod
    def is_headers_hook(hook: Any) -> bool:
        return isinstance(hook, partial) and hook.func is flask_limiter.Limiter._Limiter__inject_headers  # type: ignore[attr-defined]

    def headers_if_counted(self, response: Response) -> Response:
        """Add the rate-limit headers and make the conditional deductions, when a limit was looked at."""
        if not hasattr(request_ctx, "_limiter_request_context"):
            return response
        return flask_limiter.Limiter._Limiter__inject_headers(self, response)  # type: ignore[attr-defined,no-any-return]

    def _Limiter__release_context(self, error: BaseException | None = None) -> None:  # noqa: N802 (as Python mangles it)
        if hasattr(request_ctx, "_limiter_request_context"):
            super()._Limiter__release_context(error)  # type: ignore[misc]

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

    def _force_https(self) -> Response | None:
        """Redirect plain HTTP to HTTPS (Talisman's own check), skipped for a request that came over HTTPS."""
        if request.is_secure:  # behind the proxy too: ProxyFix has set the scheme from X-Forwarded-Proto
            return None
        return super()._force_https()  # type: ignore[no-any-return]

    def _make_nonce(self) -> None:
        if self.content_security_policy_nonce_in:  # the site's policy uses no nonce: nothing to make
            super()._make_nonce()

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
        by_view: dict[tuple[str | None, bool], tuple[list[tuple[str, str]], frozenset[str]]]
        by_view = current_app.extensions["security_headers"]
        found = by_view.get(key)
        if found is None:
            worked_out = Response()
            worked_out.headers = Headers()
            super()._set_response_headers(worked_out)
            headers = list(worked_out.headers.items())
            found = by_view[key] = (headers, frozenset(name.lower() for name, _ in headers))
        headers, names = found
        if any(name.lower() in names for name in response.headers.keys()):  # noqa: SIM118 (Headers iterates pairs)
            for name, value in headers:  # a view set one of them: replace it, as Talisman does
                response.headers[name] = value
        else:
            response.headers.extend(headers)
        return response


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


class TrustedHostsOnly:
    """Answer 400 to a request for a host not trusted, before Flask builds any URL from it."""

    PAGE = (
        b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unknown address</title></head>'
        b"<body><h1>Unknown address</h1><p>This site does not answer to that address.</p></body></html>"
    )
    HEADERS = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    def __init__(self, wsgi_app: Any, hosts: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.hosts = hosts

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not is_trusted(host, self.hosts):
            start_response("400 Bad Request", [*self.HEADERS, ("Content-Length", str(len(self.PAGE)))])
            return [self.PAGE]
        return self.wsgi_app(environ, start_response)


def is_trusted(host: str, hosts: list[str]) -> bool:
    """Say whether a Host header names a trusted host: Werkzeug's check, and an IPv6 address in brackets too.

    Werkzeug cuts a trusted name at its first ':', so it can never match "::1"; "[::1]:5000" is matched here.
    """
    if host.startswith("["):
        address, closed, port = host[1:].partition("]")
        well_formed = bool(closed) and (not port or (port[0] == ":" and port[1:].isdigit()))
        return well_formed and address.lower() in (name.lower() for name in hosts)
    return host_is_trusted(host, hosts)


# The patient forms answer such a character with the field's own message, keeping what was typed.
FORMS_THAT_CHECK_EVERY_FIELD = {"check.contact", "check.question"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def refuse_nul_bytes() -> None:
    """Answer 422, naming the field, when a NUL byte is sent anywhere (the database refuses one, so refuse it first)."""
    if "\x00" in request.path:
        raise UnprocessableEntity("The address holds a character that cannot be used.")
    if request.endpoint in FORMS_THAT_CHECK_EVERY_FIELD:
        return
    sent = [request.args] if request.query_string else []
    if request.mimetype in FORM_TYPES:  # a JSON body is read by its own view, whose checks refuse such a value
        sent.append(request.form)
    for where in sent:
        for name, value in where.items(multi=True):
            if "\x00" in name or "\x00" in value:
                field = name.replace("\x00", "")[:40]
                raise UnprocessableEntity(f"The field {field!r} holds a character that cannot be used.")


def trusted_hosts(configured: Any, public_url: str) -> list[str]:
    """Return the host names a request may name: those configured, else PUBLIC_URL's and the loopback names."""
    if configured:
        names = configured.split(",") if isinstance(configured, str) else list(configured)
        return [name.strip() for name in names if name.strip()]
    public = urlsplit(public_url).hostname
    return [*([public] if public else []), "localhost", "127.0.0.1", "::1"]


def init_app(app: Flask) -> None:
    """Trust the configured number of proxies, send the security headers, and limit request rates."""
    # A Host (or X-Forwarded-Host) not listed gets 400 before Flask sees it, so no page, redirect or link reflects
    # another. Flask's own check of the same list is left off: it ran again on every read of request.host.
    hosts = app.extensions["trusted_hosts"] = trusted_hosts(app.config.get("TRUSTED_HOSTS"), app.config["PUBLIC_URL"])
    app.config["TRUSTED_HOSTS"] = None
    app.wsgi_app = TrustedHostsOnly(app.wsgi_app, hosts)  # type: ignore[method-assign]
    hops = int(app.config["PROXY_HOPS"])
    if hops:  # outside the host check, so a forwarded host is checked too
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
    app.before_request(refuse_nul_bytes)
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
