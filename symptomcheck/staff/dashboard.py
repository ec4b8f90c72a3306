"""The clinic's dashboard: the period's figures, their charts with a sentence each, and the same figures as CSV."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from symptomcheck.records import dashboard, desk
from symptomcheck.records.dashboard import Period, SpeedCell, active_levels
from symptomcheck.rules.loader import RuleSet

LANGUAGE_WORDS = {"en": "English", "es": "Spanish", "": "Not known"}
# Each level keeps its colour in every chart, whichever levels a period has (the queue's tag colours).
LEVEL_COLOURS = {"emergency": "#b10e1e", "urgent": "#d4351c", "soon": "#b35900", "routine": "#1d4f91",
                 "self_care": "#00703c"}  # fmt: skip


if TYPE_CHECKING:
    from symptomcheck.web import charts


def drawn() -> Any:
    """Return the charts module, imported when a chart is drawn: pygal stays out of workers that never draw one."""
    from symptomcheck.web import charts

    return charts


@dataclass(frozen=True)
class Figures:
    period: Period
    usage: dashboard.Usage
    speed: dashboard.Speed
    verdicts: dashboard.Verdicts
    at: datetime.datetime


def figures(period: Period, rules: RuleSet, hours: desk.Hours, at: datetime.datetime) -> Figures:
    return Figures(
        period,
        dashboard.usage_figures(period, rules),
        dashboard.speed_figures(period, rules, hours, at),
        dashboard.verdict_figures(period, rules, hours),
        at,
    )


def level_word(level: str) -> str:
    return desk.LEVEL_WORDS.get(level, "Level not given" if level == dashboard.NOT_GIVEN else level)


def pattern_word(pattern: str) -> str:
    return desk.PATTERN_WORDS.get(pattern, pattern)


def duration(minutes: float | None) -> str:
    """Say a span of clock time shortly: '40 min', '3 h 05 min', '2 d 4 h'; a dash for none."""
    return "–" if minutes is None else desk.clock_span(round(minutes))


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def share_of(part: int, whole: int) -> str:
    return percent(part / whole if whole else None)


# --- Sentences that say what each chart shows --------------------------------------------------------------------


def journey_summary(usage: dashboard.Usage) -> str:
    if not usage.started:
        return "No check was started in this period."
    said = (
        f"{usage.started} checks started; {usage.results_total} reached a result"
        f" ({share_of(usage.results_total, usage.started)}), and {usage.contacts_total} people asked to be contacted."
    )
    left = [step for step in usage.steps if step.left]
    if left:
        most = max(left, key=lambda step: step.left or 0)
        said += f" Most people who stopped left after “{most.title}” ({most.left})."
    stopped = sum(step.stopped for step in usage.steps)
    if stopped:
        said += f" {stopped} stopped early because of an emergency sign, and were told to call for help now."
    return said


def results_summary(usage: dashboard.Usage) -> str:
    if not usage.results_total:
        return "No check reached a result in this period."
    level, most = max(usage.results.items(), key=lambda item: item[1])
    return (
        f"The most common result was {level_word(level)}: {most} of {usage.results_total}"
        f" ({share_of(most, usage.results_total)})."
    )


def daily_summary(usage: dashboard.Usage) -> str:
    if not usage.started:
        return "No check was started in this period."
    day, most = max(usage.started_per_day.items(), key=lambda item: item[1])
    days = len(usage.started_per_day)
    return (
        f"On average {usage.started / days:.1f} checks started a day and {usage.contacts_total / days:.1f}"
        f" contact requests came in; the busiest day was {day:%A %-d %B} ({most} checks)."
    )


def speed_summary(speed: dashboard.Speed) -> str:
    said = []
    for level in speed.levels:
        cell = speed.whole[level]
        if cell.met + cell.missed:
            said.append(
                f"{level_word(level)}: {percent(cell.share_met)} called within the target"
                f" (median {duration(cell.median)})"
            )
    if not said:
        return "No request of this period has reached its due time or been called yet."
    overdue = sum(speed.overdue_now.values())
    return "; ".join(said) + f". Overdue now: {overdue}."


def verdict_summary(verdicts: dashboard.Verdicts) -> str:
    judged = sum(version.judged for version in verdicts.versions)
    if not judged:
        return "No clinician has judged a suggested level from this period yet."
    right = sum(version.right for version in verdicts.versions)
    under = sum(len(version.under) for version in verdicts.versions)
    over = sum(version.over for version in verdicts.versions)
    return (
        f"Clinicians judged {judged} suggested levels: {right} right ({share_of(right, judged)}),"
        f" {under} should have been more urgent (under-triage) and {over} less urgent."
    )


# --- The charts ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    summary: str
    draw: Callable[[bool], charts.Drawing]  # narrow: for a phone


def chart_list(found: Figures) -> list[Chart]:
    usage, speed, verdicts = found.usage, found.speed, found.verdicts
    steps = [("Started the check", usage.started)] + [(f"Sent “{step.title}”", step.sent) for step in usage.steps]
    steps += [("Reached a result", usage.results_total), ("Asked to be contacted", usage.contacts_total)]
    weeks = [f"{week:%-d %b}" for week in speed.weeks]
    return [
        Chart(
            "journey",
            "How far people went",
            journey_summary(usage),
            lambda narrow: drawn().horizontal_bars(
                [label for label, _ in steps], {"People": [value for _, value in steps]}, narrow=narrow
            ),
        ),
        Chart(
            "results",
            "Results and contact requests by level",
            results_summary(usage),
            lambda narrow: drawn().horizontal_bars(
                [level_word(level) for level in usage.results],
                {
                    "Results": list(usage.results.values()),
                    "Contact requests": [usage.contact_requests.get(level, 0) for level in usage.results],
                },
                narrow=narrow,
            ),
        ),
        Chart(
            "daily",
            "Checks started and contact requests, day by day",
            daily_summary(usage),
            lambda narrow: drawn().lines(
                [f"{day:%-d %b}" for day in usage.started_per_day],
                {
                    "Checks started": list(usage.started_per_day.values()),
                    "Contact requests": list(usage.contacts_per_day.values()),
                },
                narrow=narrow,
            ),
        ),
        Chart(
            "speed",
            "Share of requests called within the target, week by week",
            speed_summary(speed),
            lambda narrow: drawn().bars(
                weeks,
                {
                    level_word(level): [share_as_number(speed.cells[(level, week)]) for week in speed.weeks]
                    for level in dashboard.active_levels(speed)
                },
                percent=True,
                narrow=narrow,
                colours=[LEVEL_COLOURS.get(level, "#505a5f") for level in dashboard.active_levels(speed)],
            ),
        ),
        Chart(
            "verdicts",
            "Clinicians' verdicts on the suggested level",
            verdict_summary(verdicts),
            lambda narrow: drawn().horizontal_bars(
                [f"Rule set {version.version}" for version in verdicts.versions],
                {
                    "Right": [version.right for version in verdicts.versions],
                    "More urgent": [len(version.under) for version in verdicts.versions],
                    "Less urgent": [version.over for version in verdicts.versions],
                },
                narrow=narrow,
            ),
        ),
    ]


def share_as_number(cell: SpeedCell) -> float | None:
    return None if cell.share_met is None else round(cell.share_met * 100, 1)


# --- CSV -------------------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "figure", "group", "key", "value")


def csv_rows(found: Figures) -> Iterator[tuple[str, str, str, str, str | int | float]]:
    """Yield every figure on the dashboard, one per row: the same numbers as the page."""
    usage, speed, verdicts = found.usage, found.speed, found.verdicts
    yield ("period", "first_day", "", "", found.period.start.isoformat())
    yield ("period", "last_day", "", "", found.period.end.isoformat())
    yield ("usage", "started", "", "", usage.started)
    for language, amount in usage.by_language.items():
        yield ("usage", "started_by_language", "", language, amount)
    for step in usage.steps:
        yield ("usage", "page_sent", "", step.slug, step.sent)
        yield ("usage", "stopped_early", "", step.slug, step.stopped)
        if step.left is not None:
            yield ("usage", "left_after_page", "", step.slug, step.left)
    for level, amount in usage.results.items():
        yield ("usage", "result", "", level, amount)
    for pattern, amount in usage.patterns.items():
        yield ("usage", "pattern", "", pattern, amount)
    for level, amount in usage.contact_requests.items():
        yield ("usage", "contact_request", "", level, amount)
    for language, amount in usage.contact_languages.items():
        yield ("usage", "contact_request_by_language", "", language, amount)
    for day, amount in usage.started_per_day.items():
        yield ("usage", "started_on_day", day.isoformat(), "", amount)
    for day, amount in usage.contacts_per_day.items():
        yield ("usage", "contact_requests_on_day", day.isoformat(), "", amount)
    cells = [("period", level, speed.whole[level]) for level in speed.levels]
    cells += [(week.isoformat(), level, speed.cells[(level, week)]) for week in speed.weeks for level in speed.levels]
    for group, level, cell in cells:
        yield ("desk", "requests", group, level, cell.requests)
        yield ("desk", "called", group, level, len(cell.minutes))
        yield ("desk", "met_target", group, level, cell.met)
        yield ("desk", "missed_target", group, level, cell.missed)
        yield ("desk", "not_due_yet", group, level, cell.waiting)
        yield ("desk", "share_met", group, level, "" if cell.share_met is None else round(cell.share_met, 4))
        yield ("desk", "median_minutes", group, level, "" if cell.median is None else round(cell.median, 1))
        yield ("desk", "p90_minutes", group, level, "" if cell.p90 is None else round(cell.p90, 1))
    for level, amount in speed.overdue_now.items():
        yield ("desk", "overdue_now", "", level, amount)
    for outcome, amount in verdicts.outcomes.items():
        yield ("outcomes", "outcome", "", outcome, amount)
    for version in verdicts.versions:
        for (suggested, judged), amount in sorted(version.matrix.items()):
            yield ("verdicts", "suggested_vs_judged", version.version, f"{suggested}>{judged}", amount)
        yield ("verdicts", "right", version.version, "", version.right)
        yield ("verdicts", "under_triage", version.version, "", len(version.under))
        yield ("verdicts", "over_triage", version.version, "", version.over)
        for rule, amount in version.rules_in_under_triage():
            yield ("verdicts", "rule_in_under_triage", version.version, rule, amount)


def as_csv(found: Figures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(found))
    return out.getvalue()


__all__ = ["active_levels"]  # the templates read it from here, with the words
