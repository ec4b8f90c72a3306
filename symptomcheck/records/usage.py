"""Daily counters of how the self-check is used: one number per day and thing counted, never a row per visit.

What is counted (metric: key), on the day it happens:
- started: the language      the first page of questions was sent
- page: the page's slug       a page of questions was sent for the first time in a journey
- early_stop: the page's slug  the answers on that page meant an emergency, so the check stopped there
- result: the level           the check reached a result (the last page sent, or an early stop)
- pattern: the pattern        ... and the pattern its answers share, when there is one
- contact_request: the level  a person asked the clinic to contact them
- contact_language: language  ... in this language

Counted on the POST that moves a journey forward (a page whose questions had no answer yet), so a reload,
going back or changing an answer counts nothing again, and nothing about the person is kept to know it.
Never counted: an address, a session or browser id, an answer, a time finer than the day.
SYMPTOMCHECK_COUNT_USAGE=false turns all of it off; a phone intake is not counted either (the view says so).

Each worker adds up its counts in memory and writes them in one statement at most every
USAGE_FLUSH_SECONDS (10), at the first count after that, and when the worker exits: a page sent costs
no database work, and a worker killed outright loses at most those seconds of counts.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from symptomcheck.records.contact_requests import page_language
from symptomcheck.records.models import UsageCount, db
from symptomcheck.rules.engine import InvalidAnswers, assess_submission, stops_early
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.questions import BY_ID

log = logging.getLogger(__name__)
METRICS = ("started", "page", "early_stop", "result", "pattern", "contact_request", "contact_language")
Key = tuple[str, str]  # (metric, key)


def init_app(app: Flask, pages: Sequence[tuple[str, str, Sequence[str]]]) -> None:
    """Keep the pages of questions in order (slug, title, answer ids): the counters and the dashboard read them."""
    app.config.setdefault("COUNT_USAGE", True)
    app.config.setdefault("USAGE_FLUSH_SECONDS", 10)
    app.extensions["usage_pages"] = tuple((slug, title, tuple(answer_ids)) for slug, title, answer_ids in pages)
    app.extensions["usage_tally"] = Tally()
    APPS.add(app)


class Tally:
    """The counts a worker has not written yet, by day: added to under a lock, taken whole to be written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.days: dict[datetime.date, Counter[Key]] = {}
        self.next_write = 0.0

    def add(self, day: datetime.date, events: Iterable[Key]) -> None:
        with self.lock:
            self.days.setdefault(day, Counter()).update(events)

    def due(self, every: float, now: bool = False) -> dict[datetime.date, Counter[Key]]:
        """Take the counts to write, if `every` seconds have passed since the last write, or `now` (else nothing)."""
        with self.lock:
            moment = time.monotonic()
            if (moment < self.next_write and not now) or not self.days:
                return {}
            self.next_write = moment + every
            taken, self.days = self.days, {}
        return taken

    def put_back(self, taken: Mapping[datetime.date, Counter[Key]]) -> None:
        """Keep counts that could not be written, to write them with the next ones."""
        with self.lock:
            for day, counts in taken.items():
                self.days.setdefault(day, Counter()).update(counts)


APPS: weakref.WeakSet[Flask] = weakref.WeakSet()  # the apps of this process, each with its tally


@atexit.register
def flush_at_exit() -> None:
    """Write what a worker still holds when it exits (gunicorn's workers exit through sys.exit)."""
    for app in list(APPS):
        tally: Tally = app.extensions["usage_tally"]
        if tally.days:
            with app.app_context():
                write(tally, every=0, now=True)


def write(tally: Tally, every: float, now: bool = False) -> None:
    """Write the counts that are due; keep them for later if the database refuses (one log line)."""
    taken = tally.due(every, now)
    if not taken:
        return
    try:
        add_days(taken)
    except SQLAlchemyError as exc:
        db.session.rollback()
        tally.put_back(taken)
        log.warning("Usage not counted yet (%s); kept for the next try.", type(exc).__name__)


def pages() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    found: tuple[tuple[str, str, tuple[str, ...]], ...] = current_app.extensions["usage_pages"]
    return found


def today() -> datetime.date:
    """Return today's date in the clinic's time zone: the counters' days are the clinic's days."""
    return datetime.datetime.now(current_app.extensions["desk_hours"].zone).date()


def add(counts: Mapping[Key, int], day: datetime.date | None = None) -> None:
    """Add to the day's counters in one transaction: an upsert that adds, so two workers never lose a count."""
    add_days({day or today(): counts})


def add_days(days: Mapping[datetime.date, Mapping[Key, int]]) -> None:
    """Add to the counters of several days at once (one statement, one commit)."""
    rows = [
        {"day": day, "metric": metric, "key": key, "count": amount}
        for day, counts in sorted(days.items())
        for (metric, key), amount in sorted(counts.items())
    ]
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UsageCount)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "metric", "key"], set_={"count": UsageCount.count + statement.excluded["count"]}
    )
    db.session.execute(statement, rows)
    db.session.commit()


def count(events: Iterable[Key]) -> None:
    """Count these events today, unless counting is off; a failure to count never stops the person's journey."""
    config = current_app.config
    if not config["COUNT_USAGE"] or config.get("DATABASE_PROBLEM"):
        return
    tally: Tally = current_app.extensions["usage_tally"]
    tally.add(today(), events)
    write(tally, float(config["USAGE_FLUSH_SECONDS"]))


def page_sent(rules: RuleSet, slug: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Count a page sent, if it moves the journey forward: the page, an early stop or a result, and a start."""
    order = [page_slug for page_slug, _, _ in pages()]
    answer_ids = {page_slug: ids for page_slug, _, ids in pages()}[slug]
    if any(answer_id in before for answer_id in answer_ids):
        return  # changed, not new: already counted
    events = [("page", slug)]
    if order.index(slug) == 0:
        events.append(("started", page_language() or ""))
    if stops_early(rules, after):
        events += [("early_stop", slug), ("result", rules.most_urgent.id)]
    elif all(answer_id in after for answer_id in BY_ID):
        try:
            result = assess_submission(rules, after)
        except InvalidAnswers:
            result = None
        if result is not None:
            events.append(("result", result.level.id))
            if result.pattern:
                events.append(("pattern", result.pattern.id))
    count(events)


def contact_sent(level: str) -> None:
    """Count a contact request, by its level and the pages' language."""
    count([("contact_request", level), ("contact_language", page_language() or "")])


def totals(start: datetime.date, end: datetime.date) -> dict[Key, int]:
    """Return each counter summed over the days from start to end (both included)."""
    rows = db.session.execute(
        select(UsageCount.metric, UsageCount.key, UsageCount.count).where(
            UsageCount.day >= start, UsageCount.day <= end
        )
    )
    summed: Counter[Key] = Counter()
    for metric, key, amount in rows:
        summed[(metric, key)] += amount
    return dict(summed)


def daily(metric: str, start: datetime.date, end: datetime.date) -> dict[datetime.date, int]:
    """Return one metric's count per day (all keys together), every day of the period listed."""
    per_day = {start + datetime.timedelta(days=offset): 0 for offset in range((end - start).days + 1)}
    rows = db.session.execute(
        select(UsageCount.day, UsageCount.count).where(
            UsageCount.metric == metric, UsageCount.day >= start, UsageCount.day <= end
        )
    )
    for day, amount in rows:
        per_day[day] += amount
    return per_day
