"""Imports point one way: pages use the plumbing, the records and the rules; the rules use nothing of ours."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "symptomcheck"
RULES_THIRD_PARTY = {"yaml", "z3"}

# Which part may import which (besides itself). The factory and the CLIs sit on top and may use any part.
MAY_IMPORT = {
    "rules": set(),
    "records": {"rules"},
    "web": {"rules", "records"},
    "patient": {"web", "records", "rules"},
    "staff": {"web", "records", "rules"},
}
TOP = {"symptomcheck", "symptomcheck.cli", "symptomcheck.commands"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Return every module a file imports, at any depth (inside functions too), with `from a import b` as a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module.startswith("symptomcheck"):
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def our_modules() -> dict[str, Path]:
    return {
        module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.relative_to(PACKAGE).parts
    }


def part_of(name: str) -> str | None:
    """Return the part (rules, records, web, patient, staff) a module of ours belongs to, or None at the top."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


def test_every_module_belongs_to_a_part_or_to_the_top() -> None:
    assert {name for name in our_modules() if part_of(name) is None} == TOP


@pytest.mark.parametrize("module", sorted(our_modules()))
def test_imports_point_one_way(module: str) -> None:
    part = part_of(module)
    if part is None:
        return  # the factory and the CLIs may use every part
    known = our_modules()
    for name in imported_modules(known[module]):
        if not name.startswith("symptomcheck"):
            continue
        if name not in known and name.rsplit(".", 1)[0] in known:
            name = name.rsplit(".", 1)[0]  # `from symptomcheck.rules.engine import assess`
        target = part_of(name)
        assert target is not None, f"{module} imports {name}, which sits on top"
        assert target == part or target in MAY_IMPORT[part], f"{module} ({part}) imports {name} ({target})"


@pytest.mark.parametrize("module", sorted(name for name in our_modules() if part_of(name) == "rules"))
def test_the_rules_import_only_the_rules_stdlib_and_yaml(module: str) -> None:
    for name in imported_modules(our_modules()[module]):
        top = name.split(".")[0]
        if top == "symptomcheck":
            assert name.startswith("symptomcheck.rules"), f"{module} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in RULES_THIRD_PARTY, f"{module} imports {name}"


def test_importing_the_rules_loads_no_web_framework() -> None:
    """Check sys.modules in a fresh interpreter: an import hidden behind another module shows up there."""
    rules = sorted(name for name in our_modules() if part_of(name) == "rules")
    script = f"import sys\nfor name in {rules!r}:\n    __import__(name)\nprint(' '.join(sorted(sys.modules)))"
    command = [sys.executable, "-c", script]
    loaded = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()  # noqa: S603
    for framework in ("flask", "wtforms", "flask_wtf", "babel", "flask_babel", "sqlalchemy", "werkzeug", "jinja2"):
        assert framework not in loaded, f"importing the rules loads {framework}"
    assert "symptomcheck.rules.engine" in loaded  # the script really imported the rules


def test_the_patient_and_staff_pages_never_import_each_other() -> None:
    for module, path in our_modules().items():
        part = part_of(module)
        if part in {"patient", "staff"}:
            other = "staff" if part == "patient" else "patient"
            assert not any(name.startswith(f"symptomcheck.{other}") for name in imported_modules(path)), module


def test_pages_read_no_yaml_and_compare_no_answers() -> None:
    for module, path in our_modules().items():
        if part_of(module) in {"patient", "staff"}:
            imports = imported_modules(path)
            assert "yaml" not in imports, module
            assert not any(name.startswith("symptomcheck.rules.conditions") for name in imports), module


def test_a_worker_starts_without_loading_what_only_a_few_pages_use() -> None:
    """z3 (the rule book's proofs), pygal (the dashboard's charts), zxcvbn (setting a password) and segno (the
    two-factor QR code) load when used: together about 17 MB of every worker's memory and 0.3 s of its start."""
    script = (
        "import sys\nfrom symptomcheck import create_app\n"
        "create_app({'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite://'})\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    command = [sys.executable, "-c", script]
    loaded = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()  # noqa: S603
    assert "symptomcheck.patient.views" in loaded  # the script really made the app
    for module in ("z3", "pygal", "zxcvbn", "segno"):
        assert module not in loaded, f"a new worker loaded {module}"
