"""The exports an integrator uses: CSV with words beside the codes, safe in a spreadsheet; FHIR R4."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from examples import COMPLETE
from symptomcheck.records import exports
from symptomcheck.records.models import ContactRequest, db
from tests.helpers import RULES_VERSION
from tests.test_closing import make_clinician, post_form
from tests.test_fhir import record
from tests.test_frontdesk import CONTACT, send_request, stored
from tests.test_journey import Patient

RECEIVED = datetime.datetime(2026, 12, 1, 14, 30, tzinfo=datetime.UTC)  # 09:30 in New York (EST, -05:00)


def exported_rows(client: FlaskClient, query: str = "?status=all") -> list[dict[str, str]]:
    response = client.get(f"/staff/export.csv{query}")
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_has_words_beside_codes_times_with_offsets_and_the_closing(
    storage_app: Flask, desk_client: FlaskClient
) -> None:
    answers = {**COMPLETE, "red_flags": ["progressive"], "radiation": ["arm", "shoulder_upper_back"]}
    send_request(storage_app, answers, {**CONTACT, "phone": "(202) 555-0143"})
    reference = stored(storage_app)[0].reference
    with storage_app.app_context():
        db.session.execute(update(ContactRequest).values(received_at=RECEIVED))
        db.session.commit()
    finish = {"status": "booked", "closing_outcome": "booked", "closing_note": "=Dr Lee, Tue 2 pm"}
    assert post_form(desk_client, reference, "status", finish)[0] == 302
    clinician = make_clinician(storage_app)
    verdict = {"verdict": "more_urgent", "verdict_level": "urgent", "verdict_note": "Worse each week"}
    assert post_form(clinician, reference, "verdict", verdict)[0] == 302

    (row,) = exported_rows(desk_client)
    assert row["received_at"] == "2026-12-01T09:30:00-05:00"
    assert datetime.datetime.fromisoformat(row["received_at"]) == RECEIVED
    assert row["status_changed_at"].endswith("-05:00")
    assert (row["level"], row["level_words"]) == ("soon", "Soon (within a week)")
    assert (row["pattern"], row["pattern_words"]) == ("cgh_likely", "Likely from the neck")
    assert (row["source"], row["source_words"]) == ("web", "Online")
    assert (row["status"], row["status_words"]) == ("booked", "Booked")
    assert row["reasons"].startswith("soon-getting-worse; ")
    assert row["rules_version"] == RULES_VERSION
    assert row["phone"] == "+12025550143"  # text, the plus kept
    assert (row["preferred_time"], row["preferred_time_words"], row["language"]) == ("morning", "Morning", "en")
    assert (row["outcome"], row["outcome_words"]) == ("booked", "Booked a visit")
    assert row["outcome_note"] == "'=Dr Lee, Tue 2 pm"  # never run as a formula
    assert (row["verdict"], row["verdict_words"]) == ("more_urgent", "It should have been more urgent")
    assert (row["verdict_level"], row["verdict_level_words"]) == ("urgent", "Urgent (care today)")
    assert (row["verdict_note"], row["verdict_by"]) == ("Worse each week", "dr_lee")
    assert row["verdict_at"].endswith(("-05:00", "-04:00"))
    assert (row["red_flags"], row["red_flags_words"]) == (
        "progressive", "The headache started in the last 3 months and keeps getting worse")  # fmt: skip
    assert (row["radiation"], row["radiation_words"]) == ("arm;shoulder_upper_back", "Arm; Shoulder or upper back")
    assert (row["migraine_features"], row["migraine_features_words"]) == ("", "None")
    assert (row["age_band"], row["age_band_words"]) == ("18_49", "18 to 49")
    assert (row["pain_intensity"], row["pain_intensity_words"]) == ("5", "5 out of 10")
    assert row["merged_into"] == ""
    assert list(row) == exports.CSV_COLUMNS


def test_every_csv_cell_is_quoted(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app)
    body = desk_client.get("/staff/export.csv").get_data(as_text=True)
    for line in body.splitlines():
        cells = next(csv.reader([line]))
        assert line == ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)


def test_a_merged_request_names_the_one_kept(storage_app: Flask, desk_client: FlaskClient) -> None:
    send_request(storage_app)
    send_request(storage_app)
    kept, duplicate = (row.reference for row in stored(storage_app))
    page = Patient(desk_client).read(f"/staff/requests/{duplicate}")
    csrf = page.find("input", attrs={"name": "csrf_token"})["value"]
    desk_client.post(f"/staff/requests/{duplicate}/merge", data={"kept": kept, "csrf_token": csrf})
    rows = {row["reference"]: row for row in exported_rows(desk_client)}
    assert (rows[duplicate]["merged_into"], rows[duplicate]["status"]) == (kept, "closed")
    assert rows[kept]["merged_into"] == ""


@pytest.mark.parametrize(
    "text",
    [
        "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1",  # each formula start
        "  =1+1", "\u00a0=1+1", "\u200b=1+1", "\ufeff@SUM(A1)", "\u2060-1+1", "\u3000=1+1",  # after spaces, invisibles
        "\uff1d1+1", "\uff0b1+1", "\uff0d1+1", "\uff20SUM(A1)",  # full-width = + - @
        "+1 202 555 0143+HYPERLINK(\"x\")", "+12025550143=1", "+1)-cmd|' /C calc'!A0",
        "+1-1", "+123", "+1 202 555 0143 =1", "+0 1234567",  # a plus that is not a phone number
        "\tcmd", "\rcmd", "\t", "\r",  # a tab or a carriage return first, whatever follows
    ],
)  # fmt: skip
def test_a_formula_start_is_prefixed(text: str) -> None:
    cell = exports.csv_cell(text)
    assert cell.startswith("'")
    assert cell[1:].replace("'", "") == text.replace("'", "")  # nothing else changed


@pytest.mark.parametrize("text", ["+12025550143", "+1 202-555-0143", "+1 (202) 555-0143", "+44 20 7946 0958"])
def test_a_real_phone_number_stays_readable(text: str) -> None:
    assert exports.csv_cell(text) == text


@pytest.mark.parametrize("text", ["Ada Lovelace", "ada@example.org", "2026.12.1", "a-b", "a=b", ""])
def test_plain_text_is_left_alone(text: str) -> None:
    assert exports.csv_cell(text) == text


def test_a_separator_then_a_formula_stays_in_its_cell(storage_app: Flask, desk_client: FlaskClient) -> None:
    """`;=1+1` in a name: read with ';' as the separator (as some spreadsheets do), the cell still holds it all."""
    send_request(storage_app, contact={**CONTACT, "name": "Ada;=1+1"})
    body = desk_client.get("/staff/export.csv").get_data(as_text=True)
    assert "Ada;'=1+1" in body
    for line in body.splitlines():
        assert not any(exports.starts_a_formula(piece.strip('"')) for piece in line.split(";")), line


def test_a_list_is_joined_and_every_piece_checked() -> None:
    words: list[Any] = ["=cmd", "x", "@y"]
    assert exports.csv_cell(words) == "'=cmd;x;'@y"
    assert exports.csv_cell("a\t=1+1") == "a\t'=1+1"


def exported(*records: exports.Record) -> list[dict[str, str]]:
    """Return the rows of the CSV export of some records, as a spreadsheet reads them."""
    return list(csv.DictReader(io.StringIO(exports.requests_csv(records))))


def test_a_request_not_yet_closed_or_judged_has_empty_cells_and_words_for_no_pattern() -> None:
    """A new request's closing, verdict and their times are empty cells; no pattern reads "None"."""
    (row,) = exported(record(COMPLETE, pattern=None))
    for column in ("status_changed_at", "outcome", "outcome_words", "outcome_note", "verdict", "verdict_words",
                   "verdict_level", "verdict_level_words", "verdict_note", "verdict_by", "verdict_at", "merged_into",
                   "taken_by"):  # fmt: skip
        assert row[column] == "", column
    assert (row["pattern"], row["pattern_words"]) == ("", "None")


def test_the_warning_signs_answered_none_and_a_question_never_reached_read_as_such() -> None:
    """No warning sign ticked reads "None of these"; a question the form stopped before is empty, not "None"."""
    answered, stopped = exported(record(COMPLETE), record({"age_band": "50_plus", "red_flags": ["thunderclap"]}))
    assert (answered["red_flags"], answered["red_flags_words"]) == ("", "None of these")
    assert (answered["impact"], answered["impact_words"]) == ("", "None")
    assert answered["headache_days_words"] == "6 days a month"
    for column in ("radiation", "headache_days", "pain_intensity", "treatment_result"):
        assert (stopped[column], stopped[f"{column}_words"]) == ("", ""), column


def test_a_code_with_no_words_yet_is_its_own_words_in_the_csv() -> None:
    """A level, pattern, source, status or contact time the word lists do not know is shown as itself, not blank."""
    unknown = record(COMPLETE, level="watchful", pattern="cgh_new", source="kiosk", status="waiting",
                     preferred_time="lunch")  # fmt: skip
    (row,) = exported(unknown)
    for column, code in (("level", "watchful"), ("pattern", "cgh_new"), ("source", "kiosk"), ("status", "waiting"),
                         ("preferred_time", "lunch")):  # fmt: skip
        assert (row[column], row[f"{column}_words"]) == (code, code), column
