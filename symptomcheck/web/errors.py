"""Error responses: plain pages for people, JSON for the API; never a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.wrappers import Response

from symptomcheck.records.models import db
from symptomcheck.web import security


def register(app: Flask) -> None:
    """Answer every error with a plain page, or with JSON under /api/."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str | Response, int, list[tuple[str, str]]]:
        code = error.code or 500
        # Keep what the error says about itself (Allow on a 405, Retry-After on a 429), not its body type.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        if request.path.startswith("/api/"):
            return jsonify(error=error.name, message=error.description), code, headers
        wait = security.wait_minutes() if code == 429 else None
        return render_template("error.html", code=code, wait_minutes=wait), code, headers

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError) -> tuple[str | Response, int, list[tuple[str, str]]]:
        db.session.rollback()
        app.logger.error("Database error %s on %s %s", type(error).__name__, request.method, request.path)
        return http_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str | Response, int, list[tuple[str, str]]]:
        # The stack, but not the message: a message may quote a person's answers.
        stack = "".join(traceback.format_tb(error.__traceback__))
        app.logger.error("Unexpected %s on %s %s:\n%s", type(error).__name__, request.method, request.path, stack)
        return http_error(InternalServerError())
