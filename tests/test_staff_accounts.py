"""Staff sessions that end, the accounts pages, password rules, throttling and two-factor login (issue 15)."""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

import pyotp
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from symptomcheck.records import staff_accounts
from symptomcheck.records.models import AuditEntry, LoginAttempt, RecoveryCode, Staff, StaffSession, db
from tests.helpers import check_page, detached_rows, text_of
from tests.test_frontdesk import PASSWORD, log_in, make_staff, send_request, stored
from tests.test_journey import Patient


def csrf_token(client: FlaskClient, page: str = "/staff/") -> str:
    token = BeautifulSoup(client.get(page).data, "html.parser").find("input", attrs={"name": "csrf_token"})
    assert token is not None, page
    return str(token["value"])


def press(client: FlaskClient, url: str, page: str = "/staff/") -> Any:
    """Press a button form (a POST with only the CSRF token), as a browser would from the page."""
    return client.post(url, data={"csrf_token": csrf_token(client, page)})


def session_id(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        return str(session["_user_id"])


def shift_sessions(app: Flask, *, created: float = 0, seen: float = 0) -> None:
    """Move every staff session's login and last request back by so many minutes, as if time had passed."""
    with app.app_context():
        for row in db.session.scalars(select(StaffSession)):
            row.created_at -= datetime.timedelta(minutes=created)
            row.last_seen_at -= datetime.timedelta(minutes=seen)
        db.session.commit()


def staff_row(app: Flask, username: str = "frontdesk") -> Staff:
    return next(row for row in detached_rows(app, Staff) if row.username == username)


def logged_in(app: Flask, username: str = "frontdesk", password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, username, password).location == "/staff/"
    return client


def client_from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def is_out(response: Any) -> bool:
    return response.status_code == 302 and response.location.startswith("/staff/login")


# ---- 1. revocable sessions ----


def test_a_cookie_copied_before_logout_opens_nothing_after_it(storage_app: Flask) -> None:
    make_staff(storage_app)
    send_request(storage_app)
    reference = stored(storage_app)[0].reference
    client = logged_in(storage_app)
    copied = client.get_cookie("session")
    assert copied is not None
    assert "Ada" in client.get(f"/staff/requests/{reference}").get_data(as_text=True)
    assert press(client, "/staff/logout").location == "/staff/login"

    thief = storage_app.test_client()
    thief.set_cookie("session", copied.value)
    for url in (f"/staff/requests/{reference}", "/staff/export.csv", "/staff/"):
        response = thief.get(url)
        assert is_out(response), url
        assert "Ada" not in response.get_data(as_text=True)
    assert [row.ended_at is not None for row in detached_rows(storage_app, StaffSession)] == [True]


def test_the_cookie_holds_a_new_random_id_per_login_and_the_server_only_its_hash(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = storage_app.test_client()
    Patient(client).submit("/questions/about-you", {"age_band": "18_49"})  # a patient session first
    assert log_in(client).location == "/staff/"
    first = session_id(client)
    with client.session_transaction() as session:
        assert "answers" not in session  # nothing carried over from before the login
    second_client = logged_in(storage_app)
    second = session_id(second_client)
    rows = detached_rows(storage_app, StaffSession)
    assert first != second
    assert len(first) >= 40
    assert first != str(staff_row(storage_app).id)
    assert {row.id_hash for row in rows} == {hashlib.sha256(value.encode()).hexdigest() for value in (first, second)}


def test_the_idle_timer_runs_from_the_last_request_not_from_the_login(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = logged_in(storage_app)
    shift_sessions(storage_app, created=20, seen=20)
    assert client.get("/staff/").status_code == 200  # 20 minutes idle: fine, and counts as a request
    shift_sessions(storage_app, created=20, seen=20)
    assert client.get("/staff/").status_code == 200  # 40 minutes since the login, 20 since the last request
    shift_sessions(storage_app, created=31, seen=31)
    assert is_out(client.get("/staff/"))
    assert "not used for a while" in text_of(check_page(client.get("/staff/login").data))
    assert is_out(client.get("/staff/"))


def test_a_session_ends_after_its_lifetime_however_busy(storage_app: Flask) -> None:
    make_staff(storage_app)
    client = logged_in(storage_app)
    shift_sessions(storage_app, created=12 * 60 - 5)
    assert client.get("/staff/").status_code == 200
    shift_sessions(storage_app, created=10)  # 12 hours and 5 minutes; the last request a moment ago
    assert is_out(client.get("/staff/"))
    assert "more than 12 hours old" in text_of(check_page(client.get("/staff/login").data))
    storage_app.config["STAFF_SESSION_HOURS"] = 1
    client = logged_in(storage_app)
    shift_sessions(storage_app, created=61)
    assert is_out(client.get("/staff/"))


def test_disabling_an_account_or_resetting_its_password_ends_it_on_every_device(storage_app: Flask) -> None:
    make_staff(storage_app)
    make_staff(storage_app, "boss", admin=True)
    admin = logged_in(storage_app, "boss")
    laptop, desk = logged_in(storage_app), logged_in(storage_app)
    staff_id = staff_row(storage_app).id

    press(admin, f"/staff/accounts/{staff_id}/disable", "/staff/accounts")
    assert is_out(laptop.get("/staff/")) and is_out(desk.get("/staff/"))
    assert log_in(storage_app.test_client()).status_code == 200  # a disabled account cannot log in
    assert admin.get("/staff/").status_code == 200  # the admin's own session goes on

    press(admin, f"/staff/accounts/{staff_id}/enable", "/staff/accounts")
    laptop, desk = logged_in(storage_app), logged_in(storage_app)
    page = press(admin, f"/staff/accounts/{staff_id}/reset-password", "/staff/accounts")
    temporary = check_page(page.data).find(id="temporary-password").get_text(strip=True)
    assert is_out(laptop.get("/staff/")) and is_out(desk.get("/staff/"))
    assert log_in(storage_app.test_client()).status_code == 200  # the old password is gone

    client = storage_app.test_client()
    assert log_in(client, password=temporary).location == "/staff/password"
    assert client.get("/staff/").location == "/staff/password"  # nothing else until it is changed
    changed = Patient(client).submit(
        "/staff/password",
        {
            "current_password": temporary,
            "new_password": "quiet lagoon pepper 41",
            "confirm_password": "quiet lagoon pepper 41",
        },
    )
    assert changed.location == "/staff/"
    assert client.get("/staff/").status_code == 200
    details = [entry.detail for entry in detached_rows(storage_app, AuditEntry)]
    assert details == ["disabled frontdesk", "enabled frontdesk", "reset password of frontdesk", "changed own password"]


# ---- 2. the accounts pages ----


def test_admins_list_and_add_accounts_with_a_temporary_password_shown_once(storage_app: Flask) -> None:
    make_staff(storage_app)
    make_staff(storage_app, "boss", admin=True)
    admin = logged_in(storage_app, "boss")
    page = text_of(check_page(admin.get("/staff/accounts").data))
    assert "boss admin Active" in page
    assert "frontdesk front desk Active" in page

    added = Patient(admin).submit("/staff/accounts", {"username": " newbie ", "clinician": "y"})
    shown = check_page(added.data)
    assert "Account newbie added" in text_of(shown)
    temporary = shown.find(id="temporary-password").get_text(strip=True)
    assert re.fullmatch(r"[0-9a-f]{6}(-[0-9a-f]{6}){3}", temporary)
    assert temporary not in admin.get("/staff/accounts").get_data(as_text=True)  # shown once
    newbie = staff_row(storage_app, "newbie")
    assert (newbie.is_clinician, newbie.is_admin, newbie.must_change_password) == (True, False, True)
    assert temporary not in newbie.password_hash

    again = Patient(admin).submit("/staff/accounts", {"username": "newbie"})
    assert "There is already an account named newbie." in text_of(check_page(again.data))
    bad = Patient(admin).submit("/staff/accounts", {"username": "a b"})
    assert "Use 3 to 80 letters, digits, dots, dashes or underscores." in text_of(check_page(bad.data))
    assert len(detached_rows(storage_app, Staff)) == 3

    client = storage_app.test_client()
    assert log_in(client, "newbie", temporary).location == "/staff/password"
    page = text_of(check_page(client.get("/staff/password").data))
    assert "You logged in with a temporary password." in page
    assert [entry.detail for entry in detached_rows(storage_app, AuditEntry)] == ["added newbie (clinician)"]


def test_only_admins_reach_the_accounts_pages(storage_app: Flask) -> None:
    make_staff(storage_app)
    make_staff(storage_app, "other")
    client = logged_in(storage_app)
    other_id = staff_row(storage_app, "other").id
    assert client.get("/staff/accounts").status_code == 403
    token = csrf_token(client)
    for action in ("disable", "reset-password", "reset-two-factor"):
        assert client.post(f"/staff/accounts/{other_id}/{action}", data={"csrf_token": token}).status_code == 403
    assert client.post("/staff/accounts", data={"username": "sneaky", "csrf_token": token}).status_code == 403
    assert [row.username for row in detached_rows(storage_app, Staff)] == ["frontdesk", "other"]
    assert staff_row(storage_app, "other").disabled_at is None
    assert "Accounts" not in text_of(check_page(client.get("/staff/").data))


def test_an_admin_cannot_lock_themself_out(storage_app: Flask) -> None:
    make_staff(storage_app, "boss", admin=True)
    admin = logged_in(storage_app, "boss")
    boss_id = staff_row(storage_app, "boss").id
    response = press(admin, f"/staff/accounts/{boss_id}/disable", "/staff/accounts")
    assert "You cannot do that to your own account" in text_of(check_page(admin.get(response.location).data))
    assert staff_row(storage_app, "boss").disabled_at is None
    assert press(admin, f"/staff/accounts/{boss_id}/explode", "/staff/accounts").status_code == 404


def test_every_account_form_needs_its_csrf_token(storage_app: Flask) -> None:
    make_staff(storage_app)
    make_staff(storage_app, "boss", admin=True)
    admin = logged_in(storage_app, "boss")
    staff_id = staff_row(storage_app).id
    hash_before = staff_row(storage_app).password_hash
    assert admin.post("/staff/accounts", data={"username": "sneaky"}).status_code == 200  # the form again, unsaved
    for action in ("disable", "reset-password", "reset-two-factor"):
        assert admin.post(f"/staff/accounts/{staff_id}/{action}").status_code == 400
    new = "quiet lagoon pepper 41"
    form = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    assert admin.post("/staff/password", data=form).status_code == 200
    assert admin.post("/staff/logout").status_code == 400
    assert [row.username for row in detached_rows(storage_app, Staff)] == ["frontdesk", "boss"]
    assert staff_row(storage_app).disabled_at is None
    assert staff_row(storage_app).password_hash == hash_before
    assert staff_row(storage_app, "boss").check_password(PASSWORD)
    assert detached_rows(storage_app, AuditEntry) == []
    assert admin.get("/staff/").status_code == 200


def test_each_person_changes_their_own_password(storage_app: Flask) -> None:
    make_staff(storage_app)
    client, other_device = logged_in(storage_app), logged_in(storage_app)
    new = "quiet lagoon pepper 41"

    def change(current: str, new_password: str, confirm: str) -> str:
        form = {"current_password": current, "new_password": new_password, "confirm_password": confirm}
        return text_of(check_page(Patient(client).submit("/staff/password", form).data))

    assert "The current password is not right." in change("wrong", new, new)
    assert "The new passwords differ." in change(PASSWORD, new, new + "x")
    assert "Choose a harder password." in change(PASSWORD, "aaaaaaaaaaaa", "aaaaaaaaaaaa")
    assert "Choose a password different from the current one." in change(PASSWORD, PASSWORD, PASSWORD)
    assert staff_row(storage_app).check_password(PASSWORD)

    done = Patient(client).submit("/staff/password", {"current_password": PASSWORD, "new_password": new,
                                                     "confirm_password": new})  # fmt: skip
    assert done.location == "/staff/"
    assert "Your password was changed." in text_of(check_page(client.get("/staff/").data))
    assert is_out(other_device.get("/staff/"))
    assert staff_row(storage_app).check_password(new)
    assert log_in(storage_app.test_client(), password=new).location == "/staff/"


# ---- 3. passwords, timing and throttling ----

WEAK = ["            ", "aaaaaaaaaaaa", "password1234", "frontdesk2026", "qwertyuiop12", "short"]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_trivial_passwords_are_refused(password: str) -> None:
    assert staff_accounts.password_problem(password, "frontdesk") is not None
    assert staff_accounts.password_problem("quiet lagoon pepper 41", "frontdesk") is None


def test_the_command_refuses_common_and_trivial_passwords(storage_app: Flask) -> None:
    runner = storage_app.test_cli_runner()
    for password in WEAK:
        result = runner.invoke(args=["staff", "create", "other", "--password", password])
        assert result.exit_code == 1, password
        assert "password" in result.output
    assert (
        "Choose a harder password." in runner.invoke(args=["staff", "create", "x", "--password", "aaaaaaaaaaaa"]).output
    )
    assert detached_rows(storage_app, Staff) == []
    assert runner.invoke(args=["staff", "create", "other", "--password", "quiet lagoon pepper 41"]).exit_code == 0


def test_an_unknown_name_costs_one_password_hash_like_a_known_one(
    storage_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing: count the hash checks and compare their cost settings, which set the time."""
    from symptomcheck.records import models

    checked: list[str] = []

    def counting(module: Any) -> Any:
        real = module.check_password_hash

        def check(stored_hash: str, password: str) -> bool:
            checked.append(stored_hash.split("$")[0])  # method and cost: "scrypt:32768:8:1"
            return bool(real(stored_hash, password))

        return check

    monkeypatch.setattr(models, "check_password_hash", counting(models))
    monkeypatch.setattr(staff_accounts, "check_password_hash", counting(staff_accounts))
    make_staff(storage_app)
    log_in(storage_app.test_client(), "frontdesk", "wrong password here")
    known = list(checked)
    checked.clear()
    log_in(storage_app.test_client(), "nobody-by-this-name", "wrong password here")
    assert len(known) == 1
    assert checked == known


def test_a_guesser_elsewhere_cannot_lock_a_colleague_out(storage_app: Flask) -> None:
    make_staff(storage_app)
    attacker = client_from(storage_app, "203.0.113.9")
    for _ in range(5):
        assert "not right" in text_of(check_page(log_in(attacker, password="a wrong guess").data))
    throttled = log_in(attacker)  # even the right password, from the guessing address
    assert throttled.status_code == 429
    assert "Too many failed tries" in text_of(check_page(throttled.data))
    colleague = client_from(storage_app, "198.51.100.7")
    assert log_in(colleague).location == "/staff/"


def test_many_names_from_one_address_are_throttled_without_the_request_limit(make_app: Any) -> None:
    """The lockout per address, apart from Flask-Limiter's per-minute limit (switched off here)."""
    app = make_app(RATELIMIT_ENABLED=False)
    make_staff(app)
    client = app.test_client()
    for number in range(staff_accounts.MAX_FAILURES_PER_ADDRESS):
        assert log_in(client, f"guess{number}", "a wrong guess").status_code == 200
    throttled = log_in(client)
    assert throttled.status_code == 429
    assert "Too many failed tries" in text_of(check_page(throttled.data))
    assert log_in(client_from(app, "198.51.100.7")).location == "/staff/"


# The per-address request limit alone is tested in tests/test_security.py.


def test_failed_logins_keep_no_name_that_was_typed(storage_app: Flask) -> None:
    make_staff(storage_app)
    log_in(storage_app.test_client(), "Ada.Lovelace@Example.org", "my own password")
    log_in(storage_app.test_client(), "frontdesk", "a wrong guess")
    rows = detached_rows(storage_app, LoginAttempt)
    assert len(rows) == 2
    for row in rows:
        stored_text = " ".join(str(value) for value in vars(row).values())
        assert "lovelace" not in stored_text.lower() and "frontdesk" not in stored_text
        assert re.fullmatch(r"[0-9a-f]{64}", row.name_key)
    assert [row.staff_id for row in rows] == [None, staff_row(storage_app).id]


# ---- 4. two-factor login ----


@pytest.fixture
def two_factor_app(storage_app: Flask) -> Flask:
    storage_app.config["STAFF_TWO_FACTOR"] = True  # the tests' default is off (tests/conftest.py)
    make_staff(storage_app)
    return storage_app


def secret_of(app: Flask, username: str = "frontdesk") -> str | None:
    """Return the account's two-factor secret, unsealed with the app's key."""
    with app.app_context():
        return staff_accounts.totp_secret(staff_row(app, username))


def totp(app: Flask) -> pyotp.TOTP:
    secret = secret_of(app)
    assert secret is not None
    return pyotp.TOTP(secret)


def enrol(app: Flask) -> tuple[FlaskClient, list[str]]:
    """Log in for the first time with two-factor on: set it up and keep the recovery codes."""
    client = app.test_client()
    assert log_in(client).location == "/staff/login/two-factor-setup"
    page = check_page(client.get("/staff/login/two-factor-setup").data)
    assert page.find("svg") is not None
    shown = page.find(id="setup-key").get_text().replace(" ", "")
    assert shown == secret_of(app)
    done = Patient(client).submit("/staff/login/two-factor-setup", {"code": totp(app).now()})
    codes = [code.get_text() for code in check_page(done.data).select(".recovery-codes code")]
    return client, codes


def test_two_factor_is_required_by_default(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYMPTOMCHECK_STAFF_TWO_FACTOR")
    assert make_app().config["STAFF_TWO_FACTOR"] is True
    monkeypatch.setenv("SYMPTOMCHECK_STAFF_TWO_FACTOR", "false")
    assert make_app().config["STAFF_TWO_FACTOR"] is False


def test_enrolment_shows_a_server_made_qr_code_and_recovery_codes_once(two_factor_app: Flask) -> None:
    app = two_factor_app
    client = app.test_client()
    assert log_in(client).location == "/staff/login/two-factor-setup"
    assert is_out(client.get("/staff/"))  # a right password alone opens nothing
    page = check_page(client.get("/staff/login/two-factor-setup").data)
    svg = page.find("svg")
    assert svg is not None and svg.find("path") is not None and "QR code" in svg.find("title").get_text()
    assert not page.find("script")
    with client.session_transaction() as session:
        assert secret_of(app) not in str(dict(session))  # the secret stays on the server
    wrong = Patient(client).submit("/staff/login/two-factor-setup", {"code": "000000"})
    assert "The code is not right." in text_of(check_page(wrong.data))
    assert staff_row(app).totp_enrolled_at is None

    done = Patient(client).submit("/staff/login/two-factor-setup", {"code": totp(app).now()})
    codes = [code.get_text() for code in check_page(done.data).select(".recovery-codes code")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only once" in text_of(check_page(done.data))
    logout = check_page(done.data).find("form", action="/staff/logout")
    assert client.get("/staff/").status_code == 200
    token = logout.find("input", attrs={"name": "csrf_token"})["value"]
    assert client.post("/staff/logout", data={"csrf_token": token}).location == "/staff/login"  # its buttons work
    stored_hashes = " ".join(row.code_hash for row in detached_rows(app, RecoveryCode))
    assert not any(code in stored_hashes for code in codes)
    assert staff_row(app).totp_enrolled_at is not None
    assert "set up two-factor login" in [entry.detail for entry in detached_rows(app, AuditEntry)]


def test_a_code_works_once_and_a_replayed_one_is_refused(two_factor_app: Flask) -> None:
    app = two_factor_app
    first, _ = enrol(app)
    used = totp(app).now()  # the code the enrolment took
    press(first, "/staff/logout")

    client = app.test_client()
    assert log_in(client).location == "/staff/login/code"
    assert is_out(client.get("/staff/"))
    replayed = Patient(client).submit("/staff/login/code", {"code": used})
    assert "it was used already" in text_of(check_page(replayed.data))
    assert is_out(client.get("/staff/"))

    secret = totp(app)
    later = secret.generate_otp(secret.timecode(datetime.datetime.now(datetime.UTC)) + 1)  # a clock a step ahead
    assert Patient(client).submit("/staff/login/code", {"code": later}).location == "/staff/"
    assert client.get("/staff/").status_code == 200

    other = app.test_client()
    log_in(other)
    again = Patient(other).submit("/staff/login/code", {"code": later})
    assert "it was used already" in text_of(check_page(again.data))
    assert is_out(other.get("/staff/"))


def test_a_recovery_code_logs_in_once(two_factor_app: Flask) -> None:
    app = two_factor_app
    _, codes = enrol(app)
    client = app.test_client()
    log_in(client)
    assert Patient(client).submit("/staff/login/code", {"code": codes[3].upper()}).location == "/staff/"
    assert "9 are left" in text_of(check_page(client.get("/staff/").data))

    other = app.test_client()
    log_in(other)
    reused = Patient(other).submit("/staff/login/code", {"code": codes[3]})
    assert "The code is not right" in text_of(check_page(reused.data))
    assert is_out(other.get("/staff/"))
    assert [row.used_at is not None for row in detached_rows(app, RecoveryCode)].count(True) == 1


def test_wrong_codes_count_towards_the_lockout(two_factor_app: Flask) -> None:
    app = two_factor_app
    enrol(app)
    client = app.test_client()
    log_in(client)
    for _ in range(staff_accounts.MAX_FAILURES_PER_NAME_AND_ADDRESS):
        Patient(client).submit("/staff/login/code", {"code": "123456"})
    throttled = Patient(client).submit("/staff/login/code", {"code": totp(app).now()})
    assert throttled.status_code == 429
    assert is_out(client.get("/staff/"))


def test_a_code_page_without_a_right_password_sends_back_to_the_login(two_factor_app: Flask) -> None:
    client = two_factor_app.test_client()
    assert client.get("/staff/login/code").location == "/staff/login"
    assert client.get("/staff/login/two-factor-setup").location == "/staff/login"
    assert staff_row(two_factor_app).totp_secret is None


def test_an_admin_resets_two_factor_for_a_lost_phone(two_factor_app: Flask) -> None:
    app = two_factor_app
    phone, _ = enrol(app)
    app.config["STAFF_TWO_FACTOR"] = False
    make_staff(app, "boss", admin=True)
    admin = logged_in(app, "boss")
    press(admin, f"/staff/accounts/{staff_row(app).id}/reset-two-factor", "/staff/accounts")
    assert is_out(phone.get("/staff/"))
    assert (staff_row(app).totp_secret, staff_row(app).totp_enrolled_at) == (None, None)
    assert detached_rows(app, RecoveryCode) == []
    app.config["STAFF_TWO_FACTOR"] = True
    assert log_in(app.test_client()).location == "/staff/login/two-factor-setup"


def test_the_stored_secret_does_not_give_the_codes(two_factor_app: Flask) -> None:
    """A copy of the database alone (without SECRET_KEY) does not let anyone make the login codes."""
    app = two_factor_app
    enrol(app)
    stored, secret = staff_row(app).totp_secret, secret_of(app)
    assert stored is not None and secret is not None and len(secret) == 32
    assert secret not in stored and stored.startswith(staff_accounts.SEALED)
    with app.app_context():
        assert staff_accounts.seal(secret) != stored  # a fresh nonce each time: equal secrets do not look equal
    app.config["SECRET_KEY"] = "another key"
    app.secret_key = "another key"
    assert secret_of(app) is None  # sealed under another key: unreadable, never a wrong secret


def test_a_secret_stored_before_sealing_still_works_and_is_sealed_at_the_next_login(two_factor_app: Flask) -> None:
    app = two_factor_app
    enrol(app)
    secret = secret_of(app)
    with app.app_context():
        db.session.execute(Staff.__table__.update().values(totp_secret=secret))  # as the old column held it
        db.session.commit()
    client = app.test_client()
    assert log_in(client).location == "/staff/login/code"
    code = pyotp.TOTP(secret).generate_otp(pyotp.TOTP(secret).timecode(datetime.datetime.now(datetime.UTC)) + 1)
    assert Patient(client).submit("/staff/login/code", {"code": code}).location == "/staff/"
    stored = staff_row(app).totp_secret
    assert stored is not None and stored.startswith(staff_accounts.SEALED) and secret_of(app) == secret


def test_the_command_resets_two_factor_when_no_admin_can(two_factor_app: Flask) -> None:
    """An only admin who lost the phone: `flask staff reset-two-factor NAME` from the server, ending its sessions."""
    app = two_factor_app
    phone, _ = enrol(app)
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["staff", "reset-two-factor", "nobody"])
    assert unknown.exit_code == 1 and "There is no staff account named 'nobody'" in unknown.output
    done = runner.invoke(args=["staff", "reset-two-factor", "frontdesk"])
    assert done.exit_code == 0 and "set up again at the next login" in done.output
    assert is_out(phone.get("/staff/"))
    assert (staff_row(app).totp_secret, staff_row(app).totp_enrolled_at) == (None, None)
    assert detached_rows(app, RecoveryCode) == []
    assert "reset two-factor of frontdesk from the command line" in [e.detail for e in detached_rows(app, AuditEntry)]
    assert log_in(app.test_client()).location == "/staff/login/two-factor-setup"


def test_last_login_counts_only_a_login_that_got_past_the_code(two_factor_app: Flask) -> None:
    app = two_factor_app
    enrol(app)
    make_staff(app, "boss", admin=True)
    app.config["STAFF_TWO_FACTOR"] = False
    admin = logged_in(app, "boss")
    app.config["STAFF_TWO_FACTOR"] = True
    with app.app_context():
        db.session.execute(StaffSession.__table__.delete().where(StaffSession.staff_id == staff_row(app).id))
        db.session.commit()

    def frontdesk_row() -> str:
        page = check_page(admin.get("/staff/accounts").data)
        row = next(row for row in page.select("tbody tr") if "frontdesk" in row.get_text())
        return row.find("td", attrs={"data-label": "Last login"}).get_text(strip=True)

    assert frontdesk_row() == "Never"
    assert log_in(app.test_client()).location == "/staff/login/code"  # a right password, but no code given
    assert frontdesk_row() == "Never"
    client = app.test_client()
    log_in(client)
    code = totp(app)
    assert Patient(client).submit("/staff/login/code", {"code": code.generate_otp(code.timecode(
        datetime.datetime.now(datetime.UTC)) + 1)}).location == "/staff/"  # fmt: skip
    assert frontdesk_row() != "Never"
