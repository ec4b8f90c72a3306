"""Daily usage counters: a journey changes nothing but counters, counts each step once, and counting can be off."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import OperationalError

from examples import COMPLETE, page_posts, reaching
from symptomcheck.records import usage
from symptomcheck.records.desk import DEFAULT_DESK_HOURS
from symptomcheck.records.models import UsageCount, db
from tests.test_frontdesk import CONTACT
from tests.test_journey import Patient

TODAY = datetime.datetime.now(ZoneInfo(DEFAULT_DESK_HOURS["time_zone"])).date()  # the clinic's day


def every_row(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table in the database (not only the models'), sorted, by table."""
    with app.app_context():
        found = {}
        with db.engine.connect() as connection:
            for table in inspect(db.engine).get_table_names():
                query = text(f'SELECT * FROM "{table}"')  # noqa: S608 (the database's own table names)
                found[table] = sorted((tuple(row) for row in connection.execute(query)), key=repr)
        return found


def counters(app: Flask) -> dict[tuple[str, str], int]:
    with app.app_context():
        rows = db.session.execute(select(UsageCount.day, UsageCount.metric, UsageCount.key, UsageCount.count))
        found = {}
        for day, metric, key, amount in rows:
            assert day == TODAY  # a day, never a time
            found[(metric, key)] = amount
        return found


def test_a_whole_journey_changes_only_counters(storage_app: Flask) -> None:
    before = every_row(storage_app)
    patient = Patient(storage_app.test_client())
    patient.read("/")
    for slug, fields in page_posts(COMPLETE):
        patient.read(f"/questions/{slug}")
        patient.read(f"/questions/{slug}")  # a reload counts nothing
        patient.submit(f"/questions/{slug}", fields)
    patient.read("/check-answers")
    patient.submit("/questions/neck", dict(page_posts(COMPLETE)[2][1]))  # "Change" and send again: not a new step
    patient.read("/result")
    patient.read("/result")
    after = every_row(storage_app)

    changed = {table for table in before.keys() | after.keys() if before.get(table) != after.get(table)}
    assert changed == {"usage_count"}
    assert len(after["usage_count"][0]) == 5  # id, day, metric, key, count: no address, session or answer
    pages = [slug for slug, _ in page_posts(COMPLETE)]
    assert counters(storage_app) == {
        ("started", "en"): 1,
        **{("page", slug): 1 for slug in pages},
        ("result", "routine"): 1,
        ("pattern", "cgh_likely"): 1,
    }


def test_an_early_emergency_stop_is_counted_apart_and_a_request_by_its_level(storage_app: Flask) -> None:
    stopped = Patient(storage_app.test_client())
    for slug, fields in page_posts({**COMPLETE, "red_flags": ["thunderclap"]})[:2]:
        stopped.submit(f"/questions/{slug}", fields)
    asking = Patient(storage_app.test_client(), language="es")
    for slug, fields in page_posts(reaching("urgent")):
        asking.client.get(f"/language/es?next=/questions/{slug}")
        asking.submit(f"/questions/{slug}", fields)
    asking.submit("/contact", CONTACT)
    found = counters(storage_app)
    assert found[("early_stop", "warning-signs")] == 1
    assert found[("result", "emergency")] == 1
    assert found[("page", "about-you")] == 2 and found[("page", "warning-signs")] == 2
    assert found[("page", "neck")] == 1  # the stopped journey went no further
    assert found[("started", "en")] == 1 and found[("started", "es")] == 1
    assert found[("result", "urgent")] == 1
    assert found[("contact_request", "urgent")] == 1 and found[("contact_language", "es")] == 1


def test_counting_switched_off_counts_nothing(make_app: Callable[..., Flask]) -> None:
    app = make_app(COUNT_USAGE=False)
    patient = Patient(app.test_client())
    for slug, fields in page_posts(COMPLETE):
        patient.submit(f"/questions/{slug}", fields)
    patient.submit("/contact", CONTACT)
    assert counters(app) == {}
    assert b"Check your answers" in patient.client.get("/check-answers").data


def test_the_setting_is_read_from_the_environment(make_app: Callable[..., Flask], monkeypatch: Any) -> None:
    monkeypatch.setenv("SYMPTOMCHECK_COUNT_USAGE", "false")
    assert make_app().config["COUNT_USAGE"] is False


def test_counts_add_up_on_the_same_day(storage_app: Flask) -> None:
    with storage_app.app_context():
        usage.add({("page", "neck"): 2, ("result", "soon"): 1}, TODAY)
        usage.add({("page", "neck"): 3}, TODAY)
        usage.add({("page", "neck"): 1}, TODAY - datetime.timedelta(days=1))
        assert usage.totals(TODAY, TODAY) == {("page", "neck"): 5, ("result", "soon"): 1}
        assert usage.daily("page", TODAY - datetime.timedelta(days=2), TODAY) == {
            TODAY - datetime.timedelta(days=2): 0,
            TODAY - datetime.timedelta(days=1): 1,
            TODAY: 5,
        }


def test_counts_wait_in_the_worker_and_are_written_together(make_app: Callable[..., Flask]) -> None:
    """With USAGE_FLUSH_SECONDS, a page sent costs no database work; the counts are written at the next due count."""
    app = make_app(USAGE_FLUSH_SECONDS=3600)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    patient = Patient(app.test_client())
    first, *rest = page_posts(COMPLETE)
    patient.submit(f"/questions/{first[0]}", first[1])  # the first count is written at once: the clock starts there
    assert counters(app) == {("page", first[0]): 1, ("started", "en"): 1}
    statements.clear()
    for slug, form in rest:
        patient.submit(f"/questions/{slug}", form)
    assert not [sql for sql in statements if "usage_count" in sql]  # waiting in the worker, not in the database
    assert counters(app) == {("page", first[0]): 1, ("started", "en"): 1}
    tally = app.extensions["usage_tally"]
    tally.next_write = 0  # as if the hour had passed
    patient.submit("/contact", CONTACT)
    written = counters(app)
    assert written[("page", rest[-1][0])] == 1 and written[("contact_request", "routine")] == 1
    assert written[("result", "routine")] == 1


def test_counts_left_in_a_worker_are_written_when_it_exits(make_app: Callable[..., Flask]) -> None:
    app = make_app(USAGE_FLUSH_SECONDS=3600)
    with app.app_context():
        usage.count([("page", "about-you")])  # written at once
        usage.count([("page", "about-you"), ("page", "neck")])  # waits
    assert counters(app) == {("page", "about-you"): 1}
    usage.flush_at_exit()
    assert counters(app) == {("page", "about-you"): 2, ("page", "neck"): 1}


def test_counts_the_database_refused_are_kept_for_the_next_write(
    make_app: Callable[..., Flask], monkeypatch: Any
) -> None:
    app = make_app()
    real_add_days = usage.add_days

    def refuse(days: Any) -> None:
        raise OperationalError("INSERT", {}, ConnectionResetError("gone"))

    with app.app_context():
        monkeypatch.setattr(usage, "add_days", refuse)
        usage.count([("page", "neck")])  # refused: kept, and the page goes on
        monkeypatch.setattr(usage, "add_days", real_add_days)
        usage.count([("page", "neck")])
    assert counters(app) == {("page", "neck"): 2}
