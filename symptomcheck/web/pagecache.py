"""Rendered pages kept in memory, keyed on everything their text depends on, with the CSRF token left out.

A page is rendered once per key (language, page, the answers it shows, the
phone-intake flag, the rule set, ...) and served again with this request's
CSRF token put back in. The caller names every input of the page in the key:
two people with the same key get the same page, so no one's page can hold
another person's data. The cache is bounded (least recently used pages go
first), lives only in the worker's memory, one per app, and is not used at all while
templates reload (debug or TEMPLATES_AUTO_RELOAD), so an edited template is
never served stale, nor for a page that has a one-time (flashed) message to show.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock

from flask import current_app, g, session

from symptomcheck.web.forms import csrf_token

PLACEHOLDER = "\x00csrf\x00"  # never in a page: no template, text or answer value holds a NUL
PAGES_KEPT = 256  # about 15 KB each: 4 MB at most per worker


class PageCache:
    def __init__(self, size: int = PAGES_KEPT) -> None:
        self.size = size
        self.pages: OrderedDict[Hashable, str] = OrderedDict()
        self.lock = Lock()

    def page(self, key: Hashable, render: Callable[[], str]) -> str:
        """Return the page for KEY, rendering it with RENDER the first time; with this request's CSRF token."""
        if current_app.jinja_env.auto_reload or "_flashes" in session:
            return render()  # a message shown once (flash) belongs to this page view alone
        with self.lock:
            kept = self.pages.get(key)
            if kept is not None:
                self.pages.move_to_end(key)
        if kept is not None:
            return kept.replace(PLACEHOLDER, csrf_token()) if PLACEHOLDER in kept else kept
        text = render()
        token = g.get("csrf_token")  # set when the page carries a form, and only then
        kept = text.replace(token, PLACEHOLDER) if token else text
        with self.lock:
            self.pages[key] = kept
            if len(self.pages) > self.size:
                self.pages.popitem(last=False)
        return text

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


def shown_page(key: Hashable, render: Callable[[], str]) -> str:
    """Return the page for KEY from this app's cache (an app's settings, such as the clinic's name, are in it)."""
    cache: PageCache | None = current_app.extensions.get("page_cache")
    if cache is None:
        cache = current_app.extensions["page_cache"] = PageCache()
    return cache.page(key, render)


def frozen(value: object) -> Hashable:
    """Return a hashable copy of answers: lists become tuples, mappings sorted tuples of pairs."""
    if isinstance(value, dict):
        return tuple(sorted((key, frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value  # type: ignore[return-value]
