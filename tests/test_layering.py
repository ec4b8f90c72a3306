"""Imports point one way: the domain never imports the web framework."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOMAIN = ["questions", "conditions", "problems", "marked", "ruleset", "engine", "vignettes", "verify"]
ALLOWED_THIRD_PARTY = {"yaml", "z3"}  # z3: the solver `verify` proves the guarantees with


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "symptomcheck":
            names.update(f"symptomcheck.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_only_the_domain_stdlib_and_yaml(module: str) -> None:
    for name in imported_modules(ROOT / "symptomcheck" / f"{module}.py"):
        top = name.split(".")[0]
        if top == "symptomcheck":
            assert name.split(".")[1] in DOMAIN, f"{module} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, f"{module} imports {name}"


def test_views_read_no_yaml_and_compare_no_answers() -> None:
    for module in ("views", "api", "forms"):
        imports = imported_modules(ROOT / "symptomcheck" / f"{module}.py")
        assert "yaml" not in imports
        assert "symptomcheck.conditions" not in imports
