"""When the clinic will call: the words the contact form and its confirmation say, from the desk's hours and targets."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from babel.dates import format_date, format_time

from symptomcheck.records import desk, models
from symptomcheck.web.i18n import N_, gettext, language

CLOSED_NOW = N_("We are closed now.")
# "call" when the person gave a phone number (or has not said yet, on the form); "contact" for an email only.
TODAY = {"call": N_("We will call you by %(time)s today."), "contact": N_("We will contact you by %(time)s today.")}
MORNING = {
    "call": N_("We will call you on %(day)s morning."),
    "contact": N_("We will contact you on %(day)s morning."),
}
END_OF_DAY = {
    "call": N_("We will call you by the end of %(day)s."),
    "contact": N_("We will contact you by the end of %(day)s."),
}
BY_TIME_ON = {
    "call": N_("We will call you by %(time)s on %(day)s."),
    "contact": N_("We will contact you by %(time)s on %(day)s."),
}
NOON = datetime.time(12, 0)
# A day within the coming week is named by its weekday alone; one further off gets its date too.
DAY_WITH_DATE = {"en": "EEEE, MMMM d", "es": "EEEE d 'de' MMMM"}


@dataclass(frozen=True)
class CallTime:
    """What a patient page says about the clinic's call."""

    closed: bool  # the desk was closed when the request was (or is about to be) sent
    when: str  # "We will call you by 11:30 AM today."

    @property
    def text(self) -> str:
        """Return the whole of it: 'We are closed now. We will call you on Monday morning.'"""
        return f"{gettext(CLOSED_NOW)} {self.when}" if self.closed else self.when


def clock() -> datetime.datetime:
    """Return the time now (read through the module, so a test can set the clock)."""
    return models.now()


def day_words(day: datetime.date, today: datetime.date, locale: str) -> str:
    if (day - today).days < 7:
        return format_date(day, "EEEE", locale=locale)
    return format_date(day, DAY_WITH_DATE.get(locale, DAY_WITH_DATE["en"]), locale=locale)


def call_time(level: str, at: datetime.datetime, hours: desk.Hours, phone: bool = True) -> CallTime | None:
    """Say when the clinic will call about a request sent at `at`, in the page's language; None for no target."""
    if level not in hours.targets:
        return None
    due = desk.next_call_window(at, level, hours)
    today = desk.as_utc(at).astimezone(hours.zone).date()
    locale = language()
    verb = "call" if phone else "contact"
    time = format_time(due, "short", tzinfo=hours.zone, locale=locale)
    opening = hours.opening(due.date())
    if due.date() == today:
        when = gettext(TODAY[verb], time=time)
    elif opening is not None and due == opening[1]:
        when = gettext(END_OF_DAY[verb], day=day_words(due.date(), today, locale))
    elif due.time() <= NOON:
        when = gettext(MORNING[verb], day=day_words(due.date(), today, locale))
    else:
        when = gettext(BY_TIME_ON[verb], time=time, day=day_words(due.date(), today, locale))
    return CallTime(closed=not desk.is_open(at, hours), when=when)
