"""Connect the database: SQLite by default, PostgreSQL by DATABASE_URL; check it is migrated."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from symptomcheck.records.models import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration, which the database must be at; tests/test_migrations.py checks it is Alembic's head.
HEAD = "e3a7c5d1f926"


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
    auto_migrate = app.config["AUTO_MIGRATE"]
    migrating = bool(auto_migrate or (auto_migrate is None and url.startswith("sqlite:")))
    if migrating or app.testing or click.get_current_context(silent=True) is not None:
        migration_tools(app)  # `flask db ...` and the tests use them too
    shown = make_url(url).render_as_string(hide_password=True)
    with app.app_context():
        try:
            problem = (upgraded(Path(app.instance_path)) if migrating else None) or migration_problem()
        except SQLAlchemyError as exc:
            problem = f"cannot reach the database ({type(exc).__name__})"
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


def migration_tools(app: Flask) -> None:
    """Register Flask-Migrate, loaded only where migrations run (Alembic is 10 MB more in each web worker)."""
    if "migrate" not in app.extensions:
        import flask_migrate

        flask_migrate.Migrate(app, db, directory=str(MIGRATIONS))


def upgraded(instance_path: Path) -> str | None:
    """Upgrade the database to the newest migration, one process at a time; say what is wrong if it cannot be."""
    import flask_migrate
    from alembic.util import CommandError

    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        with one_process_at_a_time(instance_path / "migrate.lock"):
            flask_migrate.upgrade()
    except CommandError as exc:
        return f"the migrations cannot be read ({exc})"
    return None


def migration_problem() -> str | None:
    """Say what is wrong when the database is not at the newest migration (read without loading Alembic)."""
    with db.engine.connect() as connection:
        current = None
        if inspect(connection).has_table("alembic_version"):
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if current != HEAD:
        return f"not migrated (at {current or 'nothing'}, needs {HEAD}); run 'flask --app symptomcheck db upgrade'"
    return None
