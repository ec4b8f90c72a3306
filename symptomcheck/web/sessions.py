"""Encrypted, server-bounded session cookies: the answers cannot be read without the server's key.

The cookie holds the session encrypted with AES-GCM under a key derived from
SECRET_KEY by HKDF, with a random session id, when the session started and
when it was last used. The server refuses a cookie idle longer than
SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS, and one whose id was
ended ("Start again", or any `session.clear()`, such as a staff login or
logout): ended ids are kept in the database, without anything else, until
the session would have expired anyway.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import math
import os
import secrets
import threading
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Request, current_app, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import CallbackDict
from werkzeug.wrappers import Response

from symptomcheck.records.models import EndedSession, db, now
from symptomcheck.records.sealing import key_for

log = logging.getLogger(__name__)
KEY_INFO = b"symptomcheck session cookie v1"
NONCE_BYTES = 12
SEEN_REFRESH_SECONDS = 60  # "last used" is rewritten at most once a minute, not on every page


def session_key(secret: str | bytes) -> AESGCM:
    """Derive the cookie's encryption key from a secret key."""
    return key_for(secret, KEY_INFO)


class EncryptedSession(CallbackDict[str, Any], SessionMixin):
    """A session with an id and a start time kept beside its contents; clearing it ends it for good."""

    def __init__(self, initial: dict[str, Any] | None = None, session_id: str = "", started: float = 0.0) -> None:
        def on_update(self: EncryptedSession) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.from_cookie = bool(session_id)
        self.session_id = session_id or secrets.token_hex(16)
        self.started = started or now().timestamp()
        self.ended: list[tuple[str, float]] = []  # ids to refuse from now on, with when each started
        self.modified = False
        self.accessed = False

    def clear(self) -> None:
        """Empty the session and end it: a copy of the old cookie no longer opens anything."""
        super().clear()
        self.end()

    def end(self) -> None:
        """End this session id (a copy of its cookie stops working) and go on under a new one."""
        if self.from_cookie:
            self.ended.append((self.session_id, self.started))
        self.from_cookie = False
        self.session_id = secrets.token_hex(16)
        self.started = now().timestamp()
        self.modified = True


class EncryptedSessions(SecureCookieSessionInterface):
    """Flask's cookie session, encrypted instead of only signed, and bounded in time by the server."""

    session_class = EncryptedSession

    def __init__(self) -> None:
        self.keys: dict[tuple[Any, ...], list[AESGCM]] = {}

    def ciphers(self, app: Flask) -> list[AESGCM]:
        """Return the current key first, then any fallback keys (to read cookies made before a key change)."""
        secrets_in_use = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if secrets_in_use not in self.keys:
            self.keys[secrets_in_use] = [session_key(secret) for secret in secrets_in_use if secret]
        return self.keys[secrets_in_use]

    def seal(self, app: Flask, payload: dict[str, Any]) -> str:
        nonce = os.urandom(NONCE_BYTES)
        text = json.dumps(payload, separators=(",", ":")).encode()
        sealed = self.ciphers(app)[0].encrypt(nonce, text, self.get_cookie_name(app).encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, app: Flask, cookie: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        except (binascii.Error, ValueError):
            return None
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        for cipher in self.ciphers(app):
            try:
                payload = json.loads(cipher.decrypt(nonce, sealed, self.get_cookie_name(app).encode()))
            except (InvalidTag, ValueError):
                continue
            return payload if isinstance(payload, dict) else None
        return None

    def open_session(self, app: Flask, request: Request) -> EncryptedSession | None:
        if not app.secret_key:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        payload = self.unseal(app, cookie)
        # A stylesheet or an icon never reads the session: no need to ask the database whether it was ended.
        static = request.path.startswith(self.static_prefix(app))
        if payload is None or not still_valid(app, payload, check_ended=not static):
            return self.session_class()
        data = payload.get("d")
        if isinstance(data, str):  # a cookie made before the contents were plain JSON (before 2026-12-02)
            try:
                data = self.get_signing_serializer_payload(data)
            except (TypeError, ValueError):
                return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        session = self.session_class(data, payload["i"], payload["s"])
        session.seen = payload["t"]  # type: ignore[attr-defined]
        return session

    def static_prefix(self, app: Flask) -> str:
        """Return the start of a static file's path ("/static/"), worked out once (Flask works it out on each read)."""
        prefix = app.extensions.get("static_prefix")
        if prefix is None:
            prefix = app.extensions["static_prefix"] = f"{app.static_url_path}/" if app.static_url_path else "\0"
        return str(prefix)

    def get_signing_serializer_payload(self, text: str) -> dict[str, Any]:
        loaded = self.serializer.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("not a session")
        return loaded

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, EncryptedSession)
        if session.ended:
            end_sessions(app, session.ended)
            session.ended = []
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.accessed:
            vary_on_cookie(response)
        if not session:
            if session.modified or session.from_cookie:
                response.delete_cookie(name, domain=domain, path=path, secure=self.get_cookie_secure(app),
                                       partitioned=self.get_cookie_partitioned(app),
                                       httponly=self.get_cookie_httponly(app),
                                       samesite=self.get_cookie_samesite(app))  # fmt: skip
                vary_on_cookie(response)
            return
        stamp = now().timestamp()
        # "Last used" is rewritten at most once a minute, and never on a static file (a cookie on a cacheable file).
        stale = stamp - getattr(session, "seen", stamp) >= SEEN_REFRESH_SECONDS and request.endpoint != "static"
        if not (session.modified or stale or self.should_set_cookie(app, session)):
            return
        # The contents are plain JSON inside the sealed payload: the seal already proves them, so no tags or signature.
        payload = {"i": session.session_id, "s": session.started, "t": stamp, "d": dict(session)}
        response.set_cookie(
            name,
            self.seal(app, payload),
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app),
            samesite=self.get_cookie_samesite(app),
        )
        vary_on_cookie(response)


def vary_on_cookie(response: Response) -> None:
    """Add Cookie to the Vary header, as `response.vary.add` does without building a header set each time."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Cookie"
    elif "cookie" not in (name.strip().lower() for name in vary.split(",")):
        response.headers["Vary"] = f"{vary}, Cookie"


def limits(app: Flask) -> tuple[float, float]:
    """Return the idle and the absolute limits of a session, in seconds."""
    idle = float(app.config["SESSION_IDLE_MINUTES"]) * 60
    absolute = float(app.config["SESSION_MAX_HOURS"]) * 3600
    return idle, absolute


def still_valid(app: Flask, payload: dict[str, Any], check_ended: bool = True) -> bool:
    """Say whether a decrypted session is within its time limits and was not ended."""
    try:
        session_id, started, seen = str(payload["i"]), float(payload["s"]), float(payload["t"])
    except (KeyError, TypeError, ValueError):
        return False
    idle, absolute = limits(app)
    stamp = now().timestamp()
    if stamp - seen > idle or stamp - started > absolute or seen > stamp + 60:
        return False
    return not (check_ended and was_ended(session_id))


class EndedIds:
    """The session ids ended and not yet expired, as one worker knows them, read from the database once a second.

    Asking the database on every request cost a query (and a connection's ping) per page. A worker reads the
    ids ended since its last read at most once a second, and knows at once the ones it ended itself; so a copy
    of an ended cookie works for at most a second more, and only on another worker.
    """

    READ_SECONDS = 1.0
    OVERLAP = datetime.timedelta(seconds=30)  # read a little further back, for a commit that landed late

    def __init__(self) -> None:
        self.ids: dict[str, datetime.datetime] = {}  # id -> when it would have expired anyway
        self.read_through: datetime.datetime | None = None
        self.read_at = -math.inf
        self.lock = threading.Lock()

    def add(self, session_id: str, expires: datetime.datetime) -> None:
        with self.lock:
            self.ids[session_id] = expires

    def contains(self, session_id: str) -> bool:
        clock = time.monotonic()
        if clock - self.read_at >= self.READ_SECONDS:
            self.read_at = clock  # also after a failed read: try again in a second, not on every request
            self.read()
        return session_id in self.ids

    def read(self) -> None:
        at = now()
        query = select(EndedSession.session_id, EndedSession.expires_at).where(EndedSession.expires_at > at)
        if self.read_through is not None:
            query = query.where(EndedSession.ended_at >= self.read_through - self.OVERLAP)
        rows = list(db.session.execute(query))
        with self.lock:
            self.ids.update({session_id: as_utc(expires) for session_id, expires in rows})
            for session_id in [key for key, expires in self.ids.items() if expires <= at]:
                del self.ids[session_id]
            self.read_through = at


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """Return a time from the database as UTC (SQLite gives it back without its zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def ended_ids() -> EndedIds:
    found: EndedIds | None = current_app.extensions.get("ended_sessions")
    if found is None:
        found = current_app.extensions["ended_sessions"] = EndedIds()
    return found


def was_ended(session_id: str) -> bool:
    """Say whether the session id was ended; with the database down, let the session through (and say so)."""
    try:
        return ended_ids().contains(session_id)
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("Could not check for an ended session (%s); the session is accepted", type(exc).__name__)
        return False


def end_sessions(app: Flask, ended: list[tuple[str, float]]) -> None:
    """Keep the ended ids until the sessions would have expired by their absolute limit."""
    _, absolute = limits(app)
    try:
        for session_id, started in ended:
            expires = datetime.datetime.fromtimestamp(started + absolute, datetime.UTC)
            db.session.merge(EndedSession(session_id=session_id, expires_at=expires, ended_at=now()))
            ended_ids().add(session_id, expires)  # this worker refuses it at once; the others within a second
        db.session.commit()
    except (SQLAlchemyError, IntegrityError) as exc:
        db.session.rollback()
        log.warning("Could not record an ended session (%s); its cookie was removed from the browser",
                    type(exc).__name__)  # fmt: skip
