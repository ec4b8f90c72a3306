"""Error responses: plain pages for people, JSON for the API; never a stack trace."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.wrappers import Response

from symptomcheck.records.models import db
from symptomcheck.web import security


def http_error(error: HTTPException) -> tuple[str | Response, int, list[tuple[str, str]]]:
    """Answer an HTTP error with the plain page, or with JSON under /api/."""
    code = error.code or 500
    # Keep what the error says about itself (Allow on a 405, Retry-After on a 429), not its body type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if request.path.startswith("/api/"):
        return jsonify(error=error.name, message=error.description), code, headers
    wait = security.wait_minutes() if code == 429 else None
    return render_template("error.html", code=code, wait_minutes=wait), code, headers


def database_error(error: SQLAlchemyError) -> tuple[str | Response, int, list[tuple[str, str]]]:
    """Roll back, log the kind of error in one line (never its message), and answer 503."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()
    current_app.logger.error("Database error %s on %s %s", type(error).__name__, request.method, request.path)
    return http_error(ServiceUnavailable())


class ErrorPageOnEscape:
    """Answer with the branded error page, headers and all, when an error escapes Flask after the view.

    A fault while the request is torn down (the database session closed on a dead connection, say) escapes
    Flask's error handlers; gunicorn would answer with its own bare 500. The view's response is held until
    Flask has finished, and replaced by the error page when something went wrong after it.
    """

    def __init__(self, app: Flask, wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]

            def write(data: bytes) -> None:
                raise RuntimeError("write() is not supported; return the body")

            return write

        try:
            body = self.wsgi_app(environ, hold)
        except Exception as exc:  # anything that escaped Flask: the person gets the error page
            logging.getLogger("symptomcheck").error(
                "Error after the response was made (%s) on %s %s", type(exc).__name__,
                environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
            )  # fmt: skip
            body = self.error_page(environ, hold)
        start_response(*started)
        return body

    def error_page(self, environ: dict[str, Any], hold: Any) -> Iterable[bytes]:
        """Make the 500 page in a request context of its own, whose own teardown may fail too."""
        context = self.app.request_context(environ)
        context.push()
        try:
            response = self.app.make_response(http_error(InternalServerError()))
            response = self.app.process_response(response)
        except Exception:  # even the page failed: a plain one, with the headers that matter
            response = Response(FALLBACK_PAGE, 500, FALLBACK_HEADERS, mimetype="text/html")
        finally:
            with contextlib.suppress(Exception):  # the same fault again; the page is made
                context.pop()
        return response(environ, hold)  # type: ignore[no-any-return]


FALLBACK_HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
FALLBACK_PAGE = (
    '<!doctype html><html lang="en"><title>Sorry, something went wrong</title>'
    "<h1>Sorry, something went wrong</h1><p>Please try again in a few minutes.</p></html>"
)


def register(app: Flask) -> None:
    """Answer every error with a plain page, or with JSON under /api/."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(SQLAlchemyError, database_error)
    app.wsgi_app = ErrorPageOnEscape(app, app.wsgi_app)  # type: ignore[method-assign]

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str | Response, int, list[tuple[str, str]]]:
        # The stack, but not the message: a message may quote a person's answers.
        stack = "".join(traceback.format_tb(error.__traceback__))
        app.logger.error("Unexpected %s on %s %s:\n%s", type(error).__name__, request.method, request.path, stack)
        return http_error(InternalServerError())
