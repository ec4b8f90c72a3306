"""`flask rules release`: check, prove, test and compare; refuse, or write the note a clinician signs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from symptomcheck.cli import rules
from tests.helpers import PUBLISHED_RULES, RULES_FILE, RULES_VERSION

REVIEWED = (
    f'version: "{RULES_VERSION}"',
    f"reviewed_on: {PUBLISHED_RULES.reviewed_on.isoformat()}",
)


def candidate(tmp_path: Path, *changes: tuple[str, str], reviewed: bool = True) -> Path:
    """Write a copy of rules.yaml with these replacements and, unless told otherwise, a new version and review."""
    text = RULES_FILE.read_text(encoding="utf-8")
    if reviewed:
        lines = [line for line in text.splitlines() if line.startswith("reviewed_by:")]
        changes = (
            (REVIEWED[0], 'version: "2099.1.1"'),
            (REVIEWED[1], "reviewed_on: 2099-01-01"),
            (lines[0], 'reviewed_by: "Dr Ada Reviewer, lead clinician"'),
            *changes,
        )
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "candidate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def release(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(rules, ["release", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_good_release_writes_the_note_to_sign(tmp_path: Path) -> None:
    higher = "when: {at_least: [headache_days, 5]}"
    path = candidate(tmp_path, (higher, "when: {at_least: [headache_days, 6]}"))
    note = tmp_path / "note.md"
    code, out, err = release(str(path), "-o", str(note))
    assert (code, err) == (0, "")
    assert out == f"{path}: version 2099.1.1 may be released; sign {note}.\n"
    text = note.read_text(encoding="utf-8")
    assert text.startswith("# Rule set 2099.1.1: release note\n")
    assert f"Replaces: version {RULES_VERSION}" in text
    assert "Reviewed by: Dr Ada Reviewer, lead clinician, on 2099-01-01" in text
    assert "no longer fires: routine-frequent" in text  # what changed: the cases with 5 headache days a month
    assert "No text the person reads changed." in text
    assert "Under-triage (less urgent than expected): 0" in text  # the figures
    assert "guarantees of `guarantees.yaml` hold" in text and "`emergency-thunderclap`:" in text  # the proofs
    assert "## Sign-off" in text and "Signature:" in text


def test_the_note_goes_to_release_notes_by_default(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = candidate(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, _, _ = release(str(path))
    assert code == 0
    assert (tmp_path / "release-notes" / "2099.1.1.md").exists()


def test_a_release_without_a_new_version_and_review_is_refused(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    code, _, err = release(str(RULES_FILE), "-o", str(note))
    assert code == 1
    assert f"REFUSED: the version was not updated (still {RULES_VERSION})" in err
    assert "REFUSED: reviewed_by was not updated" in err
    assert "REFUSED: reviewed_on was not updated" in err
    assert not note.exists()


def test_a_release_that_breaks_a_guarantee_or_a_case_is_refused(tmp_path: Path) -> None:
    rule = "when: {contains: [red_flags, myelopathy]}\n    level: "
    path = candidate(tmp_path, (rule + "urgent", rule + "soon"))
    code, _, err = release(str(path), "-o", str(tmp_path / "note.md"))
    assert code == 1
    assert "REFUSED: guarantee 'urgent-myelopathy' is broken" in err
    assert "REFUSED: worked case v15-myelopathy: expected level urgent, got soon (UNDER-TRIAGE)" in err
    assert "REFUSED: less urgent than the published rules for: v15-myelopathy" in err
    assert not (tmp_path / "note.md").exists()


def test_a_less_urgent_case_needs_the_flag_and_is_named_in_the_note(tmp_path: Path) -> None:
    rule = "when: {contains: [red_flags, myelopathy]}\n    level: "
    (tmp_path / "old").mkdir()
    published = candidate(tmp_path / "old", (rule + "urgent", rule + "emergency"), reviewed=False)
    path = candidate(tmp_path)
    code, _, err = release(str(path), "--published", str(published), "-o", str(tmp_path / "note.md"))
    assert code == 1
    assert "REFUSED: less urgent than the published rules for: v15-myelopathy" in err
    args = ("--published", str(published), "--allow-less-urgent", "-o", str(tmp_path / "note.md"))
    code, _, _ = release(str(path), *args)
    assert code == 0
    text = (tmp_path / "note.md").read_text(encoding="utf-8")
    assert "**Less urgent than before, released with --allow-less-urgent:** v15-myelopathy" in text
    assert "emergency/cgh_likely -> urgent/cgh_likely (LESS URGENT)" in text


def test_a_reason_without_spanish_is_refused_and_a_changed_text_is_shown(tmp_path: Path) -> None:
    path = candidate(tmp_path, ("You have a fever with this headache.", "You have a fever today."))
    code, _, err = release(str(path), "-o", str(tmp_path / "note.md"))
    assert code == 1
    assert "REFUSED: no Spanish for the reason of rule urgent-fever: You have a fever today." in err
