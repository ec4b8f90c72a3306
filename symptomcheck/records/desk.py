"""The desk's opening hours and response targets, and the due time they give a request: pure functions.

A target is read from one line of the configuration ("1 working hour", "same working day",
"2 working days"); working time only runs while the desk is open.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# One place for the desk's hours and targets; DESK_HOURS in the configuration overrides any key.
DEFAULT_DESK_HOURS: dict[str, Any] = {
    "time_zone": "America/New_York",
    "week": {
        "mon": "08:00-18:00",
        "tue": "08:00-18:00",
        "wed": "08:00-18:00",
        "thu": "08:00-18:00",
        "fri": "08:00-17:00",
        "sat": None,
        "sun": None,
    },
    "holidays": [],  # dates such as "2026-12-25"
    "targets": {
        "emergency": "15 working minutes",  # an emergency is not normally stored: the person is told to call 911
        "urgent": "1 working hour",
        "soon": "same working day",
        "routine": "2 working days",
        "self_care": "5 working days",
    },
}

# The levels and patterns in the desk's words (the patient's words are instructions: "Get medical care today.").
LEVEL_WORDS = {
    "emergency": "Emergency",
    "urgent": "Urgent (care today)",
    "soon": "Soon (within a week)",
    "routine": "Routine visit",
    "self_care": "Self-care",
}
PATTERN_WORDS = {
    "unclear": "Unclear where it starts",
    "cgh_likely": "Likely from the neck",
    "cgh_possible": "Possibly from the neck",
    "other_pattern": "More like another headache (e.g. migraine)",
}

TARGET = re.compile(r"(?:(?P<amount>\d+) working (?P<unit>minute|hour|day)s?|(?P<same>same working day))")


@dataclass(frozen=True)
class Target:
    unit: str  # "minutes", "days" or "same_day"
    amount: int

    def __str__(self) -> str:
        if self.unit == "same_day":
            return "same working day"
        if self.unit == "days":
            return f"{self.amount} working day{'s' if self.amount != 1 else ''}"
        hours, minutes = divmod(self.amount, 60)
        if minutes == 0:
            return f"{hours} working hour{'s' if hours != 1 else ''}"
        return f"{self.amount} working minutes"


@dataclass(frozen=True)
class Hours:
    zone: ZoneInfo
    week: tuple[tuple[datetime.time, datetime.time] | None, ...]  # Monday first
    holidays: frozenset[datetime.date]
    targets: Mapping[str, Target]

    def opening(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime] | None:
        """Return when the desk opens and closes on a day (in the clinic's zone), or None when it is closed."""
        times = self.week[day.weekday()]
        if times is None or day in self.holidays:
            return None
        start, end = times
        return (
            datetime.datetime.combine(day, start, tzinfo=self.zone),
            datetime.datetime.combine(day, end, tzinfo=self.zone),
        )


def parse_target(text: str) -> Target:
    """Read a target such as '1 working hour', '90 working minutes', 'same working day' or '2 working days'."""
    match = TARGET.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a target; write e.g. '1 working hour', 'same working day', '2 working days'")
    if match["same"]:
        return Target("same_day", 0)
    amount = int(match["amount"])
    if match["unit"] == "day":
        return Target("days", amount)
    return Target("minutes", amount * 60 if match["unit"] == "hour" else amount)


def parse_span(text: str) -> tuple[datetime.time, datetime.time]:
    start, _, end = text.partition("-")
    opens, closes = datetime.time.fromisoformat(start.strip()), datetime.time.fromisoformat(end.strip())
    if closes <= opens:
        raise ValueError(f"{text!r}: the desk must close after it opens")
    return opens, closes


def parse_hours(setting: Mapping[str, Any] | None = None) -> Hours:
    """Read DESK_HOURS (any key left out keeps its default); raise ValueError on anything unusable."""
    merged = {**DEFAULT_DESK_HOURS, **(setting or {})}
    week_setting = {**DEFAULT_DESK_HOURS["week"], **merged["week"]}
    unknown = set(week_setting) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday(s) {sorted(unknown)} in DESK_HOURS; use {', '.join(WEEKDAYS)}")
    week = tuple(parse_span(week_setting[day]) if week_setting[day] else None for day in WEEKDAYS)
    if not any(week):
        raise ValueError("DESK_HOURS: the desk must be open on at least one weekday")
    targets = {
        level: parse_target(text) for level, text in {**DEFAULT_DESK_HOURS["targets"], **merged["targets"]}.items()
    }
    return Hours(
        zone=ZoneInfo(merged["time_zone"]),
        week=week,
        holidays=frozenset(datetime.date.fromisoformat(str(day)) for day in merged["holidays"]),
        targets=targets,
    )


def as_utc(at: datetime.datetime) -> datetime.datetime:
    """Return an aware time; SQLite gives back stored UTC times without their zone."""
    return at if at.tzinfo is not None else at.replace(tzinfo=datetime.UTC)


def next_working_day(day: datetime.date, hours: Hours) -> datetime.date:
    """Return the first day after this one on which the desk opens."""
    for _ in range(400):  # a year of holidays at most
        day += datetime.timedelta(days=1)
        if hours.opening(day):
            return day
    raise ValueError("the desk never opens in the coming year")


def is_open(at: datetime.datetime, hours: Hours) -> bool:
    """Say whether the desk is open at this moment."""
    local = as_utc(at).astimezone(hours.zone)
    opening = hours.opening(local.date())
    return opening is not None and opening[0] <= local < opening[1]


def add_working_minutes(start: datetime.datetime, minutes: int, hours: Hours) -> datetime.datetime:
    """Return the moment `minutes` of opening time after `start` (the next opening, for 0 out of hours)."""
    local = as_utc(start).astimezone(hours.zone)
    day = local.date()
    left = datetime.timedelta(minutes=minutes)
    while True:
        opening = hours.opening(day)
        if opening is not None:
            begin, end = max(opening[0], local), opening[1]
            if begin < end:
                if begin + left <= end:
                    return begin + left
                left -= end - begin
        day = next_working_day(day, hours)
        local = datetime.datetime.combine(day, datetime.time(0), tzinfo=hours.zone)


def close_of_day(day: datetime.date, hours: Hours) -> datetime.datetime:
    opening = hours.opening(day)
    assert opening is not None
    return opening[1]


def due_at(received_at: datetime.datetime, level: str, hours: Hours) -> datetime.datetime | None:
    """Return when a request received then must have been answered (in UTC), or None for a level with no target."""
    target = hours.targets.get(level)
    if target is None:
        return None
    local = as_utc(received_at).astimezone(hours.zone)
    if target.unit == "minutes":
        due = add_working_minutes(local, target.amount, hours)
    elif target.unit == "same_day":
        today = hours.opening(local.date())
        day = local.date() if today and local < today[1] else next_working_day(local.date(), hours)
        due = close_of_day(day, hours)
    else:  # the close of the Nth working day after the day it arrived
        day = local.date()
        for _ in range(target.amount):
            day = next_working_day(day, hours)
        due = close_of_day(day, hours)
    return due.astimezone(datetime.UTC)


def next_call_window(received_at: datetime.datetime, level: str, hours: Hours) -> datetime.datetime:
    """Return, in the clinic's time zone, the latest time the clinic will call about a request (for patient pages)."""
    due = due_at(received_at, level, hours)
    if due is None:
        raise ValueError(f"no response target for level {level!r}")
    return due.astimezone(hours.zone)


def is_overdue(due: datetime.datetime | None, status: str, at: datetime.datetime) -> bool:
    """Say whether a request still waiting for its first contact is past its due time."""
    return due is not None and status == "new" and as_utc(at) > due


def waited(received_at: datetime.datetime, at: datetime.datetime) -> str:
    """Return how long a request has waited, in clock time: '12 min', '3 h 05 min', '2 d 4 h'."""
    return clock_span(max(0, int((as_utc(at) - as_utc(received_at)).total_seconds() // 60)))


def clock_span(minutes: int) -> str:
    """Say a span of whole minutes shortly: '12 min', '3 h 05 min', '2 d 4 h'."""
    days, minutes = divmod(minutes, 24 * 60)
    hours_, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours_} h"
    if hours_:
        return f"{hours_} h {minutes:02d} min"
    return f"{minutes} min"
