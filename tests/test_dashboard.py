"""The clinic's dashboard: its figures against counts made here from the seeded rows, the CSV, who may see it.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. The expected figures are worked out in this file
from the stored rows (counters, requests, calls, verdicts), never by the dashboard's own code.
"""

from __future__ import annotations

import base64
import csv
import datetime
import hashlib
import html
import io
import math
import re
import statistics
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from symptomcheck.records import desk
from symptomcheck.records.models import AuditEntry, ContactRequest, Staff, UsageCount, db
from tests.helpers import check_page, text_of
from tests.test_frontdesk import PASSWORD, log_in
from tests.test_security import REQUIRED_CSP

ZONE = ZoneInfo(desk.DEFAULT_DESK_HOURS["time_zone"])
LEVELS_WITH_TARGETS = ("urgent", "soon", "routine", "self_care")


def today() -> datetime.date:
    return datetime.datetime.now(ZONE).date()


def last_four_weeks() -> tuple[datetime.date, datetime.date]:
    """This week and the three before it, up to today, worked out here."""
    monday = today() - datetime.timedelta(days=today().weekday())
    return monday - datetime.timedelta(days=21), today()


def add_staff(app: Flask, username: str, admin: bool = False, clinician: bool = False) -> None:
    with app.app_context():
        staff = Staff(username=username, is_admin=admin, is_clinician=clinician)
        staff.set_password(PASSWORD)
        db.session.add(staff)
        db.session.commit()


def seed(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["demo", "seed", *args])


@pytest.fixture
def seeded(storage_app: Flask) -> Flask:
    storage_app.config["DEMO_DATABASE"] = True
    result = seed(storage_app, "--weeks", "6", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "Seeded 42 days" in result.output
    return storage_app


@pytest.fixture
def admin(seeded: Flask) -> FlaskClient:
    add_staff(seeded, "boss", admin=True)
    client = seeded.test_client()
    assert log_in(client, "boss").location == "/staff/"
    return client


def figures_csv(client: FlaskClient, period: str = "4weeks") -> dict[tuple[str, str, str, str], str]:
    response = client.get(f"/staff/dashboard.csv?period={period}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "figure", "group", "key", "value"]
    return {(section, figure, group, key): value for section, figure, group, key, value in rows[1:]}


def local_day(at: datetime.datetime) -> datetime.date:
    return (at if at.tzinfo else at.replace(tzinfo=datetime.UTC)).astimezone(ZONE).date()


def requests_in(app: Flask, first: datetime.date, last: datetime.date) -> list[ContactRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(ContactRequest).options(selectinload(ContactRequest.events))))
        for row in rows:
            db.session.expunge(row)
    return [row for row in rows if first <= local_day(row.received_at) <= last]


def utc(at: datetime.datetime) -> datetime.datetime:
    return at if at.tzinfo else at.replace(tzinfo=datetime.UTC)


def test_usage_figures_match_the_counters(seeded: Flask, admin: FlaskClient) -> None:
    first, last = last_four_weeks()
    with seeded.app_context():
        counted: Counter[tuple[str, str]] = Counter()
        for row in db.session.scalars(select(UsageCount)):
            if first <= row.day <= last:
                counted[(row.metric, row.key)] += row.count
    started = counted[("started", "en")] + counted[("started", "es")]
    assert started > 100  # six weeks of made-up journeys
    found = figures_csv(admin)
    assert found[("period", "first_day", "", "")] == first.isoformat()
    assert int(found[("usage", "started", "", "")]) == started
    for slug in ("about-you", "warning-signs", "neck", "headaches", "treatment"):
        assert int(found[("usage", "page_sent", "", slug)]) == counted[("page", slug)]
    assert int(found[("usage", "stopped_early", "", "warning-signs")]) == counted[("early_stop", "warning-signs")] > 0
    left = counted[("page", "warning-signs")] - counted[("early_stop", "warning-signs")] - counted[("page", "neck")]
    assert int(found[("usage", "left_after_page", "", "warning-signs")]) == left
    for level in ("emergency", *LEVELS_WITH_TARGETS):
        assert int(found[("usage", "result", "", level)]) == counted[("result", level)]
        assert int(found[("usage", "contact_request", "", level)]) == counted[("contact_request", level)]
    assert int(found[("usage", "started_by_language", "", "es")]) == counted[("started", "es")] > 0

    page = check_page(admin.get("/staff/dashboard?period=4weeks").data)
    journey = page.find("figure", id="chart-journey")
    assert journey is not None
    first_row = journey.find("tbody").find("tr")
    assert text_of(first_row) == f"Started the check {started} – –"
    assert f"{started} checks started" in text_of(journey.find("p", class_="chart__summary"))


def test_the_seeded_requests_agree_with_the_counters(seeded: Flask) -> None:
    """Each made-up contact request is counted on its day, by its level: the two stores tell one story."""
    first = today() - datetime.timedelta(weeks=6) + datetime.timedelta(days=1)
    rows = requests_in(seeded, first, today())
    counted: Counter[str] = Counter()
    with seeded.app_context():
        for row in db.session.scalars(select(UsageCount).where(UsageCount.metric == "contact_request")):
            counted[row.key] += row.count
    assert counted == Counter(row.level for row in rows)
    assert len(rows) > 50


def nearest_rank_p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def test_desk_speed_matches_the_calls(seeded: Flask, admin: FlaskClient) -> None:
    first, last = last_four_weeks()
    hours = desk.parse_hours(None)
    now = datetime.datetime.now(datetime.UTC)
    found = figures_csv(admin)
    checked = 0
    for level in LEVELS_WITH_TARGETS:
        rows = [row for row in requests_in(seeded, first, last) if row.level == level]
        waits, met, missed = [], 0, 0
        for row in rows:
            calls = [utc(event.at) for event in row.events if event.attempt]
            due = desk.due_at(row.received_at, row.level, hours)
            assert due is not None
            if calls:
                waits.append((min(calls) - utc(row.received_at)).total_seconds() / 60)
                met, missed = (met + 1, missed) if min(calls) <= due else (met, missed + 1)
            elif now > due:
                missed += 1
        assert int(found[("desk", "requests", "period", level)]) == len(rows)
        assert int(found[("desk", "called", "period", level)]) == len(waits)
        assert int(found[("desk", "met_target", "period", level)]) == met
        assert int(found[("desk", "missed_target", "period", level)]) == missed
        if waits:
            checked += 1
            assert float(found[("desk", "median_minutes", "period", level)]) == round(statistics.median(waits), 1)
            assert float(found[("desk", "p90_minutes", "period", level)]) == round(nearest_rank_p90(waits), 1)
            assert float(found[("desk", "share_met", "period", level)]) == round(met / (met + missed), 4)
    assert checked >= 3
    with seeded.app_context():
        waiting = db.session.scalars(select(ContactRequest).where(ContactRequest.status == "new")).all()
        overdue = Counter(row.level for row in waiting if now > (desk.due_at(row.received_at, row.level, hours) or now))
    for level in LEVELS_WITH_TARGETS:
        assert int(found[("desk", "overdue_now", "", level)]) == overdue[level]


def test_the_weeks_add_up_to_the_period(seeded: Flask, admin: FlaskClient) -> None:
    found = figures_csv(admin)
    first, _ = last_four_weeks()
    weeks = [(first + datetime.timedelta(weeks=n)).isoformat() for n in range(4)]
    for level in LEVELS_WITH_TARGETS:
        per_week = [int(found[("desk", "requests", week, level)]) for week in weeks]
        assert sum(per_week) == int(found[("desk", "requests", "period", level)])


def test_verdicts_match_what_clinicians_recorded(seeded: Flask, admin: FlaskClient) -> None:
    first, last = last_four_weeks()
    rank = {"emergency": 0, "urgent": 1, "soon": 2, "routine": 3, "self_care": 4}
    judged = [row for row in requests_in(seeded, first, last) if row.verdict]
    assert judged
    matrix = Counter((row.level, row.level if row.verdict == "right" else row.verdict_level) for row in judged)
    under = [row for row in judged if row.verdict == "more_urgent"]
    assert all(rank[row.verdict_level] < rank[row.level] for row in under)
    version = judged[0].rules_version
    found = figures_csv(admin)
    for (suggested, level), amount in matrix.items():
        assert int(found[("verdicts", "suggested_vs_judged", version, f"{suggested}>{level}")]) == amount
    assert int(found[("verdicts", "under_triage", version, "")]) == len(under)
    assert int(found[("verdicts", "right", version, "")]) == sum(row.verdict == "right" for row in judged)
    fired = Counter(reason["rule"] for row in under for reason in row.reasons)
    for rule, amount in fired.items():
        assert int(found[("verdicts", "rule_in_under_triage", version, rule)]) == amount

    page = check_page(admin.get("/staff/dashboard?period=4weeks").data)
    matrix_table = page.find("caption", string=lambda text: text and "suggested level (rows)" in text).parent
    routine_row = next(row for row in matrix_table.find("tbody").find_all("tr") if row.th.get_text() == "Routine visit")
    cells = [cell.get_text(" ", strip=True) for cell in routine_row.find_all("td")]
    assert cells[3].startswith(str(matrix[("routine", "routine")]))  # the diagonal: the same level
    assert cells[-1] == str(sum(amount for (suggested, _), amount in matrix.items() if suggested == "routine"))
    links = {link["href"] for link in page.select("a[href^='/staff/requests/']")}
    assert links == {f"/staff/requests/{row.reference}" for row in under}


def test_a_month_covers_its_days_only(seeded: Flask, admin: FlaskClient) -> None:
    last_month_end = today().replace(day=1) - datetime.timedelta(days=1)
    key = last_month_end.strftime("%Y-%m")
    found = figures_csv(admin, key)
    assert found[("period", "first_day", "", "")] == last_month_end.replace(day=1).isoformat()
    assert found[("period", "last_day", "", "")] == last_month_end.isoformat()
    rows = requests_in(seeded, last_month_end.replace(day=1), last_month_end)
    assert sum(int(found[("desk", "requests", "period", level)]) for level in LEVELS_WITH_TARGETS) == len(rows)
    report = check_page(admin.get(f"/staff/dashboard/report?period={key}").data)
    assert report.h1.get_text() == f"Monthly report: {last_month_end:%B %Y}"
    assert admin.get("/staff/dashboard/report?period=4weeks").status_code == 400  # a report is of a month
    assert admin.get("/staff/dashboard?period=1999-01").status_code == 400


def test_the_csv_is_a_download_and_is_audited(seeded: Flask, admin: FlaskClient) -> None:
    response = admin.get("/staff/dashboard.csv?period=week")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dashboard-week.csv"'
    body = response.get_data(as_text=True)
    assert "," not in body.splitlines()[1].split(",", 4)[4]  # one value a row
    with seeded.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [entry.detail for entry in entries] == ["dashboard CSV, week"]
        names = {row.name for row in db.session.scalars(select(ContactRequest))}
    assert not any(name in body for name in names)  # figures, never a person


def test_charts_are_svg_images_of_this_site_with_no_script(seeded: Flask, admin: FlaskClient) -> None:
    page = check_page(admin.get("/staff/dashboard").data)
    images = page.select("figure.chart img")
    assert len(images) == 5
    for image in images:
        assert image["alt"].startswith("Chart: ")
        response = admin.get(image["src"])
        assert response.mimetype == "image/svg+xml"
        svg = response.get_data(as_text=True)
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<script" not in svg and "javascript:" not in svg
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and all(part in policy for part in REQUIRED_CSP)
        styles = re.findall(r"<style[^>]*>(.*?)</style>", svg, re.DOTALL)
        assert styles  # pygal's styles, allowed by their hashes and by nothing else
        for style in styles:
            digest = base64.b64encode(hashlib.sha256(html.unescape(style).encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy
    narrow = admin.get(page.select_one("figure.chart source")["srcset"]).get_data(as_text=True)
    assert 'viewBox="0 0 420 ' in narrow
    assert "script-src" not in admin.get("/staff/dashboard").headers["Content-Security-Policy"]  # no inline script
    assert admin.get("/staff/dashboard/charts/nothing.svg").status_code == 404


DASHBOARD_PATHS = ("/staff/dashboard", "/staff/dashboard/report", "/staff/dashboard.csv",
                   "/staff/dashboard/charts/daily.svg")  # fmt: skip


def test_only_admins_and_clinicians_see_the_dashboard(storage_app: Flask) -> None:
    add_staff(storage_app, "desk")
    add_staff(storage_app, "doctor", clinician=True)
    desk_member, clinician, nobody = (storage_app.test_client() for _ in range(3))
    log_in(desk_member, "desk")
    log_in(clinician, "doctor")
    for path in DASHBOARD_PATHS:
        assert nobody.get(path).location.startswith("/staff/login"), path
        assert desk_member.get(path).status_code == 403, path
        assert clinician.get(path).status_code == 200, path
    assert b"Dashboard" not in desk_member.get("/staff/").data
    assert b'href="/staff/dashboard"' in clinician.get("/staff/").data


def test_an_empty_database_shows_zeros_and_says_so(storage_app: Flask) -> None:
    add_staff(storage_app, "boss", admin=True)
    client = storage_app.test_client()
    log_in(client, "boss")
    page = check_page(client.get("/staff/dashboard?period=week").data)
    assert "No check was started in this period." in text_of(page)
    assert "No clinician has judged a suggested level from this period yet." in text_of(page)
    assert client.get("/staff/dashboard/charts/journey.svg?period=week").status_code == 200


def test_seeding_is_refused_unless_the_database_is_a_demo(storage_app: Flask) -> None:
    result = seed(storage_app, "--weeks", "1")
    assert result.exit_code == 1
    assert "This is not a demo database, so nothing was written." in result.output
    with storage_app.app_context():
        assert db.session.scalars(select(ContactRequest)).first() is None
        assert db.session.scalars(select(UsageCount)).first() is None


def test_seeding_is_deterministic_and_never_adds_to_history(storage_app: Flask) -> None:
    storage_app.config["DEMO_DATABASE"] = True

    def rows() -> tuple[list[Any], list[Any]]:
        with storage_app.app_context():
            requests = [
                (r.reference, r.received_at, r.level, r.status, r.outcome, r.verdict, r.verdict_level, r.answers)
                for r in db.session.scalars(select(ContactRequest).order_by(ContactRequest.reference))
            ]
            counters = [
                (c.day, c.metric, c.key, c.count)
                for c in db.session.scalars(
                    select(UsageCount).order_by(UsageCount.day, UsageCount.metric, UsageCount.key)
                )
            ]
        return requests, counters

    assert seed(storage_app, "--weeks", "2", "--seed", "3", "--until", "2026-11-20").exit_code == 0
    first = rows()
    refused = seed(storage_app, "--weeks", "2", "--seed", "3", "--until", "2026-11-20")
    assert refused.exit_code == 1 and "add --reset" in refused.output
    assert seed(storage_app, "--weeks", "2", "--seed", "3", "--until", "2026-11-20", "--reset").exit_code == 0
    assert rows() == first
    assert first[0] and first[1]
    assert min(day for day, *_ in first[1]) == datetime.date(2026, 11, 7)
    assert seed(storage_app, "--weeks", "2", "--seed", "4", "--until", "2026-11-20", "--reset").exit_code == 0
    assert rows() != first


def test_pygal_leaves_no_import_hook_behind() -> None:
    """pygal's hook for its map plugins makes Python warn on later imports; the charts module takes it out."""
    import sys

    from symptomcheck.web import charts

    assert charts.STYLE is not None
    assert not [finder for finder in sys.meta_path if type(finder).__name__ == "PluginImportFixer"]
