"""`flask rules check | test | diff`: messages and exit codes a script can use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from symptomcheck.cli import rules
from symptomcheck.rules import vignettes
from tests.helpers import CLINICAL, ROOT, RULES_FILE, RULES_VERSION

INVALID = Path(__file__).parent / "rules" / "invalid"
VIGNETTES = str(CLINICAL / "vignettes.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(rules, list(args))
    return result.exit_code, result.stdout, result.stderr


def lower_a_rule(tmp_path: Path, red_flag: str) -> Path:
    """Write a copy of rules.yaml whose rule for one red flag says `soon` instead of `urgent`."""
    rule = f"when: {{contains: [red_flags, {red_flag}]}}\n    level: "
    text = RULES_FILE.read_text(encoding="utf-8")
    assert text.count(rule + "urgent") == 1
    weakened = tmp_path / "rules.yaml"
    weakened.write_text(text.replace(rule + "urgent", rule + "soon"), encoding="utf-8")
    return weakened


def test_check_passes_the_real_rules() -> None:
    code, out, _ = run("check", str(RULES_FILE))
    assert code == 0
    assert out.startswith(f"{RULES_FILE}: OK, version {RULES_VERSION},")


def test_check_prints_each_problem_with_its_line() -> None:
    code, _, err = run("check", str(INVALID / "operator_shape.yaml"))
    assert code == 1
    assert f"{INVALID / 'operator_shape.yaml'}:16: rule 'r2': 'all' needs a non-empty list of conditions." in err
    assert f"{INVALID / 'operator_shape.yaml'}:20: rule 'r3':" in err
    assert "2 problem(s)" in err


def test_test_runs_vignettes_and_passes() -> None:
    code, out, _ = run("test", VIGNETTES)
    assert code == 0
    count = len(vignettes.load(VIGNETTES))
    assert out.strip().endswith(f"{count} of {count} vignettes match.")


def test_test_prints_each_mismatch_with_the_rules_that_fired(tmp_path: Path) -> None:
    weakened = lower_a_rule(tmp_path, "fever")
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- id: fever-case\n  story: Fever.\n  answers: {age_band: '18_49', red_flags: [fever]}\n"
        "  expect: {level: urgent}\n",
        encoding="utf-8",
    )
    code, out, _ = run("test", "--rules", str(weakened), str(cases))
    assert code == 1
    assert "MISMATCH fever-case: answers are not valid" in out  # a non-emergency needs every answer
    assert out.strip().endswith("0 of 1 vignettes match.")
    code, out, _ = run("test", "--rules", str(weakened), VIGNETTES)
    assert code == 0  # no clinic vignette has a fever on its own


def test_diff_shows_every_case_that_would_change(tmp_path: Path) -> None:
    changed = tmp_path / "rules.yaml"
    text = RULES_FILE.read_text(encoding="utf-8").replace(f'version: "{RULES_VERSION}"', 'version: "2099.1.1"')
    changed.write_text(text.replace("at_least: [pain_intensity, 4]", "at_least: [pain_intensity, 7]"), encoding="utf-8")
    code, out, _ = run("diff", str(RULES_FILE), str(changed), VIGNETTES)
    assert code == 1
    assert "CHANGED v07-classic-cgh-failed-pt: no longer fires: routine-more-than-mild-pain\n" in out
    assert out.strip().endswith(f"cases would change (version {RULES_VERSION} -> 2099.1.1).")
    cases = vignettes.load(VIGNETTES)
    in_between = [case for case in cases if 4 <= case.answers.get("pain_intensity", -1) < 7]
    assert in_between  # the clinic's cases must sit on both sides of the changed threshold
    assert f"{len(in_between)} of {len(cases)} cases would change" in out
    code, out, _ = run("diff", str(RULES_FILE), str(RULES_FILE), VIGNETTES)
    assert code == 0
    assert f"0 of {len(cases)} cases would change" in out


def test_diff_flags_a_case_that_becomes_less_urgent(tmp_path: Path) -> None:
    weakened = lower_a_rule(tmp_path, "myelopathy")
    code, out, _ = run("diff", str(RULES_FILE), str(weakened), VIGNETTES)
    assert code == 1
    assert "CHANGED v15-myelopathy: urgent/cgh_likely -> soon/cgh_likely (LESS URGENT)\n" in out


def test_a_broken_vignette_file_exits_2(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- id: x\n", encoding="utf-8")
    code, _, err = run("test", str(cases))
    assert code == 2
    assert "needs exactly the keys" in err


def test_flask_finds_the_command_even_when_the_app_cannot_start() -> None:
    broken = str(INVALID / "unknown_answer.yaml")
    env = {**os.environ, "SYMPTOMCHECK_RULES_FILE": broken}
    command = [sys.executable, "-m", "flask", "--app", "symptomcheck", "rules", "check", broken]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)  # noqa: S603
    assert result.returncode == 1
    assert f"{broken}:16: rule 'r2': 'neck_orign' is not a question in the questionnaire." in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_warns_when_the_version_did_not_change_and_shows_texts_side_by_side(tmp_path: Path) -> None:
    changed = tmp_path / "rules.yaml"
    text = RULES_FILE.read_text(encoding="utf-8")
    changed.write_text(text.replace("You have a fever with this headache.", "You have a fever."), encoding="utf-8")
    code, out, _ = run("diff", str(RULES_FILE), str(changed), VIGNETTES)
    assert code == 1  # a changed text is a difference
    assert f"warning: the version did not change ({RULES_VERSION})" in out
    lines = out.splitlines()
    at = lines.index("TEXT rule 'urgent-fever' reason:")
    assert lines[at + 1].split() == ["old", "|", "new"]
    old, new = (part.strip() for part in lines[at + 2].split("|"))
    assert (old, new) == ("You have a fever with this headache.", "You have a fever.")
    assert lines[at + 2].index("|") == lines[at + 1].index("|")  # two columns


def test_diff_shows_changed_advice_and_new_rules(tmp_path: Path) -> None:
    changed = tmp_path / "rules.yaml"
    text = RULES_FILE.read_text(encoding="utf-8").replace(f'version: "{RULES_VERSION}"', 'version: "2099.1.1"')
    text = text.replace("Bring this summary to your visit.", "Bring this page to your visit.")
    text = text.replace("  - id: routine-under-18\n", "  - id: routine-young\n")
    changed.write_text(text, encoding="utf-8")
    code, out, _ = run("diff", str(RULES_FILE), str(changed), VIGNETTES)
    assert code == 1
    assert "warning: the version did not change" not in out
    assert "TEXT level 'routine' advice:" in out
    assert "Bring this page to your visit." in out
    assert "TEXT rule 'routine-under-18' reason:" in out  # gone: old text, new (none)
    assert "TEXT rule 'routine-young' reason:" in out
    assert "(none)" in out
