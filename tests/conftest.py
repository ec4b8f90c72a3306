"""Shared fixtures: the app, a test client, a CLI runner and the rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from symptomcheck import create_app, ruleset
from symptomcheck.ruleset import RuleSet
from tests.helpers import RULES_FILE


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return ruleset.load(RULES_FILE)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "RULES_FILE": str(RULES_FILE),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()
