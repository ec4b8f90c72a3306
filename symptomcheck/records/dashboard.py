"""The clinic's figures for a period: how the check is used, how fast the desk answers, whether suggestions held up.

Usage comes from the daily counters only; the desk's speed and the verdicts from the stored requests.
Days and weeks are the clinic's (its time zone); a week starts on Monday.
"""

from __future__ import annotations

import datetime
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from symptomcheck.records import desk, usage
from symptomcheck.records.models import ContactRequest, db
from symptomcheck.rules.loader import RuleSet

MONTHS_OFFERED = 12


@dataclass(frozen=True)
class Period:
    key: str  # "week", "4weeks" or a month, "2026-11"
    label: str
    start: datetime.date  # the first day
    end: datetime.date  # the last day, included

    def days(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]

    def weeks(self) -> list[datetime.date]:
        """Return the Monday of every week the period touches."""
        first = week_of(self.start)
        return [first + datetime.timedelta(weeks=n) for n in range((week_of(self.end) - first).days // 7 + 1)]


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def month_period(year: int, month: int, today: datetime.date) -> Period:
    start = datetime.date(year, month, 1)
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    last = min(following - datetime.timedelta(days=1), today)  # no days still to come
    return Period(f"{year:04d}-{month:02d}", f"{start:%B %Y}", start, last)


def period_choices(today: datetime.date) -> list[Period]:
    """Return the periods offered: this week, the last 4 weeks (this one and the three before), each of the last
    twelve months (this one first); each ends today at the latest."""
    monday = week_of(today)
    choices = [
        Period("week", "This week", monday, today),
        Period("4weeks", "The last 4 weeks", monday - datetime.timedelta(weeks=3), today),
    ]
    year, month = today.year, today.month
    for _ in range(MONTHS_OFFERED):
        choices.append(month_period(year, month, today))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def find_period(key: str, today: datetime.date) -> Period | None:
    return next((period for period in period_choices(today) if period.key == key), None)


def local_day(at: datetime.datetime, hours: desk.Hours) -> datetime.date:
    return desk.as_utc(at).astimezone(hours.zone).date()


def bounds(period: Period, hours: desk.Hours) -> tuple[datetime.datetime, datetime.datetime]:
    """Return the period's first and after-last moments, in UTC (days begin at midnight in the clinic's zone)."""
    start = datetime.datetime.combine(period.start, datetime.time(0), tzinfo=hours.zone)
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time(0), tzinfo=hours.zone)
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


# --- Usage ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageStep:
    slug: str
    title: str
    sent: int
    stopped: int  # an emergency sign on this page stopped the check: not a drop-off
    left: int | None  # sent this page but not the next one (None on the last page: its result follows at once)


@dataclass(frozen=True)
class Usage:
    started: int
    by_language: dict[str, int]
    steps: list[PageStep]
    results: dict[str, int]  # by level, most urgent first
    patterns: dict[str, int]
    contact_requests: dict[str, int]  # by level
    contact_languages: dict[str, int]
    started_per_day: dict[datetime.date, int]
    contacts_per_day: dict[datetime.date, int]

    @property
    def results_total(self) -> int:
        return sum(self.results.values())

    @property
    def contacts_total(self) -> int:
        return sum(self.contact_requests.values())


def keyed(totals: dict[tuple[str, str], int], metric: str, order: Iterable[str] = ()) -> dict[str, int]:
    """Return one metric's counts by key: the keys in `order` first (zeros included), then any other."""
    found = {key: amount for (name, key), amount in totals.items() if name == metric}
    ordered = {key: found.pop(key, 0) for key in order}
    return {**ordered, **dict(sorted(found.items()))}


def usage_figures(period: Period, rules: RuleSet) -> Usage:
    totals = usage.totals(period.start, period.end)
    pages = usage.pages()
    sent = [totals.get(("page", slug), 0) for slug, _, _ in pages]
    stopped = [totals.get(("early_stop", slug), 0) for slug, _, _ in pages]
    steps = [
        PageStep(slug, title, sent[n], stopped[n], sent[n] - stopped[n] - sent[n + 1] if n + 1 < len(pages) else None)
        for n, (slug, title, _) in enumerate(pages)
    ]
    levels = [level.id for level in rules.levels]
    return Usage(
        started=sum(keyed(totals, "started").values()),
        by_language=keyed(totals, "started", ("en", "es")),
        steps=steps,
        results=keyed(totals, "result", levels),
        patterns=keyed(totals, "pattern", [pattern.id for pattern in rules.patterns]),
        contact_requests=keyed(totals, "contact_request", levels),
        contact_languages=keyed(totals, "contact_language", ("en", "es")),
        started_per_day=usage.daily("started", period.start, period.end),
        contacts_per_day=usage.daily("contact_request", period.start, period.end),
    )


# --- The desk's speed -----------------------------------------------------------------------------------------


def nearest_rank(values: Sequence[float], share: float) -> float:
    """Return the percentile by nearest rank: the smallest value with at least `share` of the values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class SpeedCell:
    """One level in one week (or the whole period): how long the first call took, and the target."""

    requests: int = 0
    minutes: list[float] = field(default_factory=list)  # request to first contact attempt, clock time
    met: int = 0  # first attempt by the due time
    missed: int = 0  # first attempt after it, or none yet and the due time has passed
    waiting: int = 0  # no attempt yet, not due yet

    @property
    def median(self) -> float | None:
        return statistics.median(self.minutes) if self.minutes else None

    @property
    def p90(self) -> float | None:
        return nearest_rank(self.minutes, 0.9) if self.minutes else None

    @property
    def share_met(self) -> float | None:
        judged = self.met + self.missed
        return self.met / judged if judged else None


@dataclass(frozen=True)
class Speed:
    levels: list[str]  # the levels with a target, most urgent first
    weeks: list[datetime.date]
    cells: dict[tuple[str, datetime.date], SpeedCell]
    whole: dict[str, SpeedCell]  # per level, the whole period
    overdue_now: dict[str, int]  # per level, every open request now, whatever the period


def first_attempt(request: ContactRequest) -> datetime.datetime | None:
    times = [desk.as_utc(event.at) for event in request.events if event.attempt]
    return min(times) if times else None


def received_in(period: Period, hours: desk.Hours) -> list[ContactRequest]:
    start, end = bounds(period, hours)
    query = (
        select(ContactRequest)
        .where(ContactRequest.received_at >= start, ContactRequest.received_at < end)
        .options(selectinload(ContactRequest.events))
        .order_by(ContactRequest.received_at)
    )
    return list(db.session.scalars(query))


def speed_figures(period: Period, rules: RuleSet, hours: desk.Hours, at: datetime.datetime) -> Speed:
    levels = [level.id for level in rules.levels if level.id in hours.targets]
    weeks = period.weeks()
    cells = {(level, week): SpeedCell() for level in levels for week in weeks}
    whole = {level: SpeedCell() for level in levels}
    for request in received_in(period, hours):
        if request.level not in whole:
            continue
        due = desk.due_at(request.received_at, request.level, hours)
        called = first_attempt(request)
        week = week_of(local_day(request.received_at, hours))
        for cell in (cells[(request.level, week)], whole[request.level]):
            cell.requests += 1
            if called is not None:
                cell.minutes.append((called - desk.as_utc(request.received_at)).total_seconds() / 60)
            if called is not None and due is not None and called <= due:
                cell.met += 1
            elif called is not None or (due is not None and desk.as_utc(at) > due):
                cell.missed += 1
            else:
                cell.waiting += 1
    overdue: Counter[str] = Counter()
    waiting = db.session.scalars(select(ContactRequest).where(ContactRequest.status == "new"))
    for request in waiting:
        if desk.is_overdue(desk.due_at(request.received_at, request.level, hours), request.status, at):
            overdue[request.level] += 1
    return Speed(levels, weeks, cells, whole, {level: overdue[level] for level in levels})


def active_levels(speed: Speed) -> list[str]:
    """Return the levels that had a request in the period or have one overdue now (emergencies are rarely stored)."""
    return [level for level in speed.levels if speed.whole[level].requests or speed.overdue_now[level]]


# --- Were the suggestions right? ------------------------------------------------------------------------------

NOT_GIVEN = "not_given"  # a verdict of more or less urgent without the level the clinician judged right


@dataclass(frozen=True)
class Case:
    reference: str
    received_at: datetime.datetime
    suggested: str
    judged: str
    rules: list[str]


@dataclass
class VersionVerdicts:
    version: str
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)  # (suggested, judged) -> requests
    right: int = 0
    under: list[Case] = field(default_factory=list)  # the clinician judged it more urgent
    over: int = 0

    @property
    def judged(self) -> int:
        return sum(self.matrix.values())

    def columns(self, levels: Sequence[str]) -> list[str]:
        """Return the matrix's columns: the levels, and 'level not given' when a verdict left it out."""
        return [*levels, *([NOT_GIVEN] if any(judged == NOT_GIVEN for _, judged in self.matrix) else [])]

    def row_total(self, suggested: str) -> int:
        return sum(amount for (level, _), amount in self.matrix.items() if level == suggested)

    def rules_in_under_triage(self) -> list[tuple[str, int]]:
        fired: Counter[str] = Counter(rule for case in self.under for rule in case.rules)
        return sorted(fired.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Verdicts:
    levels: list[str]  # the rows and columns of every matrix, most urgent first
    versions: list[VersionVerdicts]  # newest first (by the latest request of each)
    closed: int  # requests of the period with an outcome recorded
    outcomes: dict[str, int]


def verdict_figures(period: Period, rules: RuleSet, hours: desk.Hours) -> Verdicts:
    rank = {level.id: level.rank for level in rules.levels}
    by_version: dict[str, VersionVerdicts] = {}
    outcomes: Counter[str] = Counter()
    for request in received_in(period, hours):
        if request.outcome:
            outcomes[request.outcome] += 1
        if not request.verdict:
            continue
        judged = request.level if request.verdict == "right" else (request.verdict_level or NOT_GIVEN)
        found = by_version.setdefault(request.rules_version, VersionVerdicts(request.rules_version))
        found.matrix[(request.level, judged)] += 1
        under = request.verdict == "more_urgent" or (
            judged in rank and request.level in rank and rank[judged] < rank[request.level]
        )
        if request.verdict == "right" or judged == request.level:
            found.right += 1
        elif under:
            rules_fired = [reason.get("rule", "") for reason in request.reasons or []]
            found.under.append(Case(request.reference, request.received_at, request.level, judged, rules_fired))
        else:
            found.over += 1
    versions = sorted(by_version.values(), key=lambda item: item.version, reverse=True)
    return Verdicts(list(rank), versions, sum(outcomes.values()), dict(outcomes))
