"""Save screenshots of the staff login pages, two-factor set-up and code entry, the accounts and password pages.

    python -m scripts.staff_screenshots OUTDIR   (from the repository root)

Like scripts/screenshots.py: the real app under werkzeug on a free port, Debian's Chromium through Playwright,
two-factor login on, at 360 and 1280 px.
"""

from __future__ import annotations

import datetime
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from flask import Flask
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from scripts.screenshots import HEIGHT, WIDTHS, Shooter
from symptomcheck import create_app
from symptomcheck.records import staff_accounts
from symptomcheck.records.models import Staff, db
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve
from tests.helpers import RULES_FILE

ADMINS, PASSWORD = ("boss", "chief"), "quiet lagoon pepper 41"  # one per width: each sets up two-factor


def code(app: Flask, admin: str, ahead: int) -> str:
    """Return a code not used yet: a step ahead is accepted; wait for the clock when that one was used too."""
    with app.app_context():
        staff = db.session.scalars(select(Staff).where(Staff.username == admin)).one()
        secret, last = staff_accounts.totp_secret(staff), staff.totp_last_step  # the stored secret is sealed
    assert secret is not None
    totp = pyotp.TOTP(secret)
    while last is not None and totp.timecode(datetime.datetime.now(datetime.UTC)) + ahead <= last:
        time.sleep(1)
    return totp.generate_otp(totp.timecode(datetime.datetime.now(datetime.UTC)) + ahead)


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="symptomcheck-staff-shots-") as folder:
        database = f"sqlite:///{Path(folder) / 'shots.db'}"
        app = create_app({"SECRET_KEY": "shots", "RULES_FILE": str(RULES_FILE), "RATELIMIT_ENABLED": False,
                          "DATABASE_URL": database, "STAFF_TWO_FACTOR": True})  # fmt: skip
        with app.app_context():
            for name in (*ADMINS, "frontdesk", "dr.ortiz"):
                admin = name in ADMINS
                staff = Staff(username=name, is_admin=admin, is_clinician=name.startswith("dr"))
                staff.set_password(PASSWORD)
                db.session.add(staff)
            db.session.commit()
        with serve(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for number, width in enumerate(WIDTHS):
                shot = Shooter(outdir, width)
                context = browser.new_context(viewport={"width": width, "height": HEIGHT[width]}, base_url=base_url)
                page: Page = context.new_page()
                admin = ADMINS[number]
                page.goto("/staff/login")
                shot(page, "login")
                page.get_by_label("Username").fill(admin)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                shot(page, "two-factor-setup")
                page.get_by_label("Code").fill("000000")
                page.get_by_role("button", name="Turn on two-factor login").click()
                shot(page, "two-factor-setup-error")
                page.get_by_label("Code").fill(code(app, admin, 0))
                page.get_by_role("button", name="Turn on two-factor login").click()
                shot(page, "recovery-codes")
                page.get_by_role("button", name="Log out").click()
                page.get_by_label("Username").fill(admin)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                shot(page, "code-entry")
                page.get_by_label("Code").fill(code(app, admin, 1))  # a code not used yet
                page.get_by_role("button", name="Log in").click()
                page.goto("/staff/accounts")
                shot(page, "accounts")
                page.goto("/staff/password")
                page.get_by_role("button", name="Change the password").click()
                shot(page, "change-password-errors")
                context.close()
            browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
