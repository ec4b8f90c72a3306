"""Response headers, rate limits and proxy handling for a public site that handles health data."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

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

limiter = Limiter(get_remote_address)
talisman = Talisman()

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
