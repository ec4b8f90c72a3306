"""Shared fixtures: the app, a test client, a CLI runner and the rules."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from symptomcheck import create_app
from symptomcheck.records.models import db
from symptomcheck.rules import loader
from symptomcheck.rules.loader import RuleSet
from tests.helpers import RULES_FILE, empty_tables

# Staff log in with a password alone in the tests (and in the servers they start) unless a test turns
# two-factor on: tests/test_staff_accounts.py tests it explicitly.
os.environ.setdefault("SYMPTOMCHECK_STAFF_TWO_FACTOR", "false")
os.environ.setdefault("SYMPTOMCHECK_USAGE_FLUSH_SECONDS", "0")  # each count written at once (test_usage tests the wait)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return loader.load(RULES_FILE)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite database per test run; each test starts from a copy instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}", "AUTO_MIGRATE": True})
    with app.app_context():
        db.engine.dispose()
    return path


def fresh_sqlite(template: Path, folder: Path, name: str) -> str:
    """Return the URL of a new copy of the migrated database, in a test's own folder."""
    copy = folder / name
    shutil.copyfile(template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def make_app(tmp_path: Path, migrated_sqlite: Path) -> Callable[..., Flask]:
    """Return a factory of test apps on a throwaway SQLite file, with any setting changed."""

    def make(**config: Any) -> Flask:
        defaults = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "RULES_FILE": str(RULES_FILE),
            "DATABASE_URL": fresh_sqlite(migrated_sqlite, tmp_path, "test.db"),
            "AUTO_MIGRATE": False,  # a copy of a migrated database: only checked, not migrated again
        }
        return create_app({**defaults, **config})

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_app(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> Iterator[Flask]:
    """An app on a real, empty, migrated database: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = fresh_sqlite(migrated_sqlite, tmp_path, "store.db")
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            pytest.skip("TEST_DATABASE_URL is not set, so the PostgreSQL run is skipped")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "RULES_FILE": str(RULES_FILE),
            "DATABASE_URL": url,
            "AUTO_MIGRATE": True,
        }
    )
    empty_tables(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def desk_client(storage_app: Flask) -> FlaskClient:
    """A front-desk member, logged in, on the storage app."""
    from tests.test_frontdesk import log_in, make_staff

    make_staff(storage_app)
    client = storage_app.test_client()
    assert log_in(client).location == "/staff/"
    return client
