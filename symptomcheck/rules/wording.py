"""A rule's condition in plain English, for the clinician who reads and signs the rule book.

Read from the compiled condition tree (operator, line, operands...), so the
words cannot drift from what the engine tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from symptomcheck.rules.conditions import Condition
from symptomcheck.rules.questions import BY_ID, Kind

# Yes/no questions as statements: what "yes" means.
STATEMENTS = {
    "neck_origin": "the pain starts in the neck",
    "movement_trigger": "moving the neck brings the headache on",
    "posture_trigger": "a long-held position brings the headache on",
    "neck_pressure_trigger": "pressing on the neck brings the headache on",
    "neck_stiffness": "the neck is stiff",
    "neck_injury_history": "the neck was hurt more than 4 weeks ago",
}
# Other single-choice questions: what the answer is about.
SUBJECTS = {
    "age_band": "age group",
    "headache_side": "which side hurts",
    "treatment_result": "how much what was tried helped",
}
# Multiple-choice questions: one ticked box, and the boxes counted.
ONE_BOX = {
    "red_flags": "a warning sign",
    "radiation": "the pain spreads to",
    "migraine_features": "a migraine feature",
    "impact": "the headaches get in the way of",
    "treatments_tried": "tried",
}
COUNTED = {
    "red_flags": "warning signs",
    "radiation": "places the pain spreads to",
    "migraine_features": "migraine features",
    "impact": "things the headaches get in the way of",
    "treatments_tried": "treatments tried",
}
# Numbers: the sentence with the amount left out.
NUMBERS = {
    "headache_days": "headaches on {} days a month",
    "pain_intensity": "pain at its worst {} of 10",
    "pain_relief_days": "pain pills on {} days a month",
}
INLINE_PARTS = 3  # `all` and `any` of up to this many simple parts read as one sentence


@dataclass(frozen=True)
class Outline:
    """A condition in words: a phrase, and for `all`, `any` and counts, the phrases it joins."""

    text: str
    parts: tuple[Outline, ...] = ()
    inline: tuple[Outline, ...] = ()  # a short `all` or `any` written as one phrase: the parts it joins
    heading: str = ""  # ... and how it reads spelt out ("all of these", "any of these")

    def spelt_out(self) -> Outline:
        """Return a short `all` or `any` as a heading with its parts, so that a longer sentence is not ambiguous."""
        return Outline(self.heading, self.inline) if self.inline else self


def outline(condition: Condition) -> Outline:
    """Return the condition as an outline of plain phrases."""
    operator, _line, *operands = condition.tree
    if operator in {"all", "any"}:
        parts = tuple(outline(part) for part in operands)
        joiner = "and" if operator == "all" else "or"
        heading = "all of these" if operator == "all" else "any of these"
        if len(parts) <= INLINE_PARTS and not any(part.parts or part.inline for part in parts):
            return Outline(_listed([part.text for part in parts], f", {joiner}"), inline=parts, heading=heading)
        return Outline(heading, tuple(part.spelt_out() for part in parts))
    if operator in {"at_least_of", "at_most_of"}:
        count, *counted = operands
        how = "at least" if operator == "at_least_of" else "at most"
        return Outline(f"{how} {count} of these", tuple(outline(part).spelt_out() for part in counted))
    if operator == "not":
        inner = operands[0]
        if inner.tree[0] in {"equals", "one_of"}:
            return Outline(_choice(inner.tree[2], inner.tree[3], negated=True))
        words = outline(inner).spelt_out()
        if words.parts:
            negation = {"all of these": "not all of these", "any of these": "none of these"}
            return Outline(negation.get(words.text, f"not ({words.text})"), words.parts)
        return Outline(f"not so: {words.text}")
    if operator in {"equals", "one_of"}:
        return Outline(_choice(operands[0], operands[1], negated=False))
    if operator in {"contains", "contains_any"}:
        answer_id, values = operands
        return Outline(f"{ONE_BOX[answer_id]}: {_joined(_labels(answer_id, values), 'or')}")
    if operator in {"at_least", "at_most"}:
        answer_id, limit = operands
        amount = f"at least {limit}" if operator == "at_least" else f"at most {limit}"
        if BY_ID[answer_id].kind is Kind.INTEGER:
            return Outline(NUMBERS[answer_id].format(amount))
        if operator == "at_most" and limit == 0:
            return Outline(f"no {COUNTED[answer_id]}")
        return Outline(f"{amount} of the {COUNTED[answer_id]}")
    if operator == "level_is":
        return Outline(f"the level is {_joined(sorted(operands[0]), 'or')}")
    return Outline(f"the pattern is {_joined(sorted(operands[0]), 'or')}")  # pattern_is


def sentence(condition: Condition) -> str:
    """Return the condition as one plain sentence."""
    return _flat(outline(condition))


def _flat(words: Outline) -> str:
    if not words.parts:
        return words.text
    parts = [f"({_flat(part)})" if part.parts else part.text for part in words.parts]
    return f"{words.text}: {'; '.join(parts)}"


def _choice(answer_id: str, values: frozenset[str], negated: bool) -> str:
    if answer_id in STATEMENTS and len(values) == 1:
        statement = STATEMENTS[answer_id]
        value = next(iter(values))
        said = {"yes": statement, "no": f"not so: {statement}", "unsure": f"not sure whether {statement}"}[value]
        return f"not ({said})" if negated else said
    said = _joined(_labels(answer_id, values), "or")
    if answer_id == "duration":
        return f"the headaches {'did not last' if negated else 'lasted'} {said}"
    if values == {"unsure"}:
        said = "not sure"
    return f"{SUBJECTS.get(answer_id, answer_id.replace('_', ' '))}: {'not ' if negated else ''}{said}"


def _labels(answer_id: str, values: Iterable[str]) -> list[str]:
    """Return each value in words: red flags by their triage.md ids, other answers as the person read them."""
    question = BY_ID[answer_id]
    ordered = [value for value in question.values if value in set(values)]
    if answer_id == "red_flags":
        return ordered  # "cancer or immune" would read as two signs
    return [_lower_first(question.choice_label(value)) for value in ordered]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _joined(items: list[str], joiner: str) -> str:
    """Join values: 'a or b', 'a, b or c'."""
    return _listed(items, f" {joiner}")


def _listed(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])}{last} {items[-1]}"
