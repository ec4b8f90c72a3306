"""FHIR R4: the Questionnaire says what the contract says; every QuestionnaireResponse is valid against it."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from flask import Flask
from flask.testing import FlaskClient

from examples import COMPLETE
from symptomcheck.records import exports
from symptomcheck.records.exports import Record
from symptomcheck.rules.questions import BY_ID, QUESTIONS, Kind
from symptomcheck.web import rulebook
from tests.helpers import RULES_FILE, RULES_VERSION
from tests.test_closing import make_clinician, post_form
from tests.test_frontdesk import send_request, stored

URL = "https://clinic.example/fhir/Questionnaire/cervicogenic-headache-self-check"
EXT = "http://hl7.org/fhir/StructureDefinition"
AT = datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)
REASONS = ({"rule": "soon-getting-worse", "text": "Your headache keeps getting worse."},)


def record(answers: dict[str, Any], **changes: Any) -> Record:
    values: dict[str, Any] = {
        "reference": "ABCD-EFGH", "received_at": AT, "source": "web", "status": "new", "level": "soon",
        "pattern": "cgh_likely", "rules_version": RULES_VERSION, "name": "Ada Lovelace", "phone": "+12025550143",
        "email": None, "preferred_time": "any", "answers": answers, "reasons": REASONS, "language": "en",
    }  # fmt: skip
    return Record(**{**values, **changes})


def extension(element: dict[str, Any], url: str) -> Any:
    found = [item for item in element.get("extension", []) if item["url"] == url]
    return found[0] if found else None


def problems_against(response: dict[str, Any], questionnaire: dict[str, Any]) -> list[str]:
    """Return every way a response breaks its Questionnaire: linkIds, types, values, limits, required, repeats."""
    items = {item["linkId"]: item for item in questionnaire["item"]}
    found: list[str] = []
    answered = {item["linkId"]: item for item in response["item"]}
    for link_id, item in items.items():
        if item.get("required") and not answered.get(link_id, {}).get("answer"):
            found.append(f"{link_id}: required but not answered")
    order = [link_id for link_id in items if link_id in answered]
    if [item["linkId"] for item in response["item"]] != order:
        found.append("items out of the Questionnaire's order")
    for link_id, given in answered.items():
        item = items.get(link_id)
        if item is None:
            found.append(f"{link_id}: no such item")
            continue
        answers = given.get("answer", [])
        if len(answers) > 1 and not item.get("repeats"):
            found.append(f"{link_id}: {len(answers)} answers to a question that does not repeat")
        for answer in answers:
            if item["type"] == "integer":
                value = answer.get("valueInteger")
                low = extension(item, f"{EXT}/minValue")["valueInteger"]
                high = extension(item, f"{EXT}/maxValue")["valueInteger"]
                if not isinstance(value, int) or list(answer) != ["valueInteger"]:
                    found.append(f"{link_id}: not an integer answer: {answer}")
                elif not low <= value <= high:
                    found.append(f"{link_id}: {value} is outside {low} to {high}")
            else:
                coding = answer.get("valueCoding")
                options = [(option["valueCoding"]["system"], option["valueCoding"]["code"])
                           for option in item["answerOption"]]  # fmt: skip
                if coding is None or (coding["system"], coding["code"]) not in options:
                    found.append(f"{link_id}: {answer} is not one of its answerOptions")
        codes = [answer.get("valueCoding", {}).get("code") for answer in answers]
        if exports.NONE_OF_THESE in codes and len(codes) > 1:
            found.append(f"{link_id}: 'none of these' with other answers")
    return found


def at(items: list[dict[str, Any]], link_id: str) -> dict[str, Any]:
    return next(item for item in items if item["linkId"] == link_id)


def published() -> dict[str, Any]:
    """Return the Questionnaire as the site publishes it (built in each test, so every test sees the code it tests)."""
    return exports.questionnaire(URL, RULES_VERSION)


CASES = {
    "complete": COMPLETE,
    "several boxes": {**COMPLETE, "red_flags": ["progressive", "fever"], "radiation": ["arm", "behind_eye"]},
    "stopped at an emergency": {"age_band": "50_plus", "red_flags": ["thunderclap"]},
    "the limits": {**COMPLETE, "headache_days": 31, "pain_intensity": 10, "pain_relief_days": 0},
}


@pytest.mark.parametrize("answers", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("source", ["web", "phone"])
def test_a_response_is_valid_against_its_own_questionnaire(answers: dict[str, Any], source: str) -> None:
    response = exports.questionnaire_response(record(answers, source=source, taken_by="bea"), URL)
    assert problems_against(response, published()) == []
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"] == published()["url"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda items: items.pop(0), "age_band: required but not answered"),
        (lambda items: items[0].update(answer=[{"valueCoding": {"system": exports.ANSWER_SYSTEM, "code": "x"}}]),
         "age_band: {'valueCoding': {'system': 'urn:symptomcheck:cervicogenic-headache-self-check', 'code': 'x'}} "
         "is not one of its answerOptions"),
        (lambda items: at(items, "pain_intensity").update(answer=[{"valueInteger": 11}]),
         "pain_intensity: 11 is outside 0 to 10"),
        (lambda items: at(items, "headache_days").update(answer=[{"valueString": "6"}]),
         "headache_days: not an integer answer"),
        (lambda items: at(items, "neck_origin").update(answer=at(items, "neck_origin")["answer"] * 2),
         "neck_origin: 2 answers to a question"),
        (lambda items: items.append({"linkId": "shoe_size", "answer": []}), "shoe_size: no such item"),
        (lambda items: items.reverse(), "items out of the Questionnaire's order"),
    ],
)  # fmt: skip
def test_the_validity_check_finds_a_broken_response(change: Any, problem: str) -> None:
    response = exports.questionnaire_response(record(COMPLETE), URL)
    change(response["item"])
    assert any(found.startswith(problem) for found in problems_against(response, published()))


def test_required_only_what_the_contract_always_requires_and_repeats_only_on_multi_choice() -> None:
    questionnaire = published()
    items = {item["linkId"]: item for item in questionnaire["item"]}
    assert [link_id for link_id, item in items.items() if item["required"]] == ["age_band", "red_flags"]
    for question in QUESTIONS:
        item = items[question.id]
        assert item.get("repeats", False) is (question.kind is Kind.MULTI), question.id
    assert [link_id for link_id, item in items.items() if item.get("repeats")] == [
        "red_flags", "radiation", "migraine_features", "impact", "treatments_tried"]  # fmt: skip
    for question in QUESTIONS:  # an EHR draws a number box or a list of choices from the item's type
        assert items[question.id]["type"] == ("integer" if question.kind is Kind.INTEGER else "choice"), question.id


def test_the_warning_signs_offer_none_of_these_exclusive_and_an_empty_list_sends_it() -> None:
    questionnaire = published()
    (red_flags,) = [item for item in questionnaire["item"] if item["linkId"] == "red_flags"]
    last = red_flags["answerOption"][-1]
    assert last["valueCoding"]["code"] == "none"
    assert last["valueCoding"]["display"] == "None of these"
    assert extension(last, f"{EXT}/questionnaire-optionExclusive")["valueBoolean"] is True
    for item in questionnaire["item"]:
        if item["linkId"] != "red_flags" and item["type"] == "choice":
            assert "none" not in [option["valueCoding"]["code"] for option in item["answerOption"]]
    response = exports.questionnaire_response(record(COMPLETE), URL)
    answers = {item["linkId"]: item.get("answer") for item in response["item"]}
    assert answers["red_flags"] == [{"valueCoding": {"system": exports.ANSWER_SYSTEM, "code": "none",
                                                     "display": "None of these"}}]  # fmt: skip
    assert answers["radiation"] is None  # may be empty: no answer entries


def test_the_limits_and_the_spanish_text() -> None:
    questionnaire = published()
    items = {item["linkId"]: item for item in questionnaire["item"]}
    for link_id, high in (("headache_days", 31), ("pain_intensity", 10), ("pain_relief_days", 31)):
        assert extension(items[link_id], f"{EXT}/minValue")["valueInteger"] == 0
        assert extension(items[link_id], f"{EXT}/maxValue")["valueInteger"] == high

    def spanish(element: dict[str, Any]) -> str:
        (translation,) = element["extension"]
        assert translation["url"] == f"{EXT}/translation"
        parts = {part["url"]: part for part in translation["extension"]}
        assert parts["lang"]["valueCode"] == "es"
        return str(parts["content"]["valueString"])

    assert spanish(items["age_band"]["_text"]) == "¿Cuántos años tiene?"
    assert spanish(items["age_band"]["answerOption"][2]["valueCoding"]["_display"]) == "50 años o más"
    assert spanish(items["red_flags"]["answerOption"][-1]["valueCoding"]["_display"]) == "Ninguna de estas"
    untranslated = [item["linkId"] for item in questionnaire["item"] if spanish(item["_text"]) == item["text"]]
    assert untranslated == []
    Questionnaire.model_validate(questionnaire)


def test_the_questionnaire_names_itself_in_english_and_spanish_and_is_draft_unless_said_signed() -> None:
    """An EHR lists the form by its id, name and title (with the Spanish title), as a draft unless it is signed."""
    questionnaire = published()
    assert (questionnaire["resourceType"], questionnaire["id"]) == ("Questionnaire", "cervicogenic-headache-self-check")
    assert (questionnaire["name"], questionnaire["title"]) == ("CervicogenicHeadacheSelfCheck", "Headache self-check")
    assert questionnaire["subjectType"] == ["Patient"]  # answered about a patient
    (translation,) = questionnaire["_title"]["extension"]
    assert translation["url"] == f"{EXT}/translation"
    parts = {part["url"]: part for part in translation["extension"]}
    assert parts["lang"]["valueCode"] == "es"
    assert parts["content"]["valueString"] == "Autoevaluación del dolor de cabeza"
    assert (questionnaire["status"], exports.questionnaire(URL, RULES_VERSION, signed=True)["status"]) == (
        "draft", "active")  # fmt: skip


def test_the_questionnaire_is_draft_until_the_rule_file_in_use_is_signed(make_app: Any) -> None:
    path = "/fhir/Questionnaire/cervicogenic-headache-self-check"
    assert make_app().test_client().get(path).get_json()["status"] == "draft"
    other = make_app(RULES_SIGNED_SHA256="0" * 64)  # signed, but another file
    assert other.test_client().get(path).get_json()["status"] == "draft"
    signed = make_app(RULES_SIGNED_SHA256=rulebook.file_digest(RULES_FILE).upper())
    body = signed.test_client().get(path).get_json()
    assert body["status"] == "active"
    assert body["version"] == RULES_VERSION


def test_the_author_source_and_suggestion_an_ehr_can_read() -> None:
    web = exports.questionnaire_response(record(COMPLETE), URL)
    contained = {resource["id"]: resource for resource in web["contained"]}
    assert (web["author"], web["source"]) == ({"reference": "#patient"}, {"reference": "#patient"})
    assert contained["patient"]["name"] == [{"text": "Ada Lovelace"}]
    assert contained["patient"]["telecom"] == [{"system": "phone", "value": "+12025550143"}]

    phone = exports.questionnaire_response(record(COMPLETE, source="phone", taken_by="bea"), URL)
    taker = {resource["id"]: resource for resource in phone["contained"]}["taker"]
    assert phone["author"] == {"reference": "#taker"}
    assert (taker["resourceType"], taker["name"]) == ("Practitioner", [{"text": "bea"}])
    assert phone["source"] == {"reference": "#patient"}  # the caller answered

    assert extension(web, exports.SUGGESTION_EXTENSION)["valueReference"] == {"reference": "#suggestion"}
    suggestion = RiskAssessment.model_validate(contained["suggestion"])
    assert suggestion.prediction[0].qualitativeRisk.coding[0].code == "soon"
    assert suggestion.prediction[0].qualitativeRisk.coding[0].display == "Soon (within a week)"
    assert suggestion.prediction[0].outcome.coding[0].code == "cgh_likely"
    assert suggestion.prediction[0].rationale == "Your headache keeps getting worse."
    assert suggestion.method.coding[0].version == RULES_VERSION
    assert [note.text for note in suggestion.note] == ["Your headache keeps getting worse. (rule soon-getting-worse)"]
    assert suggestion.basis[0].reference == "#"


def test_the_closing_and_the_verdict_go_into_the_fhir_export(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app, {**COMPLETE, "red_flags": ["progressive"]})
    reference = stored(storage_app)[0].reference
    finish = {"status": "booked", "closing_outcome": "emergency", "closing_note": "Sent to St Mary's"}
    assert post_form(desk_client, reference, "status", finish)[0] == 302
    clinician = make_clinician(storage_app)
    verdict = {"verdict": "more_urgent", "verdict_level": "urgent", "verdict_note": "Fever too"}
    assert post_form(clinician, reference, "verdict", verdict)[0] == 302

    body = json.loads(desk_client.get(f"/staff/requests/{reference}/fhir").get_data(as_text=True))
    QuestionnaireResponse.model_validate(body)
    questionnaire = storage_app.test_client().get("/fhir/Questionnaire/cervicogenic-headache-self-check").get_json()
    assert problems_against(body, questionnaire) == []
    closing = extension(body, exports.OUTCOME_EXTENSION)
    parts = {part["url"]: part for part in closing["extension"]}
    assert parts["outcome"]["valueCoding"] == {
        "system": exports.OUTCOME_SYSTEM, "code": "emergency", "display": "Sent to emergency care"}  # fmt: skip
    assert parts["note"]["valueString"] == "Sent to St Mary's"
    contained = {resource["id"]: resource for resource in body["contained"]}
    judged = RiskAssessment.model_validate(contained["verdict"])
    assert judged.code.coding[0].code == "more_urgent"
    assert judged.prediction[0].qualitativeRisk.coding[0].code == "urgent"
    assert judged.parent.reference == "#suggestion"
    assert judged.performer.reference == "#clinician"
    assert contained["clinician"]["name"] == [{"text": "dr_lee"}]
    assert [note.text for note in judged.note] == ["Fever too"]
    assert set(BY_ID) == {item["linkId"] for item in body["item"]}


def local_references(element: Any) -> list[str]:
    """Return every local reference ("#id") anywhere in a resource, as an EHR would follow them."""
    if isinstance(element, dict):
        found = [element["reference"]] if str(element.get("reference", "")).startswith("#") else []
        return found + [reference for value in element.values() for reference in local_references(value)]
    if isinstance(element, list):
        return [reference for value in element for reference in local_references(value)]
    return []


def test_every_local_reference_points_at_a_contained_resource_or_the_response() -> None:
    """An EHR following the subject, author, performer, suggestion or verdict finds the resource it names."""
    judged = record(COMPLETE, source="phone", taken_by="bea", verdict="right", verdict_by="dr_lee", verdict_at=AT)
    response = exports.questionnaire_response(judged, URL)
    contained = {resource["id"] for resource in response["contained"]}
    references = local_references(response)
    assert {"#patient", "#taker", "#suggestion", "#verdict", "#clinician", "#"} <= set(references)
    assert [reference for reference in references if reference != "#" and reference[1:] not in contained] == []
    assert extension(response, f"{exports.ANSWER_SYSTEM}:verdict")["valueReference"] == {"reference": "#verdict"}
    for resource in response["contained"]:
        if resource["resourceType"] == "RiskAssessment":
            assert resource["subject"] == {"reference": "#patient"}, resource["id"]
            assert resource["basis"] == [{"reference": "#"}], resource["id"]  # the answers it was worked out from
    assert response["subject"] == {"reference": "#patient", "display": "Ada Lovelace"}


def test_the_response_is_completed_with_its_reference_and_the_time_it_was_sent() -> None:
    """An EHR files the response as completed, under the request's reference, at the time it was sent."""
    response = exports.questionnaire_response(record(COMPLETE, verdict="right", verdict_at=AT), URL)
    assert response["status"] == "completed"
    assert response["id"] == "ABCDEFGH"  # the reference without its dash
    assert response["identifier"]["value"] == "ABCD-EFGH"
    assert response["authored"] == "2026-12-01T14:30:00+00:00"
    contained = {resource["id"]: resource for resource in response["contained"]}
    assert contained["suggestion"]["occurrenceDateTime"] == "2026-12-01T14:30:00+00:00"
    assert contained["verdict"]["occurrenceDateTime"] == "2026-12-01T14:30:00+00:00"
    assert (contained["suggestion"]["status"], contained["verdict"]["status"]) == ("final", "final")
    naive = exports.questionnaire_response(record(COMPLETE, received_at=AT.replace(tzinfo=None)), URL)
    assert naive["authored"] == "2026-12-01T14:30:00+00:00"  # SQLite gives the time back without its zone: UTC
    new_york = AT.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))  # a database session in another zone
    local = exports.questionnaire_response(record(COMPLETE, received_at=new_york), URL)
    assert datetime.datetime.fromisoformat(local["authored"]) == AT  # the same moment, whatever zone it came in


def test_a_phone_intake_or_a_verdict_with_no_name_recorded_names_the_desk_or_a_clinician() -> None:
    """With no staff name known, the author is "front desk" and the verdict's performer "clinician", never blank."""
    response = exports.questionnaire_response(record(COMPLETE, source="phone", verdict="right"), URL)
    contained = {resource["id"]: resource for resource in response["contained"]}
    assert contained["taker"]["name"] == [{"text": "front desk"}]
    assert contained["clinician"]["name"] == [{"text": "clinician"}]


def test_the_patient_has_only_the_contact_details_given_and_their_language() -> None:
    """The contained Patient lists the phone and email given, no empty entries, and the language they chose."""
    by_email = exports.questionnaire_response(record(COMPLETE, phone=None, email="ada@example.org", language="es"), URL)
    patient = by_email["contained"][0]
    assert patient["telecom"] == [{"system": "email", "value": "ada@example.org"}]
    assert patient["communication"] == [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}, "preferred": True}
    ]
    both = exports.questionnaire_response(record(COMPLETE, email="ada@example.org"), URL)["contained"][0]
    assert both["telecom"] == [
        {"system": "phone", "value": "+12025550143"}, {"system": "email", "value": "ada@example.org"}]  # fmt: skip
    neither = exports.questionnaire_response(record(COMPLETE, phone=None, language=None), URL)["contained"][0]
    assert "telecom" not in neither
    assert "communication" not in neither


def test_the_suggestion_and_verdict_are_in_words_and_every_reason_is_in_the_rationale() -> None:
    """The EHR shows the pattern and the verdict in words, and the rationale reads every reason as sentences."""
    reasons = (*REASONS, {"rule": "soon-other", "text": "It wakes you at night."})
    response = exports.questionnaire_response(record(COMPLETE, reasons=reasons, verdict="more_urgent"), URL)
    contained = {resource["id"]: resource for resource in response["contained"]}
    (prediction,) = contained["suggestion"]["prediction"]
    assert prediction["outcome"]["coding"][0]["display"] == "Likely from the neck"
    assert prediction["rationale"] == "Your headache keeps getting worse. It wakes you at night."
    assert contained["verdict"]["code"]["coding"][0]["display"] == "It should have been more urgent"
    assert contained["verdict"]["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "soon"  # no level: the same


def test_a_code_with_no_words_yet_is_shown_as_itself_never_blank() -> None:
    """A level, pattern or verdict the word lists do not know (a newer rule file) keeps its code as its display."""
    unknown = record(COMPLETE, level="watchful", pattern="cgh_new", verdict="unsure", verdict_level="watchful",
                     outcome="moved_away")  # fmt: skip
    response = exports.questionnaire_response(unknown, URL)
    contained = {resource["id"]: resource for resource in response["contained"]}
    (prediction,) = contained["suggestion"]["prediction"]
    assert prediction["qualitativeRisk"]["coding"][0]["display"] == "watchful"
    assert prediction["outcome"]["coding"][0]["display"] == "cgh_new"
    assert contained["verdict"]["code"]["coding"][0]["display"] == "unsure"
    assert contained["verdict"]["prediction"][0]["qualitativeRisk"]["coding"][0]["display"] == "watchful"
    closing = {part["url"]: part for part in extension(response, exports.OUTCOME_EXTENSION)["extension"]}
    assert closing["outcome"]["valueCoding"]["display"] == "moved_away"


def test_a_closing_without_a_note_sends_no_empty_note() -> None:
    """A request closed with no note has its outcome and no note part with nothing in it."""
    response = exports.questionnaire_response(record(COMPLETE, outcome="self_care"), URL)
    (part,) = extension(response, exports.OUTCOME_EXTENSION)["extension"]
    assert part["url"] == "outcome"
    assert part["valueCoding"]["display"] == "Gave self-care advice"
