"""Connect the database: SQLite by default, PostgreSQL by DATABASE_URL; check it is migrated."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from symptomcheck.records.models import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
migrate = flask_migrate.Migrate(directory=str(MIGRATIONS))


def database_url(configured: str | None, instance_path: str) -> str:
    """Return the SQLAlchemy URL: the configured one (with the psycopg driver), or SQLite."""
    if not configured:
        return f"sqlite:///{Path(instance_path) / 'symptomcheck.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if configured.startswith(prefix):
            return "postgresql+psycopg://" + configured[len(prefix) :]
    return configured


def init_app(app: Flask) -> None:
    """Connect the database; create or upgrade an embedded SQLite file on first start."""
    url = database_url(app.config.get("DATABASE_URL"), app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    app.teardown_appcontext(close_session_quietly)  # runs before Flask-SQLAlchemy's own (teardowns run in reverse)
    migrate.init_app(app, db)
    shown = make_url(url).render_as_string(hide_password=True)
    with app.app_context():
        try:
            auto_migrate = app.config["AUTO_MIGRATE"]
            if auto_migrate or (auto_migrate is None and url.startswith("sqlite:")):
                Path(app.instance_path).mkdir(parents=True, exist_ok=True)
                with one_process_at_a_time(Path(app.instance_path) / "migrate.lock"):
                    flask_migrate.upgrade()
            problem = migration_problem()
        except SQLAlchemyError as exc:
            problem = f"cannot reach the database ({type(exc).__name__})"
        except CommandError as exc:
            problem = f"the migrations cannot be read ({exc})"
    app.config["DATABASE_PROBLEM"] = problem
    if problem:
        log.error("Database %s: %s. Contact requests and the staff pages will not work until this is fixed.",
                  shown, problem)  # fmt: skip


def close_session_quietly(error: BaseException | None = None) -> None:
    """End the request's database session; a connection that died meanwhile is dropped, not raised as an error.

    Closing rolls back, and a rollback on a connection the server ended raises: the response is made by
    then, so the person gets it, and the pool forgets the dead connection.
    """
    try:
        db.session.remove()
    except SQLAlchemyError as exc:
        log.warning("A database connection had died by the end of a request (%s); it is dropped",
                    type(exc).__name__)  # fmt: skip
        db.session.remove()


@contextmanager
def one_process_at_a_time(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file: gunicorn workers starting together migrate one after another."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migration_problem() -> str | None:
    """Say what is wrong when the database is not at the newest migration."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        return f"not migrated (at {current or 'nothing'}, needs {head}); run 'flask --app symptomcheck db upgrade'"
    return None
