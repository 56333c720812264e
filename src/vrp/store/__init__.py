"""App state in SQLite (default) or PostgreSQL, through SQLAlchemy, with Alembic migrations.

A workspace keeps its register, runs, quarantine, audit log, cohort lists and link runs here. The
same migrations and the same code run on both databases; the tests run over both.
"""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from vrp.errors import VrpError, WorkspaceError
from vrp.store.models import (AuditEvent, Base, CohortEntry, CohortRun, Dataset, IngestRun, LinkRun, Lock, QuarantineRow,
                              Snapshot, SourceFile)

__all__ = ["open_engine", "migrate", "database_url", "register_lock", "Busy", "HEAD", "AuditEvent", "CohortEntry",
           "CohortRun", "LinkRun", "Lock", "Base", "Dataset", "IngestRun", "QuarantineRow", "Snapshot", "SourceFile"]

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Opening a database already at HEAD skips Alembic altogether (it is most of
# the start-up time of a quick command); tests/store checks this equals the scripts' head.
HEAD = "0003"
# How long a command waits for another one's write to the register before it gives up, in seconds.
LOCK_WAIT = 60
MIGRATION_LOCK_ID = 7_243_001  # pg_advisory_xact_lock key: one migration at a time per database


class Busy(VrpError):
    """Another command held the workspace's register for longer than we wait."""


def database_url(target: Path | str) -> str:
    """A path means SQLite; a URL is used as is, with PostgreSQL through psycopg 3."""
    target = str(target)
    if "://" not in target:
        return f"sqlite:///{target}"
    if target.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + target.split("://", 1)[1]
    return target


def printable(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def open_engine(target: Path | str) -> Engine:
    """Open the app-state database, migrating it to HEAD if it is behind."""
    url = database_url(target)
    try:
        backend = make_url(url).get_backend_name()
    except exc.ArgumentError:
        raise WorkspaceError(f"app-state database {url!r} is not a database URL") from None
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": LOCK_WAIT})
        event.listen(engine, "connect", _sqlite_pragmas)
    elif backend == "postgresql":
        engine = create_engine(url, pool_pre_ping=True)
    else:
        raise WorkspaceError(f"app-state database {printable(url)}: only SQLite and PostgreSQL are supported")
    try:
        if _revision(engine) != HEAD:
            migrate(engine)
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise WorkspaceError(f"cannot open the app-state database {printable(str(target))}: {reason}") from None
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets a web server read while an ingest writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except exc.ProgrammingError:  # PostgreSQL: no such table yet
            return None
        except exc.OperationalError as error:  # SQLite: no such table yet
            if "no such table" in str(error):
                return None
            raise


def migrate(engine: Engine) -> None:
    """Upgrade to HEAD, one process at a time (two commands opening a new database at once would
    otherwise both create its tables)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _migration_lock(engine: Engine):
    """SQLite: a file lock beside the database; PostgreSQL takes an advisory lock instead."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def register_lock(session: Session, holder: str) -> None:
    """Hold the register's write lock until `session`'s transaction ends.

    Call it first in a transaction that checks the register and then changes it (an ingest's
    commit): the row update takes SQLite's database write lock, or PostgreSQL's row lock, so a
    second command waits here until the first has committed, then sees what it added. Waiting
    longer than LOCK_WAIT seconds raises Busy, a one-line message.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}s'"))
    try:
        session.execute(text("UPDATE locks SET holder = :holder, since = :since WHERE name = 'register'"),
                        {"holder": holder, "since": datetime.now()})
    except exc.OperationalError as error:
        if "locked" in str(error) or "lock timeout" in str(error) or "LockNotAvailable" in type(error.orig).__name__:
            raise Busy("another command is writing to this workspace's register; try again") from None
        raise
