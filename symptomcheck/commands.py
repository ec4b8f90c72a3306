"""`flask staff create` and `flask requests purge`: commands that need the app and its database."""

from __future__ import annotations

import datetime
import re

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from symptomcheck.records import alerts, contact_requests, staff_accounts
from symptomcheck.records.models import Staff, db

staff_cli = AppGroup("staff", help="Manage front desk accounts.")
requests_cli = AppGroup("requests", help="Manage stored contact requests.")
desk_cli = AppGroup("desk", help="The front desk's alerts.")
demo_cli = AppGroup("demo", help="A demo database: made-up history for the dashboard.")


@staff_cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="May manage accounts and read the audit log.")
@click.option("--clinician", is_flag=True, help="May record whether a suggested level was right.")
@click.password_option(help="Asked for when not given.")
def create_staff(username: str, admin: bool, clinician: bool, password: str) -> None:
    """Create a staff account."""
    if problem := staff_accounts.password_problem(password, username):
        raise click.ClickException(problem)
    if db.session.scalar(select(Staff).where(Staff.username == username)):
        raise click.ClickException(f"There is already a staff account named {username!r}.")
    staff_accounts.add_account(None, username, password, admin=admin, clinician=clinician, temporary=False)
    roles = " ".join(role for role, held in (("admin", admin), ("clinician", clinician)) if held)
    click.echo(f"Created {roles + ' ' if roles else ''}staff account {username!r}.")


@staff_cli.command("reset-two-factor")
@click.argument("username")
def reset_staff_two_factor(username: str) -> None:
    """Make an account set up two-factor login again (a lost phone), ending its sessions."""
    staff = staff_accounts.find_staff(username)
    if staff is None:
        raise click.ClickException(f"There is no staff account named {username!r}.")
    staff_accounts.reset_two_factor(None, staff)
    click.echo(f"Two-factor login of {username!r} was reset: it is set up again at the next login.")


UNITS = {"h": datetime.timedelta(hours=1), "d": datetime.timedelta(days=1), "w": datetime.timedelta(weeks=1)}
LONGEST = datetime.timedelta(days=36500)


def parse_period(text: str) -> datetime.timedelta:
    """Read a period such as '90d', '12w' or '36h': at least an hour, at most 100 years."""
    match = re.fullmatch(r"([0-9]{1,6})([dwh])", text.strip())
    if not match:
        raise click.BadParameter(f"{text!r} cannot be read: use a whole number and a unit, like 90d, 12w or 36h")
    period = int(match[1]) * UNITS[match[2]]
    if not datetime.timedelta(hours=1) <= period <= LONGEST:
        raise click.BadParameter(f"{text!r} is out of range: use at least 1h and at most 36500d")
    return period


def say_period(period: datetime.timedelta) -> str:
    """Say a period in the unit it was given in: whole days as days, anything else as hours."""
    if period % datetime.timedelta(days=1):
        hours = int(period.total_seconds() // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{period.days} day{'s' if period.days != 1 else ''}"


@requests_cli.command("purge")
@click.option("--older-than", "older_than", help="Finished requests. Default: RETENTION_DAYS.")
@click.option("--open-older-than", "open_older_than", help="Requests never past new or contacted. "
              "Default: OPEN_RETENTION_DAYS.")  # fmt: skip
def purge_requests(older_than: str | None, open_older_than: str | None) -> None:
    """Delete finished requests older than the period, and requests left open for the longer period."""
    from flask import current_app

    config = current_app.config
    try:
        period = parse_period(older_than) if older_than else datetime.timedelta(days=config["RETENTION_DAYS"])
        open_period = (
            parse_period(open_older_than) if open_older_than else datetime.timedelta(days=config["OPEN_RETENTION_DAYS"])
        )
    except click.BadParameter as exc:
        raise click.UsageError(str(exc.message)) from exc
    if open_period < period:
        shorter = f"--open-older-than {say_period(open_period)} is shorter than {say_period(period)}"
        raise click.UsageError(f"requests still open are kept at least as long as finished ones: {shorter}")
    finished, still_open = contact_requests.purge(period, open_period)
    click.echo(f"Deleted {finished} finished request(s) closed more than {say_period(period)} ago.")
    click.echo(f"Deleted {still_open} request(s) never moved past new or contacted for more than "
               f"{say_period(open_period)}.")  # fmt: skip
    warning = datetime.timedelta(days=config["RETENTION_WARNING_DAYS"])
    soon = contact_requests.count_open_before(contact_requests.now() - open_period + warning)
    if soon:
        click.echo(f"Warning: {soon} open request(s) will be deleted within {say_period(warning)} unless they move on.",
                   err=True)  # fmt: skip


@desk_cli.command("alerts")
def send_alerts() -> None:
    """Add an alert for each request past its target without contact, then send every alert due (cron: every minute)."""
    from flask import current_app

    hours = current_app.extensions["desk_hours"]
    settings = alerts.MailSettings.from_config(current_app.config)
    overdue = alerts.add_overdue_alerts(hours)
    report = alerts.send_pending(settings, hours)
    click.echo(f"{overdue} new overdue alert(s); sent {report.sent}, failed {report.failed}, waiting {report.waiting}.")
    if not settings.can_send:
        click.echo("Mail is not configured: set SYMPTOMCHECK_MAIL_SERVER and SYMPTOMCHECK_DESK_EMAIL.", err=True)
    if report.failed:
        raise SystemExit(1)


@demo_cli.command("seed")
@click.option("--weeks", default=6, show_default=True, type=click.IntRange(1, 104), help="How many weeks of history.")
@click.option("--seed", "seed_value", default=1, show_default=True, help="The same seed gives the same history.")
@click.option("--until", "last_day", type=click.DateTime(["%Y-%m-%d"]), help="The last day (default: today).")
@click.option("--reset", is_flag=True, help="Delete the demo's requests and counters first.")
def seed_demo(weeks: int, seed_value: int, last_day: datetime.datetime | None, reset: bool) -> None:
    """Fill a demo database with made-up journeys, requests, calls, outcomes and verdicts (refused elsewhere)."""
    from flask import current_app

    from symptomcheck.records import demo

    if current_app.config["DEMO_DATABASE"] is not True:
        raise click.ClickException(
            "This is not a demo database, so nothing was written. Seed only a database made for the demo,"
            " started with SYMPTOMCHECK_DEMO_DATABASE=true."
        )
    if demo.has_history() and not reset:
        raise click.ClickException("The database already holds requests or counters; add --reset to replace them.")
    if reset:
        demo.wipe()
    hours = current_app.extensions["desk_hours"]
    until = last_day.date() if last_day else datetime.datetime.now(hours.zone).date()
    made = demo.seed(current_app.extensions["symptomcheck_rules"], hours, weeks, seed_value, until)
    click.echo(
        f"Seeded {made['days']} days to {until}: {made['journeys']} journeys, {made['requests']} contact requests,"
        f" {made['calls']} calls, {made['verdicts']} verdicts (seed {seed_value})."
    )


def register(app: Flask) -> None:
    app.cli.add_command(staff_cli)
    app.cli.add_command(requests_cli)
    app.cli.add_command(desk_cli)
    app.cli.add_command(demo_cli)
