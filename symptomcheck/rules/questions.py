"""The questionnaire: every answer's id, type, choices and wording, defined once.

The ids and values are fixed by ``shared/clinical/questionnaire.md``; the forms,
the JSON API, the rule loader and the exports all read them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

Answer = str | int | list[str]
Answers = dict[str, Answer]


class Kind(Enum):
    SINGLE = "single"
    MULTI = "multi"
    INTEGER = "integer"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    kind: Kind
    label: str
    error: str
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    minimum: int = 0
    maximum: int = 0
    # A multi-choice question that must not be skipped: "none" is a box of its own, never a blank.
    explicit_none: bool = False

    @cached_property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def choice_label(self, value: str) -> str:
        """Return the words shown for one value of this question."""
        return next(choice.label for choice in self.choices if choice.value == value)

    def check(self, value: object) -> str | None:
        """Return why a JSON value is not a valid answer, or None when it is."""
        if self.kind is Kind.SINGLE:
            if not isinstance(value, str):
                return f"Must be a string, one of: {_listed(self.values)}."
            if value not in self.values:
                return f"'{value}' is not an answer to this question; use one of: {_listed(self.values)}."
        elif self.kind is Kind.MULTI:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                return f"Must be a list of strings, each one of: {_listed(self.values)}."
            unknown = [item for item in value if item not in self.values]
            if unknown:
                return f"{_listed(unknown)} not an answer to this question; use values from: {_listed(self.values)}."
            if len(set(value)) != len(value):
                return "Must not list the same value twice."
        else:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"Must be a whole number from {self.minimum} to {self.maximum}."
            if not self.minimum <= value <= self.maximum:
                return f"Must be from {self.minimum} to {self.maximum}; got {value}."
        return None


def _listed(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


YES_NO_UNSURE = (
    Choice("yes", "Yes"),
    Choice("no", "No"),
    Choice("unsure", "I'm not sure"),
)
YES_NO = YES_NO_UNSURE[:2]


def _single(id: str, label: str, error: str, choices: tuple[Choice, ...], hint: str = "") -> Question:
    return Question(id, Kind.SINGLE, label, error, hint, choices)


def _multi(
    id: str, label: str, error: str, choices: tuple[Choice, ...], hint: str = "", explicit_none: bool = False
) -> Question:
    return Question(id, Kind.MULTI, label, error, hint, choices, explicit_none=explicit_none)


def _integer(id: str, label: str, error: str, maximum: int, hint: str = "") -> Question:
    return Question(id, Kind.INTEGER, label, error, hint, minimum=0, maximum=maximum)


TICK_ALL_OR_NONE = "Select all that apply. If none apply, leave them all blank."

QUESTIONS: tuple[Question, ...] = (
    # Section 1: about you.
    _single(
        "age_band",
        "How old are you?",
        "Select your age group.",
        (Choice("under_18", "Under 18"), Choice("18_49", "18 to 49"), Choice("50_plus", "50 or older")),
    ),
    # Section 2: the safety check, asked before anything about the neck.
    _multi(
        "red_flags",
        "Do you have any of these signs right now, or did they come with this headache?",
        "Select the signs you have, or select 'None of these'.",
        (
            Choice(
                "thunderclap",
                "A sudden, very bad headache that got to full strength within about a minute",
                "It may feel like the worst headache of your life.",
            ),
            Choice(
                "neuro_deficit",
                "New weakness, numbness or trouble speaking",
                "Whether it came on quickly or slowly. Or a drooping face or eyelid. Slurred or mixed-up speech. "
                "Trouble swallowing. Loss of balance. Double vision. A seizure, fainting or confusion.",
            ),
            Choice(
                "fever_stiff_neck",
                "A fever and a stiff neck",
                "Or a rash that does not fade when you press a glass on it.",
            ),
            Choice("vision_loss", "Sudden loss of sight, or new blurred sight", "In one eye or both eyes."),
            Choice("painful_red_eye", "A painful red eye with the headache"),
            Choice(
                "fever",
                "A fever with this headache, but no stiff neck or rash",
                "A temperature of 100.4\u00a0°F (38\u00a0°C) or more, or feeling hot and shivery.",
            ),
            Choice(
                "recent_injury",
                "The headache or neck pain began after an injury in the last 4 weeks",
                "For example a fall, a car crash, a blow to the head, or a neck adjustment.",
            ),
            Choice(
                "jaw_scalp_pain",
                "Pain in your jaw when you chew, or a sore scalp or temple",
            ),
            Choice(
                "cancer_or_immune",
                "You have had cancer, HIV or an organ transplant",
                "Or you take medicine that makes it harder for your body to fight germs.",
            ),
            Choice("pregnant_postpartum", "You are pregnant, or gave birth in the last 6 weeks"),
            Choice(
                "positional_or_strain",
                "The headache gets much worse when you lie down or stand up",
                "Or it starts when you cough, sneeze, strain or exercise.",
            ),
            Choice("wakes_with_vomiting", "The headache wakes you up, or comes with throwing up again and again"),
            Choice("progressive", "The headache started in the last 3 months and keeps getting worse"),
            Choice(
                "myelopathy",
                "Over weeks or months, your hands got clumsy, numb or tingly, or walking got harder",
                "Or it got harder to keep your balance.",
            ),
            Choice(
                "bladder_bowel",
                "New trouble with your bladder or bowels, or new numbness between your legs",
                "For example, leaking pee or poop, or not being able to go.",
            ),
            Choice("weight_loss_night_sweats", "Weight loss you cannot explain, or soaking sweats at night"),
        ),
        "Select all that you have. If you have none of them, select 'None of these' at the end.",
        explicit_none=True,
    ),
    # Section 3: the headache and the neck.
    _single(
        "neck_origin",
        "Does the pain start in your neck and spread to your head?",
        "Select yes if the pain starts in your neck.",
        YES_NO_UNSURE,
        "It may spread to the back or the front of your head.",
    ),
    _single(
        "headache_side",
        "Which side of your head hurts?",
        "Select which side of your head hurts.",
        (
            Choice("one_side_always_same", "One side, and always the same side"),
            Choice("one_side_can_switch", "One side, but it can switch sides"),
            Choice("both_sides", "Both sides"),
            Choice("unsure", "I'm not sure"),
        ),
    ),
    _single(
        "movement_trigger",
        "Does moving your neck bring on the headache or make it worse?",
        "Select yes if moving your neck brings on the headache.",
        YES_NO_UNSURE,
    ),
    _single(
        "posture_trigger",
        "Does staying in one position for a long time bring on the headache?",
        "Select yes if staying in one position brings on the headache.",
        YES_NO_UNSURE,
        "For example, working at a computer, driving, or the way you sleep.",
    ),
    _single(
        "neck_pressure_trigger",
        "Does pressing on your neck or the base of your skull bring on your usual headache?",
        "Select yes if pressing on your neck brings on the headache.",
        YES_NO_UNSURE,
    ),
    _single(
        "neck_stiffness",
        "Is your neck stiff, or harder to turn than it used to be?",
        "Select yes if your neck is stiff.",
        YES_NO,
    ),
    _multi(
        "radiation",
        "Does the pain spread anywhere else?",
        "Select where else the pain spreads.",
        (
            Choice("shoulder_upper_back", "Shoulder or upper back"),
            Choice("arm", "Arm"),
            Choice("behind_eye", "Behind the eye"),
            Choice("forehead_temple", "Forehead or temple"),
        ),
        TICK_ALL_OR_NONE,
    ),
    _single(
        "neck_injury_history",
        "Did you hurt your neck more than 4 weeks ago?",
        "Select yes if you hurt your neck more than 4 weeks ago.",
        YES_NO,
        "For example, whiplash from a car crash.",
    ),
    _multi(
        "migraine_features",
        "Do your headaches come with any of these?",
        "Select what comes with your headaches.",
        (
            Choice("nausea", "Feeling sick to your stomach"),
            Choice("light_sound_sensitivity", "Light or noise bothers you"),
            Choice("visual_aura", "Flashing lights or zigzag lines before the headache"),
            Choice("throbbing", "A throbbing or pounding pain"),
        ),
        TICK_ALL_OR_NONE,
    ),
    _single(
        "duration",
        "How long have you had these headaches?",
        "Select how long you have had these headaches.",
        (
            Choice("under_1_month", "Less than 1 month"),
            Choice("1_to_3_months", "1 to 3 months"),
            Choice("over_3_months", "More than 3 months"),
        ),
    ),
    _integer(
        "headache_days",
        "In a typical month, on how many days do you have a headache?",
        "Enter a number of days from 0 to 31.",
        31,
        "Enter a number from 0 to 31.",
    ),
    _integer(
        "pain_intensity",
        "How bad is the pain at its worst, from 0 to 10?",
        "Enter a number from 0 to 10.",
        10,
        "0 means no pain. 10 means the worst pain you can imagine.",
    ),
    _multi(
        "impact",
        "What do the headaches get in the way of?",
        "Select what the headaches get in the way of.",
        (
            Choice("work", "Work or school"),
            Choice("sleep", "Sleep"),
            Choice("concentration", "Thinking or paying attention"),
            Choice("daily_activities", "Daily tasks"),
        ),
        TICK_ALL_OR_NONE,
    ),
    # Section 4: what has been tried.
    _multi(
        "treatments_tried",
        "What have you tried for these headaches?",
        "Select what you have tried.",
        (
            Choice("rest_self_care", "Rest or self-care at home"),
            Choice("otc_pain_relief", "Pain pills from a store"),
            Choice("prescription_medicine", "Medicine from a doctor"),
            Choice("physical_therapy", "Physical therapy"),
            Choice("chiropractic_massage", "Chiropractic care or massage"),
            Choice("injections", "Shots (injections)"),
        ),
        TICK_ALL_OR_NONE,
    ),
    _single(
        "treatment_result",
        "Overall, how much did it help?",
        "Select how much it helped.",
        (
            Choice("not_tried", "I have not tried anything yet"),
            Choice("no_relief", "It did not help"),
            Choice("partial_relief", "It helped a little"),
            Choice("good_relief", "It helped a lot"),
        ),
    ),
    _integer(
        "pain_relief_days",
        "In a typical month, on how many days do you take pain pills?",
        "Enter a number of days from 0 to 31.",
        31,
        "Count all kinds of pain medicine. Enter a number from 0 to 31.",
    ),
)

BY_ID: Mapping[str, Question] = {question.id: question for question in QUESTIONS}


@dataclass(frozen=True)
class CallerWords:
    """A question as staff read it out on a phone intake: about "the caller", not "you"."""

    label: str
    hint: str = ""


# The phone intake's words, one per question, in English only (staff pages are English); ids and values stay as above.
FOR_CALLER: Mapping[str, CallerWords] = {
    "age_band": CallerWords("How old is the caller?"),
    "red_flags": CallerWords(
        "Does the caller have any of these signs right now, or did they come with this headache?",
        "Read each sign out. Select all the caller has. If none, select 'None of these' at the end.",
    ),
    "neck_origin": CallerWords(
        "Does the caller's pain start in the neck and spread to the head?",
        "It may spread to the back or the front of the head.",
    ),
    "headache_side": CallerWords("Which side of the caller's head hurts?"),
    "movement_trigger": CallerWords("Does moving the neck bring on the caller's headache or make it worse?"),
    "posture_trigger": CallerWords(
        "Does staying in one position for a long time bring on the caller's headache?",
        "For example, working at a computer, driving, or the way they sleep.",
    ),
    "neck_pressure_trigger": CallerWords(
        "Does pressing on the neck or the base of the skull bring on the caller's usual headache?"
    ),
    "neck_stiffness": CallerWords("Is the caller's neck stiff, or harder to turn than it used to be?"),
    "radiation": CallerWords("Does the caller's pain spread anywhere else?", TICK_ALL_OR_NONE),
    "neck_injury_history": CallerWords(
        "Did the caller hurt their neck more than 4 weeks ago?", "For example, whiplash from a car crash."
    ),
    "migraine_features": CallerWords(
        "Do the caller's headaches come with any of these?",
        TICK_ALL_OR_NONE,
    ),
    "duration": CallerWords("How long has the caller had these headaches?"),
    "headache_days": CallerWords(
        "In a typical month, on how many days does the caller have a headache?", "Enter a number from 0 to 31."
    ),
    "pain_intensity": CallerWords(
        "How bad is the caller's pain at its worst, from 0 to 10?",
        "0 means no pain. 10 means the worst pain they can imagine.",
    ),
    "impact": CallerWords(
        "What do the caller's headaches get in the way of?",
        TICK_ALL_OR_NONE,
    ),
    "treatments_tried": CallerWords(
        "What has the caller tried for these headaches?",
        TICK_ALL_OR_NONE,
    ),
    "treatment_result": CallerWords("Overall, how much did it help the caller?"),
    "pain_relief_days": CallerWords(
        "In a typical month, on how many days does the caller take pain pills?",
        "Count all kinds of pain medicine. Enter a number from 0 to 31.",
    ),
}

# Asked first and always required; the rest is required unless these two
# already lead to the most urgent level.
SCREENING_IDS: tuple[str, ...] = ("age_band", "red_flags")


# Answers that must agree: `treatment_result` is `not_tried` exactly when
# `treatments_tried` is empty. Each message names both questions.
TRIED_BUT_NOT_TRIED = (
    "You selected what you have tried, and also 'I have not tried anything yet'. "
    "Change your answer to 'What have you tried' or to 'How much did it help'."
)
NOTHING_TRIED_BUT_HELPED = (
    "You selected nothing under 'What have you tried', but said under 'How much did it help' that it helped. "
    "Select what you tried, or select 'I have not tried anything yet'."
)
DISAGREEING_PAIR = ("treatments_tried", "treatment_result")


def disagreement(answers: Mapping[str, object]) -> str | None:
    """Return why the treatments and their result contradict each other, or None when they agree."""
    tried, result = (answers.get(answer_id) for answer_id in DISAGREEING_PAIR)
    if not isinstance(tried, list) or not isinstance(result, str):
        return None  # not both given yet
    if tried and result == "not_tried":
        return TRIED_BUT_NOT_TRIED
    if not tried and result != "not_tried":
        return NOTHING_TRIED_BUT_HELPED
    return None


def check_answers(raw: Mapping[str, object]) -> dict[str, str]:
    """Return an error message for each answer that is unknown, malformed or contradicts another."""
    errors: dict[str, str] = {}
    for answer_id, value in raw.items():
        question = BY_ID.get(answer_id)
        if question is None:
            errors[answer_id] = "There is no question with this id."
            continue
        problem = question.check(value)
        if problem:
            errors[answer_id] = problem
    if not errors.keys() & set(DISAGREEING_PAIR) and (problem := disagreement(raw)):
        errors.update(dict.fromkeys(DISAGREEING_PAIR, problem))
    return errors


def missing_answers(answers: Mapping[str, object], ids: tuple[str, ...] | None = None) -> list[str]:
    """Return the ids, in question order, that have no answer."""
    wanted = ids if ids is not None else tuple(BY_ID)
    return [answer_id for answer_id in wanted if answer_id not in answers]


def json_numbers_as_integers(raw: Mapping[str, object]) -> dict[str, object]:
    """Read 18.0 as 18 for a number question: in JSON, and in JSON Schema, they are the same integer."""
    return {
        key: int(value)
        if isinstance(value, float) and value.is_integer() and key in BY_ID and BY_ID[key].kind is Kind.INTEGER
        else value
        for key, value in raw.items()
    }
