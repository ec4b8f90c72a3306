"""A person's browser, reduced to HTTP: cookies, CSRF tokens and form posts against a running server."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from typing import Any

from examples import COMPLETE, page_posts

CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# One complete set of answers that leads to a routine booking, page by page.
PAGES = page_posts(COMPLETE)
CONTACT = {"name": "Load Test", "phone": "202 555 0143", "email": "", "preferred_time": "any", "consent": "y"}


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand back a redirect as it is, so the caller sees the 302 a form post answers with."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Visitor:
    """One browser: keeps its cookies, reads CSRF tokens and posts forms like the pages do."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects())

    def open(self, path: str, form: Mapping[str, Any] | None = None) -> tuple[int, str, str]:
        """GET the path, or POST the form to it; return the status, the Location and the page text."""
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path, data=data)  # noqa: S310 (our own server)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("Location", ""), error.read().decode()

    def wire_bytes(self, path: str) -> int:
        """GET the path; return the bytes of its status line, headers and body as sent."""
        with self.opener.open(self.base_url + path, timeout=30) as response:
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
        """Return the contact request form, filled in, with this session's CSRF token."""
        return {**CONTACT, "csrf_token": self.token("/contact")}


def send_contact_requests(base_url: str, count: int) -> Counter[int]:
    """Answer every page once, then send the contact request `count` times; count the statuses.

    A 302 to "sent" counts as 302; a 302 anywhere else counts as -1, so it cannot pass for a success.
    """
    visitor = Visitor(base_url)
    visitor.answer_everything()
    form = visitor.contact_form()
    statuses: Counter[int] = Counter()
    for _ in range(count):
        status, location, _ = visitor.open("/contact", form)
        statuses[-1 if status == 302 and not location.endswith("/contact/sent") else status] += 1
    return statuses
