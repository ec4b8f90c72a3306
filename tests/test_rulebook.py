"""The rule book: every rule in plain words, where it comes from, English and Spanish, the proofs and the coverage."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from click.testing import CliRunner

from symptomcheck.cli import rules
from symptomcheck.rules import wording
from symptomcheck.web import rulebook
from tests.helpers import CLINICAL, PUBLISHED_RULES, RULES_FILE, check_page, text_of


def rule(rule_id: str):  # type: ignore[no-untyped-def]
    return next(item for item in PUBLISHED_RULES.rules if item.id == rule_id)


def test_conditions_read_as_plain_sentences() -> None:
    assert wording.sentence(rule("emergency-fever-and-stiff-neck").condition) == (
        "a warning sign: fever, and the neck is stiff"
    )
    assert wording.sentence(rule("routine-frequent").condition) == "headaches on at least 5 days a month"
    assert wording.sentence(rule("soon-jaw-or-scalp-pain-under-50").condition) == (
        "a warning sign: jaw_scalp_pain, and age group: not 50 or older"
    )
    # an `any` inside an `all` is spelt out, so the sentence cannot be read two ways
    assert wording.sentence(rule("urgent-cancer-or-immune-new-or-fever").condition) == (
        "all of these: a warning sign: cancer_or_immune; "
        "(any of these: the headaches lasted less than 1 month; a warning sign: fever)"
    )
    unclear = wording.outline(rule("pattern-unclear").condition)
    assert unclear.text == "at least 3 of these" and len(unclear.parts) == 5
    assert unclear.parts[0].text == "not sure whether the pain starts in the neck"
    assert "no warning signs" in wording.sentence(rule("self-care-new-and-mild").condition)


def book() -> BeautifulSoup:
    return check_page(rulebook.build(PUBLISHED_RULES))


def test_the_book_shows_the_version_review_and_every_rule_under_its_level() -> None:
    soup = book()
    text = text_of(soup)
    assert f"Version {PUBLISHED_RULES.version}" in text
    assert PUBLISHED_RULES.reviewed_by in text and PUBLISHED_RULES.reviewed_on.isoformat() in text
    assert rulebook.file_digest(RULES_FILE) in text
    for item in PUBLISHED_RULES.rules:
        card = soup.find(id=f"rule-{item.id}")
        assert card is not None, item.id
        if item.level:
            level = card.find_parent("section", class_="level")
            assert level.find("h3").get("id") == f"level-{item.level.id}"
    fever = text_of(soup.find(id="rule-emergency-fever-and-stiff-neck"))
    assert "a warning sign: fever, and the neck is stiff" in fever


def test_each_rule_shows_its_reason_in_english_and_spanish_and_its_triage_line() -> None:
    soup = book()
    with rulebook.SPANISH_CATALOG.open("rb") as po_file:
        spanish = read_po(po_file)
    triage = (CLINICAL / "triage.md").read_text(encoding="utf-8").splitlines()
    for item in PUBLISHED_RULES.rules:
        card = text_of(soup.find(id=f"rule-{item.id}"))
        reason = item.reason.format(emergency_number="911", clinic_name="the clinic")
        assert reason in card
        translated = spanish.get(item.reason).string.format(emergency_number="911", clinic_name="the clinic")
        assert translated in card, item.id
        assert "triage.md line" in card, item.id
    fever = text_of(soup.find(id="rule-urgent-fever"))
    row = next(number for number, line in enumerate(triage, start=1) if line.startswith("| `urgent` |"))
    assert f"triage.md line {row} (row urgent)" in fever
    likely = text_of(soup.find(id="rule-pattern-neck-likely"))
    row = next(number for number, line in enumerate(triage, start=1) if line.startswith("| `cgh_likely` |"))
    assert f"triage.md line {row} (row cgh_likely)" in likely
    treatment = text_of(soup.find(id="rule-treatment-has-not-settled"))
    assert "(section 3. Prior treatment)" in treatment


def test_each_rule_lists_the_worked_cases_that_fire_it() -> None:
    soup = book()
    assert "v01-thunderclap" in text_of(soup.find(id="rule-emergency-thunderclap"))
    assert "v15-myelopathy" in text_of(soup.find(id="rule-urgent-spinal-cord-signs"))


def test_the_book_shows_every_guarantee_proved_and_the_coverage() -> None:
    soup = book()
    rows = soup.find(id="guarantees").find_next("table").find("tbody").find_all("tr")
    assert len(rows) > 40
    assert all("proved" in text_of(row) for row in rows)
    coverage = text_of(soup.find(id="coverage").find_parent("main"))
    assert "Expected level (rows) against suggested level (columns)" in coverage
    assert "Under-triage (less urgent than expected): 0" in coverage
    assert "pain_intensity >= 4" in coverage


def test_the_book_is_self_contained() -> None:
    soup = book()
    assert not soup.find("script") and not soup.find("link") and not soup.find("img")
    assert soup.style is not None and soup.style.string == rulebook.STYLE
    assert "@media print" in rulebook.STYLE


def test_a_broken_guarantee_shows_in_the_book(tmp_path: Path) -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    weakened = tmp_path / "rules.yaml"
    rule_text = "when: {contains: [red_flags, fever]}\n    level: "
    weakened.write_text(text.replace(rule_text + "urgent", rule_text + "soon"), encoding="utf-8")
    code = CliRunner().invoke(rules, ["book", str(weakened), "-o", str(tmp_path / "book.html")]).exit_code
    assert code == 0
    soup = check_page((tmp_path / "book.html").read_text(encoding="utf-8"))
    broken = [row for row in soup.find(id="guarantees").find_next("table").find_all("tr") if "BROKEN" in row.text]
    assert any("urgent-fever" in row.text for row in broken)


def test_rules_book_writes_the_page() -> None:
    result = CliRunner().invoke(rules, ["book"])
    assert result.exit_code == 0
    assert result.stdout.startswith("<!doctype html>")
    assert f"<title>Rule book: symptomcheck rules {PUBLISHED_RULES.version}</title>" in result.stdout
