"""App state in SQLite (default) or PostgreSQL, through SQLAlchemy, with Alembic migrations."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from vrp.store.models import (AuditEvent, Base, CohortEntry, CohortRun, Dataset, IngestRun, LinkRun, QuarantineRow,
                              Snapshot, SourceFile)

__all__ = ["open_engine", "migrate", "AuditEvent", "CohortEntry", "CohortRun", "LinkRun", "Base", "Dataset", "IngestRun", "QuarantineRow", "Snapshot", "SourceFile"]

MIGRATIONS = Path(__file__).parent / "migrations"


def open_engine(db_path: Path | str) -> Engine:
    """Open (and migrate to head) the app-state database. A path means SQLite; a URL is used as is."""
    url = str(db_path) if "://" in str(db_path) else f"sqlite:///{db_path}"
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets a web server read while an ingest writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def migrate(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
