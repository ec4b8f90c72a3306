"""Staff accounts: logins and their server-side sessions, password rules, throttling, two-factor codes."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import io
import os
import secrets
from dataclasses import dataclass
from functools import cache

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from symptomcheck.records.models import AuditEntry, LoginAttempt, RecoveryCode, Staff, StaffSession, db, now
from symptomcheck.records.sealing import key_for

# Throttling: a guesser is stopped per name and address, and per address; never per name alone, so a
# guesser elsewhere cannot lock a colleague out of their own account.
MAX_FAILURES_PER_NAME_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = datetime.timedelta(minutes=15)

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable: moderate protection from offline attacks"
RECOVERY_CODES = 10
TOTP_ISSUER = "symptomcheck"
# Seen-at is written at most this often, so a busy desk does not write a row on every page.
SEEN_RESOLUTION = datetime.timedelta(seconds=60)


def as_utc(at: datetime.datetime) -> datetime.datetime:
    """Return a stored time as aware UTC (SQLite gives it back naive)."""
    return at if at.tzinfo else at.replace(tzinfo=datetime.UTC)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


# ---- sessions ----


def start_session(staff: Staff) -> str:
    """Store a new session for the staff member and return its id, for the cookie (only its hash is kept)."""
    session_id = secrets.token_urlsafe(32)
    db.session.add(StaffSession(id_hash=hash_session_id(session_id), staff_id=staff.id))
    db.session.commit()
    staff.session_id = session_id
    return session_id


def load_session(
    session_id: str, idle: datetime.timedelta, lifetime: datetime.timedelta
) -> tuple[Staff | None, str | None]:
    """Return the staff member of a live session, noting that it was used; or None and why it ended.

    The idle time runs from the session's last request; the lifetime from the login.
    """
    found = db.session.scalar(select(StaffSession).where(StaffSession.id_hash == hash_session_id(session_id)))
    if found is None or found.ended_at is not None or not found.staff.is_active:
        return None, "ended"
    at = now()
    why = (
        "idle"
        if at - as_utc(found.last_seen_at) > idle
        else "lifetime"
        if at - as_utc(found.created_at) > lifetime
        else None
    )
    if why:
        found.ended_at = at
        db.session.commit()
        return None, why
    if at - as_utc(found.last_seen_at) >= SEEN_RESOLUTION:
        found.last_seen_at = at
        db.session.commit()
    staff: Staff = found.staff
    staff.session_id = session_id
    return staff, None


def end_session(session_id: str | None) -> None:
    if session_id:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.id_hash == hash_session_id(session_id), StaffSession.ended_at.is_(None))
            .values(ended_at=now())
        )
        db.session.commit()


def end_every_session(staff: Staff, *, commit: bool = True) -> None:
    """End the staff member's sessions on every device."""
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now())
    )
    if commit:
        db.session.commit()


def live_sessions(staff: Staff) -> int:
    query = select(func.count()).select_from(StaffSession)
    return db.session.scalar(query.where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))) or 0


# ---- passwords and logging in ----


def password_problem(password: str, username: str = "") -> str | None:
    """Return what is wrong with a new password (too short, common or trivial), or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use a password of at least {MIN_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "Use a password that is not only spaces."
    from zxcvbn import zxcvbn  # its word lists take memory: loaded when a password is set, not in every worker

    strength = zxcvbn(password[:100], user_inputs=[username, "symptomcheck", "frontdesk", "clinic"])
    if strength["score"] < MIN_PASSWORD_SCORE:
        why = strength["feedback"].get("warning") or "It is too easy to guess."
        return f"Choose a harder password. {why} A few uncommon words together work well."
    return None


def temporary_password() -> str:
    """Return a random password to give someone once; they must change it when they log in."""
    return "-".join(secrets.token_hex(3) for _ in range(4))


@cache
def dummy_hash() -> str:
    """Return a password hash to check against for a name that is not an account, so it takes as long."""
    return generate_password_hash(secrets.token_hex(16))


def name_key(username: str, secret_key: str | bytes) -> str:
    """Return a keyed hash of a typed name: failures can be counted by name without keeping what was typed."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, username.casefold().encode(), hashlib.sha256).hexdigest()


def too_many_failed_logins(username: str, address: str, secret_key: str | bytes) -> bool:
    """Say whether this name from this address, or this address for any name, failed too often lately."""
    failures = select(func.count()).select_from(LoginAttempt)
    failures = failures.where(LoginAttempt.at > now() - FAILURE_WINDOW, ~LoginAttempt.succeeded)
    failures = failures.where(LoginAttempt.address == address)
    by_address = db.session.scalar(failures) or 0
    by_name = db.session.scalar(failures.where(LoginAttempt.name_key == name_key(username, secret_key))) or 0
    return by_name >= MAX_FAILURES_PER_NAME_AND_ADDRESS or by_address >= MAX_FAILURES_PER_ADDRESS


def record_failure(staff: Staff, address: str, secret_key: str | bytes) -> None:
    """Count a wrong two-factor code like a wrong password, for this name and address."""
    db.session.add(LoginAttempt(name_key=name_key(staff.username, secret_key), staff_id=staff.id, address=address[:64]))
    db.session.commit()


def check_login(username: str, password: str, address: str, secret_key: str | bytes) -> Staff | None:
    """Return the staff member when the password is right and the account open; record the attempt either way."""
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        check_password_hash(dummy_hash(), password)  # as slow as a real account's check
        succeeded = False
    else:
        succeeded = staff.check_password(password) and staff.is_active
    db.session.add(
        LoginAttempt(
            name_key=name_key(username, secret_key),
            staff_id=staff.id if staff else None,
            address=address[:64],
            succeeded=succeeded,
        )
    )
    db.session.commit()
    return staff if succeeded else None


# ---- accounts ----


def find_staff(username: str) -> Staff | None:
    return db.session.scalar(select(Staff).where(Staff.username == username))


def add_account(
    by: Staff | None, username: str, password: str, *, admin: bool, clinician: bool, temporary: bool
) -> Staff:
    staff = Staff(username=username, is_admin=admin, is_clinician=clinician, must_change_password=temporary)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    roles = ", ".join(role for role, held in (("admin", admin), ("clinician", clinician)) if held) or "front desk"
    if by is not None:
        db.session.add(AuditEntry(staff_id=by.id, action="account", detail=f"added {username} ({roles})"[:200]))
    db.session.commit()
    return staff


def disable_account(by: Staff, staff: Staff) -> None:
    """Stop an account from logging in, and end its sessions on every device."""
    staff.disabled_at = now()
    end_every_session(staff, commit=False)
    db.session.add(AuditEntry(staff_id=by.id, action="account", detail=f"disabled {staff.username}"[:200]))
    db.session.commit()


def enable_account(by: Staff, staff: Staff) -> None:
    staff.disabled_at = None
    db.session.add(AuditEntry(staff_id=by.id, action="account", detail=f"enabled {staff.username}"[:200]))
    db.session.commit()


def reset_password(by: Staff, staff: Staff) -> str:
    """Give the account a temporary password, to change at the next login; end its sessions; return it."""
    password = temporary_password()
    staff.set_password(password)
    staff.must_change_password = True
    end_every_session(staff, commit=False)
    db.session.add(AuditEntry(staff_id=by.id, action="account", detail=f"reset password of {staff.username}"[:200]))
    db.session.commit()
    return password


def change_own_password(staff: Staff, password: str) -> None:
    """Set a new password chosen by its owner; end their other sessions (this one goes on)."""
    staff.set_password(password)
    staff.must_change_password = False
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .where(StaffSession.id_hash != hash_session_id(staff.session_id or ""))
        .values(ended_at=now())
    )
    db.session.add(AuditEntry(staff_id=staff.id, action="account", detail="changed own password"))
    db.session.commit()


def last_logins() -> dict[int, datetime.datetime]:
    """Return each account's last whole login: a session is started only after the two-factor code, if one is due."""
    rows = db.session.execute(
        select(StaffSession.staff_id, func.max(StaffSession.created_at)).group_by(StaffSession.staff_id)
    )
    return {staff_id: as_utc(at) for staff_id, at in rows}


# ---- two-factor codes ----


def new_totp_secret() -> str:
    return pyotp.random_base32()


# A two-factor secret is stored sealed: a copy of the database alone does not give the codes.
SEALED = "sealed1."
SEAL_INFO = b"symptomcheck two-factor secret"


@cache
def sealing_key(secret_key: str | bytes) -> AESGCM:
    return key_for(secret_key, SEAL_INFO)


def seal(secret: str) -> str:
    """Return the secret encrypted with a key from SECRET_KEY (AES-GCM), as text for the column."""
    nonce = os.urandom(12)
    sealed = sealing_key(current_app.secret_key).encrypt(nonce, secret.encode(), SEAL_INFO)
    return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()


def totp_secret(staff: Staff) -> str | None:
    """Return the staff member's two-factor secret, unsealed; None when there is none or it cannot be read.

    A secret stored before sealing (plain base32) is read as it is; `check_second_factor` seals it.
    A secret sealed under another SECRET_KEY cannot be read: that account sets up two-factor login again.
    """
    stored = staff.totp_secret
    if stored is None or not stored.startswith(SEALED):
        return stored
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(SEALED))
        return sealing_key(current_app.secret_key).decrypt(raw[:12], raw[12:], SEAL_INFO).decode()
    except (binascii.Error, InvalidTag, ValueError):
        return None


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def qr_svg(text: str) -> str:
    """Return a QR code of the text as an inline SVG, drawn on the server (no script, no image request)."""
    out = io.BytesIO()
    import segno  # loaded when someone sets up two-factor, not in every worker

    segno.make(text, error="m").save(
        out, kind="svg", border=4, omitsize=True, xmldecl=False, svgns=True, title="QR code for your authenticator app"
    )
    return out.getvalue().decode()


def code_step(secret: str, code: str, at: datetime.datetime | None = None) -> int | None:
    """Return the time step a six-digit code belongs to (this one or the one either side), or None if it fits none."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    moment = at or now()
    for drift in (0, -1, 1):
        step = totp.timecode(moment) + drift
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def pending_totp_secret(staff: Staff) -> str:
    """Return the secret to enrol with, made and stored on first use (kept server-side, never in the cookie)."""
    secret = totp_secret(staff)
    if secret is None:
        secret = new_totp_secret()
        staff.totp_secret = seal(secret)
        db.session.commit()
    return secret


def confirm_enrolment(staff: Staff, code: str) -> list[str] | None:
    """Turn two-factor on once the person's app shows a right code for the secret; return the recovery codes."""
    secret = totp_secret(staff)
    step = code_step(secret, code) if secret else None
    if step is None:
        return None
    staff.totp_enrolled_at = now()
    staff.totp_last_step = step
    codes = new_recovery_codes(staff)
    db.session.add(AuditEntry(staff_id=staff.id, action="account", detail="set up two-factor login"))
    db.session.commit()
    return codes


def reset_two_factor(by: Staff | None, staff: Staff) -> None:
    """Make the account set up two-factor login again (a lost phone); end its sessions.

    `by` is the admin who did it, or None from the command line (the audit log says so, under the account).
    """
    staff.totp_secret = None
    staff.totp_enrolled_at = None
    staff.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
    end_every_session(staff, commit=False)
    detail = f"reset two-factor of {staff.username}" + (" from the command line" if by is None else "")
    db.session.add(AuditEntry(staff_id=(by or staff).id, action="account", detail=detail[:200]))
    db.session.commit()


def hash_recovery_code(code: str) -> str:
    # 64 random bits each: a plain SHA-256 cannot be reversed by guessing, unlike a password's.
    return hashlib.sha256("".join(code.split()).lower().encode()).hexdigest()


def new_recovery_codes(staff: Staff) -> list[str]:
    """Replace the staff member's recovery codes; return the new ones, to show once (only hashes are kept)."""
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.staff_id == staff.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(staff_id=staff.id, code_hash=hash_recovery_code(code)))
    return codes


@dataclass(frozen=True)
class SecondFactor:
    accepted: bool
    used_recovery_code: bool = False


def check_second_factor(staff: Staff, code: str) -> SecondFactor:
    """Accept a current code not used before, or an unused recovery code (which is then used up)."""
    secret = totp_secret(staff)
    if secret is None or staff.totp_enrolled_at is None:
        return SecondFactor(False)
    if staff.totp_secret and not staff.totp_secret.startswith(SEALED):
        staff.totp_secret = seal(secret)  # stored before sealing: seal it now (committed below)
    step = code_step(secret, code)
    if step is not None:
        # A code seen once is refused after: compare-and-set, so two requests with one code cannot both pass.
        last = staff.totp_last_step if staff.totp_last_step is not None else -1
        if step <= last:
            return SecondFactor(False)
        taken = db.session.execute(
            update(Staff)
            .where(Staff.id == staff.id, func.coalesce(Staff.totp_last_step, -1) == last)
            .values(totp_last_step=step)
        )
        db.session.commit()
        return SecondFactor(taken.rowcount == 1)  # type: ignore[attr-defined]
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.staff_id == staff.id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now())
    )
    db.session.commit()
    return SecondFactor(used.rowcount == 1, used_recovery_code=used.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(staff: Staff) -> int:
    query = select(func.count()).select_from(RecoveryCode)
    return db.session.scalar(query.where(RecoveryCode.staff_id == staff.id, RecoveryCode.used_at.is_(None))) or 0
