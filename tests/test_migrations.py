"""The migrations: the newest upgrades a database in use, on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from symptomcheck import create_app
from symptomcheck.records import storage
from symptomcheck.records.models import db
from tests.helpers import RULES_FILE

BEFORE_OUTBOX = "180cd3da3990"
OUTBOX = "5d2e8a41c7b9"
UPDATES = "b7e1c0d4a2f5"  # a request may update an earlier one
ASSIGNMENT = "9c4f1e2a7d30"
OUTCOME = "c3d9a6f1e8b2"  # closing outcome, clinician's verdict, clinician role
INTAKE = "a11b2c9e5f48"  # who took a phone intake's call; an emergency call record has no consent time
MERGES = "a11d4e7f9c03"  # outcome and verdict in the history; merged duplicates
STAFF_SESSIONS = "c15b6e1d9a27"  # server-side staff sessions, accounts, two-factor, hashed login names
USAGE = "d12e8c4b7f35"  # daily usage counters
RELIABILITY = "b15f3a2c8d14"  # ended sessions, the contact form's one-time token
SEALED_TOTP = "e3a7c5d1f926"  # two-factor secrets stored sealed


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database with nothing in it, made for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set, so the PostgreSQL run is skipped")
    server = make_url(url)
    name = f"{server.database}_migrations"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_outbox_migration_upgrades_a_database_in_use(empty_database: str) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": empty_database,
         "AUTO_MIGRATE": False}
    )  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE_OUTBOX)
        received = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.UTC)
        db.session.execute(
            text(
                "INSERT INTO contact_request (reference, received_at, source, name, phone, email, preferred_time,"
                " consented_at, answers, level, level_rank, pattern, reasons, rules_version, status,"
                " status_changed_at) VALUES ('ABCD-EFGH', :at, 'web', 'Old Request', NULL, 'old@example.org',"
                " 'any', :at, '{}', 'urgent', 1, NULL, '[]', '2026.11.1', 'new', :at)"
            ),
            {"at": received},
        )
        db.session.commit()
        assert "not migrated" in (storage.migration_problem() or "")

        flask_migrate.upgrade()
        assert storage.migration_problem() is None
        assert "alert" in inspect(db.engine).get_table_names()
        assert {"language", "assigned_to_id"} <= {
            column["name"] for column in inspect(db.engine).get_columns("contact_request")
        }
        assert db.session.scalar(text("SELECT name FROM contact_request")) == "Old Request"
        db.session.execute(
            text("INSERT INTO alert (request_id, kind, created_at, next_attempt_at, attempts)"
                 " SELECT id, 'overdue', :at, :at, 0 FROM contact_request"),
            {"at": received},
        )  # fmt: skip
        db.session.commit()
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []

        flask_migrate.downgrade(revision=BEFORE_OUTBOX)
        assert "alert" not in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_the_desk_migrations_come_after_the_first_one_in_order() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(storage.MIGRATIONS))
    assert len(scripts.get_heads()) == 1  # one line of migrations, no branches to merge
    assert [script.revision for script in scripts.walk_revisions()] == [
        SEALED_TOTP,
        RELIABILITY,
        USAGE,
        STAFF_SESSIONS,
        MERGES,
        INTAKE,
        OUTCOME,
        UPDATES,
        ASSIGNMENT,
        OUTBOX,
        BEFORE_OUTBOX,
    ]


def test_the_app_knows_the_newest_migration_without_loading_alembic(tmp_path: Path) -> None:
    """A web worker checks the database is migrated from storage.HEAD; Alembic (10 MB) is loaded only to migrate."""
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(storage.MIGRATIONS)).get_current_head() == storage.HEAD
    settings = {"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "AUTO_MIGRATE": False}
    program = (
        f"import sys; from symptomcheck import create_app; app = create_app({settings!r}); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'alembic', 'flask_migrate'})); "
        "print(app.config['DATABASE_PROBLEM'])"
    )
    shown = subprocess.run(  # noqa: S603 (our own program text)
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    loaded, problem = shown.splitlines()
    assert loaded == "[]"
    assert problem.startswith(f"not migrated (at nothing, needs {storage.HEAD})")


def test_the_intake_migration_keeps_who_took_a_call_and_downgrades_an_emergency_record(empty_database: str) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "RULES_FILE": str(RULES_FILE), "DATABASE_URL": empty_database,
         "AUTO_MIGRATE": False}
    )  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade(revision=OUTCOME)
        flask_migrate.upgrade()
        columns = {column["name"]: column for column in inspect(db.engine).get_columns("contact_request")}
        assert "taken_by_id" in columns
        assert columns["consented_at"]["nullable"] is True
        received = datetime.datetime(2026, 12, 2, 15, 0, tzinfo=datetime.UTC)
        db.session.execute(
            text(
                "INSERT INTO staff (username, password_hash, is_admin, is_clinician, created_at)"
                " VALUES ('desk', 'x', false, false, :at)"
            ),
            {"at": received},
        )
        db.session.execute(
            text(
                "INSERT INTO contact_request (reference, received_at, source, name, preferred_time, consented_at,"
                " answers, level, level_rank, reasons, rules_version, status, status_changed_at, outcome,"
                " taken_by_id) VALUES ('WXYZ-2345', :at, 'phone', '', 'any', NULL, '{}', 'emergency', 0, '[]',"
                " '2026.11.1', 'closed', :at, 'emergency', (SELECT id FROM staff))"
            ),
            {"at": received},
        )  # fmt: skip
        db.session.commit()
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []

        flask_migrate.downgrade(revision=OUTCOME)
        columns = {column["name"]: column for column in inspect(db.engine).get_columns("contact_request")}
        assert "taken_by_id" not in columns
        assert columns["consented_at"]["nullable"] is False
        kept = db.session.scalar(text("SELECT consented_at FROM contact_request WHERE reference = 'WXYZ-2345'"))
        assert desk_as_utc(kept) == received  # the time it was recorded, so the column can be required again
        db.session.remove()
        db.engine.dispose()


def desk_as_utc(at: datetime.datetime | str) -> datetime.datetime:
    """Read a time SQLite gives back as text (or without its zone) as UTC."""
    value = datetime.datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
