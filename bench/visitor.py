"""A person's browser, reduced to HTTP: cookies, CSRF tokens and form posts against a running server.

Behind a proxy (`behind_proxy=True`, for an app run with SYMPTOMCHECK_PROXY_HOPS=1) each visitor
sends what the clinic's reverse proxy would add: its own client address in X-Forwarded-For,
`X-Forwarded-Proto: https`, and the Referer a browser sends over HTTPS (Flask-WTF checks it).
"""

from __future__ import annotations

import http.cookiejar
import itertools
import random
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from typing import Any

from examples import COMPLETE, page_posts

CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SUBMISSION_TOKEN = re.compile(r'name="submission" type="hidden" value="([^"]+)"')
REFERENCE = re.compile(r'class="reference">([A-Z0-9]{4}-[A-Z0-9]{4})<')

# One complete set of answers that leads to a routine booking, page by page.
PAGES = page_posts(COMPLETE)
CONTACT = {"name": "Load Test", "phone": "202 555 0143", "email": "", "preferred_time": "any", "consent": "y"}


# Client addresses from the documentation range, unique within a run and, with the random
# prefix, across runs: the rate limits (kept in Redis for an hour) never see an address twice.
RUN_PREFIX = random.randrange(0x10000)  # noqa: S311 (not a secret)
_visitors = itertools.count()


def fresh_address() -> str:
    """Return a client address no visitor of this run has used."""
    number = next(_visitors)
    return f"2001:db8:{RUN_PREFIX:x}:ffff::{number >> 16:x}:{number & 0xFFFF:x}"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand back a redirect as it is, so the caller sees the 302 a form post answers with."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Visitor:
    """One browser: keeps its cookies, reads CSRF tokens and posts forms like the pages do."""

    def __init__(self, base_url: str, behind_proxy: bool = False) -> None:
        self.base_url = base_url
        self.behind_proxy = behind_proxy
        self.address = fresh_address() if behind_proxy else ""
        # Behind the proxy the session cookie is Secure; the proxy speaks plain HTTP to the app.
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http")) if behind_proxy else None
        self.cookies = http.cookiejar.CookieJar(policy)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects())

    def open(self, path: str, form: Mapping[str, Any] | None = None) -> tuple[int, str, str]:
        """GET the path, or POST the form to it; return the status, the Location and the page text."""
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=self.headers(path))  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("Location", ""), error.read().decode()

    def headers(self, path: str) -> dict[str, str]:
        """Return the headers the proxy and the browser add to a request for the path."""
        if not self.behind_proxy:
            return {}
        host = urllib.parse.urlsplit(self.base_url).netloc
        return {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https", "Referer": f"https://{host}{path}"}

    def wire_bytes(self, path: str) -> int:
        """GET the path; return the bytes of its status line, headers and body as sent."""
        request = urllib.request.Request(self.base_url + path, headers=self.headers(path))  # noqa: S310
        with self.opener.open(request, timeout=30) as response:
            head = f"HTTP/1.1 {response.status} {response.reason}\r\n{response.headers.as_string()}"
            return len(head.replace("\n", "\r\n").encode()) + len(response.read())

    def token(self, path: str) -> str:
        """Read the CSRF token from a form page."""
        status, _, page = self.open(path)
        found = CSRF_TOKEN.search(page)
        if status != 200 or not found:
            raise AssertionError(f"GET {path} gave {status} and no CSRF token")
        return found.group(1)

    def post_form(self, path: str, form: Mapping[str, Any]) -> tuple[int, str, str]:
        """Post a form with the token the page gave; return the status, Location and text."""
        return self.open(path, {**form, "csrf_token": self.token(path)})

    def answer_everything(self) -> None:
        """Answer every page, ending at Check your answers."""
        for slug, answers in PAGES:
            status, location, _ = self.post_form(f"/questions/{slug}", answers)
            if status != 302:
                raise AssertionError(f"answering {slug} gave {status}, not a redirect")
        if not location.endswith("/check-answers"):
            raise AssertionError(f"after the last page the check went to {location}, not Check your answers")

    def contact_form(self) -> dict[str, Any]:
        """Return the contact request form, filled in, with this session's CSRF token and the form's one-time token."""
        status, _, page = self.open("/contact")
        if status != 200:
            raise AssertionError(f"GET /contact gave {status}")
        return self.contact_form_from(page)

    @staticmethod
    def contact_form_from(page: str) -> dict[str, Any]:
        """Return the contact form of a page, filled in, with its CSRF and one-time tokens."""
        csrf, submission = CSRF_TOKEN.search(page), SUBMISSION_TOKEN.search(page)
        if not csrf or not submission:
            raise AssertionError("the contact page has no form tokens")
        return {**CONTACT, "csrf_token": csrf.group(1), "submission": submission.group(1)}

    @staticmethod
    def reference_in(page: str) -> str:
        """Read the reference the "sent" page shows."""
        found = REFERENCE.search(page)
        if not found:
            raise AssertionError("the sent page shows no reference")
        return found.group(1)


def send_contact_requests(base_url: str, count: int, behind_proxy: bool = False) -> Counter[int]:
    """Answer every page once, then send `count` contact requests, each from a fresh form; count the statuses.

    A 302 to "sent" counts as 302; a 302 anywhere else counts as -1, so it cannot pass for a success.
    Behind a proxy each send comes from a fresh address, so the rate limit (10 an hour) lets it through.
    """
    visitor = Visitor(base_url, behind_proxy)
    visitor.answer_everything()
    statuses: Counter[int] = Counter()
    for _ in range(count):
        if behind_proxy:
            visitor.address = fresh_address()
        status, location, _ = visitor.open("/contact", visitor.contact_form())  # a new form: a new request
        statuses[-1 if status == 302 and not location.endswith("/contact/sent") else status] += 1
    return statuses
