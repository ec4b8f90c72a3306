"""Made-up history for a demo database: journeys (as counters), requests, calls, outcomes and verdicts.

Deterministic: the same seed and the same last day give the same rows. Every name and number is invented
(phone numbers in the 555-01xx range kept for fiction); the suggestions come from the real rules.
"""

from __future__ import annotations

import datetime
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from symptomcheck.records import desk, usage
from symptomcheck.records.contact_requests import suggestion
from symptomcheck.records.models import (
    REFERENCE_ALPHABET,
    Alert,
    AuditEntry,
    ContactRequest,
    RequestEvent,
    Staff,
    UsageCount,
    db,
)
from symptomcheck.rules.engine import Result, assess
from symptomcheck.rules.loader import RuleSet

BASE: dict[str, Any] = {
    "age_band": "18_49",
    "red_flags": [],
    "neck_origin": "yes",
    "headache_side": "one_side_always_same",
    "movement_trigger": "yes",
    "posture_trigger": "no",
    "neck_pressure_trigger": "no",
    "neck_stiffness": "no",
    "radiation": [],
    "neck_injury_history": "no",
    "migraine_features": [],
    "duration": "over_3_months",
    "headache_days": 6,
    "pain_intensity": 5,
    "impact": [],
    "treatments_tried": [],
    "treatment_result": "not_tried",
    "pain_relief_days": 2,
}
# Kinds of people, each a change to BASE, with how often they come (out of 100).
KINDS: list[tuple[int, dict[str, Any]]] = [
    (3, {"red_flags": ["thunderclap"]}),  # an emergency: the check stops after the warning signs
    (1, {"red_flags": ["neuro_deficit"], "age_band": "50_plus"}),
    (6, {"red_flags": ["fever"]}),
    (3, {"red_flags": ["jaw_scalp_pain"], "age_band": "50_plus"}),
    (9, {"red_flags": ["wakes_with_vomiting"]}),
    (22, {}),
    (12, {"posture_trigger": "yes", "neck_pressure_trigger": "yes", "radiation": ["shoulder_upper_back"]}),
    (10, {"neck_origin": "unsure", "headache_side": "both_sides", "movement_trigger": "no"}),
    (12, {"migraine_features": ["nausea", "light_sound_sensitivity", "throbbing"], "neck_origin": "no"}),
    (8, {"headache_days": 15, "pain_intensity": 7, "impact": ["work", "sleep"], "treatment_result": "no_relief"}),
    (14, {"duration": "under_1_month", "pain_intensity": 2, "headache_days": 2}),
]
# How many people who reached a page go on to send the next one, page by page.
GO_ON = (1.0, 0.93, 0.9, 0.94, 0.96)
ASKS_TO_BE_CONTACTED = {"urgent": 0.5, "soon": 0.4, "routine": 0.28, "self_care": 0.08}
SPANISH = 0.18
FIRST_NAMES = ("Ana", "Ben", "Carmen", "Dev", "Elena", "Femi", "Grace", "Hiro", "Iris", "José", "Kim", "Luis", "Maya",
               "Noor", "Omar", "Priya", "Rosa", "Sam", "Tariq", "Wen")  # fmt: skip
LAST_NAMES = ("Alvarez", "Brown", "Chen", "Diaz", "Evans", "Garcia", "Hughes", "Ito", "Khan", "Lopez", "Martin",
              "Nguyen", "Okafor", "Patel", "Reyes", "Smith", "Torres", "Walker")  # fmt: skip
DAYTIME = [3 if 7 * 60 <= minute < 22 * 60 else 1 for minute in range(24 * 60)]  # requests come mostly by day
DEMO_STAFF = (("demo-desk", False), ("demo-desk-2", False), ("demo-clinician", True))


def has_history() -> bool:
    """Say whether the database already holds requests or counters."""
    requests = db.session.scalar(select(func.count()).select_from(ContactRequest))
    counters = db.session.scalar(select(func.count()).select_from(UsageCount))
    return bool(requests or counters)


def wipe() -> None:
    """Delete every request, alert, audit entry and counter (a demo database only: the command checks)."""
    for model in (Alert, RequestEvent, AuditEntry, ContactRequest, UsageCount):
        db.session.execute(delete(model))
    db.session.commit()


def demo_staff() -> list[Staff]:
    """Return the demo's desk staff and clinician, made once, with passwords nobody knows."""
    found = []
    for username, clinician in DEMO_STAFF:
        staff = db.session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            staff = Staff(username=username, is_clinician=clinician)
            # A random password nobody is told: no one logs in as these; a quick hash is enough for it.
            staff.password_hash = generate_password_hash(secrets.token_urlsafe(32), method="pbkdf2:sha256:1000")
            db.session.add(staff)
        found.append(staff)
    db.session.flush()
    return found


def seed(rules: RuleSet, hours: desk.Hours, weeks: int, seed_value: int, last_day: datetime.date) -> Counter[str]:
    """Write `weeks` weeks of made-up history ending on `last_day` (in the clinic's zone); return what was made."""
    team = demo_staff()
    kinds = [(weight, {**BASE, **change}) for weight, change in KINDS]
    history = History(
        rng=random.Random(seed_value),  # noqa: S311 (made-up data that must repeat, not a secret)
        rules=rules,
        hours=hours,
        pages=usage.pages(),
        kinds=[(weight, answers, assess(rules, answers)) for weight, answers in kinds],
        callers=team[:2],
        clinician=team[2],
        now=datetime.datetime.now(datetime.UTC),
    )
    first = last_day - datetime.timedelta(weeks=weeks) + datetime.timedelta(days=1)
    days = [first + datetime.timedelta(days=offset) for offset in range((last_day - first).days + 1)]
    with db.session.no_autoflush:
        counters = {day: history.one_day(day) for day in days}
    usage.add_days(counters)
    db.session.commit()
    return history.made


@dataclass
class History:
    """What a demo's history is made from, and what it has made so far."""

    rng: random.Random
    rules: RuleSet
    hours: desk.Hours
    pages: tuple[tuple[str, str, tuple[str, ...]], ...]
    kinds: list[tuple[int, dict[str, Any], Result]]
    callers: list[Staff]
    clinician: Staff
    now: datetime.datetime
    made: Counter[str] = field(default_factory=Counter)

    def one_day(self, day: datetime.date) -> Counter[tuple[str, str]]:
        """Make one day's journeys and requests; return its counters."""
        rng = self.rng
        counts: Counter[tuple[str, str]] = Counter()
        people = rng.randint(14, 26) if day.weekday() < 5 else rng.randint(6, 12)
        for _ in range(people):
            language = "es" if rng.random() < SPANISH else "en"
            _, answers, result = rng.choices(self.kinds, weights=[weight for weight, _, _ in self.kinds])[0]
            reached = self.journey(language, result, counts)
            if reached and rng.random() < ASKS_TO_BE_CONTACTED.get(result.level.id, 0.0):
                counts[("contact_request", result.level.id)] += 1
                counts[("contact_language", language)] += 1
                request = self.request(day, language, answers, result)
                calls, judged = self.work_on(request)
                self.made.update(requests=1, calls=calls, verdicts=judged)
        self.made.update(days=1, journeys=people)
        return counts

    def journey(self, language: str, result: Result, counts: Counter[tuple[str, str]]) -> bool:
        """Count one person's way through the pages as the patient pages would; say whether they reached a result."""
        counts[("started", language)] += 1
        for number, (slug, _, _) in enumerate(self.pages):
            if self.rng.random() > GO_ON[min(number, len(GO_ON) - 1)]:
                return False
            counts[("page", slug)] += 1
            if result.level == self.rules.most_urgent and number == 1:
                counts[("early_stop", slug)] += 1
                counts[("result", result.level.id)] += 1
                return False  # told to call the emergency number: not a contact request
        counts[("result", result.level.id)] += 1
        if result.pattern:
            counts[("pattern", result.pattern.id)] += 1
        return True

    def request(self, day: datetime.date, language: str, answers: dict[str, Any], result: Result) -> ContactRequest:
        rng = self.rng
        minute = rng.choices(range(24 * 60), weights=DAYTIME)[0]
        local = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=self.hours.zone)
        received = min(local.astimezone(datetime.UTC), self.now - datetime.timedelta(minutes=5))
        code = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(8))
        request = ContactRequest(
            reference=f"{code[:4]}-{code[4:]}",
            received_at=received,
            source="web",
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            phone=f"+1202555{rng.randint(100, 199):04d}",
            email=None,
            preferred_time=rng.choice(("morning", "afternoon", "evening", "any")),
            language=language,
            consented_at=received,
            answers=answers,
            **suggestion(result),
            status="new",
            status_changed_at=received,
        )
        db.session.add(request)
        return request

    def work_on(self, request: ContactRequest) -> tuple[int, int]:
        """Call, close and judge a request as the desk would have by now; return the calls made and verdicts given."""
        rng, now = self.rng, self.now
        received = desk.as_utc(request.received_at)
        due = desk.due_at(received, request.level, self.hours) or received + datetime.timedelta(hours=1)
        caller = rng.choice(self.callers)
        at = received + (due - received) * rng.uniform(0.05, 1.25)  # most calls come in time, some late
        calls, reached = 0, False
        while at < now and calls < 3 and not reached:
            reached = rng.random() < 0.75
            calls += 1
            outcome = "reached" if reached else rng.choice(("no_answer", "left_message"))
            request.events.append(RequestEvent(staff_id=caller.id, at=at, attempt=outcome))
            last_call = at
            at += datetime.timedelta(hours=rng.uniform(1, 20))
        if reached:
            move(request, caller, "contacted", last_call)
        closes = at + datetime.timedelta(hours=rng.uniform(1, 48))
        if calls == 0 or closes >= now or (not reached and calls < 3):
            return calls, 0
        request.outcome = closing_outcome(rng, request.level) if reached else "not_reached"
        status = {"booked": "booked", "referred": "referred"}.get(request.outcome, "closed")
        move(request, caller, "closed" if request.status == "new" and status == "referred" else status, closes)
        judged_at = closes + datetime.timedelta(hours=rng.uniform(0, 4))
        if not reached or rng.random() > 0.75 or judged_at > now:
            return calls, 0
        request.verdict, request.verdict_level = self.verdict(request.level)
        request.verdict_by_id, request.verdict_at = self.clinician.id, judged_at
        return calls, 1

    def verdict(self, level: str) -> tuple[str, str]:
        """Return a clinician's verdict on a suggested level and the level they judge right: mostly the same."""
        verdict = self.rng.choices(("right", "more_urgent", "less_urgent"), weights=(84, 8, 8))[0]
        levels = [each.id for each in self.rules.levels]
        position = levels.index(level)
        if verdict == "more_urgent" and position > 1:  # never to emergency: those people were told to call 911
            return verdict, levels[position - 1]
        if verdict == "less_urgent" and position + 1 < len(levels):
            return verdict, levels[position + 1]
        return "right", level


def closing_outcome(rng: random.Random, level: str) -> str:
    if level == "urgent" and rng.random() < 0.15:
        return "emergency"
    return rng.choices(("booked", "self_care", "referred"), weights=(70, 18, 12))[0]


def move(request: ContactRequest, staff: Staff, status: str, at: datetime.datetime) -> None:
    request.events.append(RequestEvent(staff_id=staff.id, at=at, from_status=request.status, to_status=status))
    request.status, request.status_changed_at = status, at
