"""The clinical safety file: the hazards it must log, each with controls, and only tests that exist as evidence."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

SAFETY = ROOT / "docs" / "clinical-safety"
HAZARD_LOG = SAFETY / "hazard-log.md"
NAMED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
FIELDS = ("**Hazard:**", "**Cause:**", "**Effect:**", "**Controls and evidence:**")
REQUIRED = (
    "Under-triage from a rule error",
    "A question misread",
    "An urgent request not acted on",
    "Wrong contact details",
    "A rule change that lowers urgency",
    "Translation drift",
    "The service down",
    "A mistake in phone intake",
)


def hazards() -> dict[str, str]:
    """Return each hazard's section of the log, by its title."""
    sections = re.split(r"^## H\d+\. ", HAZARD_LOG.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    return {section.splitlines()[0].strip(): section for section in sections}


def functions_in(path: Path) -> set[str]:
    """Return the test functions a test file defines, at module level or in a class."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found |= {item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
    return found


def test_the_log_holds_every_required_hazard_once_with_every_field() -> None:
    logged = hazards()
    assert set(REQUIRED) <= set(logged)
    for title, section in logged.items():
        for label in FIELDS:
            assert section.count(label) == 1, f"{title}: {label}"
        assert NAMED_TEST.search(section), f"{title}: no test shows a control works"
        assert f"| {title} |" in HAZARD_LOG.read_text(encoding="utf-8"), f"{title} is not in the summary table"


@pytest.mark.parametrize("title", REQUIRED)
def test_every_test_a_hazard_names_exists(title: str) -> None:
    for path, name in NAMED_TEST.findall(hazards()[title]):
        test_file = ROOT / path
        assert test_file.is_file(), f"{title}: {path} does not exist"
        assert name in functions_in(test_file), f"{title}: {path}::{name} does not exist"


def test_the_check_catches_a_missing_test(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_real() -> None:\n    pass\n", encoding="utf-8")
    assert functions_in(tmp_path / "test_x.py") == {"test_real"}
    assert NAMED_TEST.findall("`tests/test_x.py::test_gone`") == [("tests/test_x.py", "test_gone")]


def test_the_intended_use_says_who_it_is_not_for() -> None:
    text = (SAFETY / "intended-use.md").read_text(encoding="utf-8")
    for heading in ("## What it is", "## Intended users", "## What it does not do", "## Who it is not for"):
        assert heading in text
    assert "does **not diagnose**" in text
