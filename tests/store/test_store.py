"""The app-state store on SQLite and PostgreSQL: migrations, the append-only audit log, the
register lock, quick opening at head, and one-line errors for a database that cannot be reached."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import exc, inspect, text
from sqlalchemy.orm import Session

import vrp.store
from tests.conftest import make_workspace, new_database
from vrp.audit import events, record
from vrp.errors import WorkspaceError
from vrp.store import HEAD, MIGRATIONS, Busy, open_engine, register_lock
from vrp.workspace import init_workspace, open_workspace

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

TABLES = {"alembic_version", "audit_log", "cohort_entries", "cohort_runs", "datasets", "ingest_runs", "link_runs",
          "locks", "quarantine", "snapshots", "source_files"}


def alembic_config(conn) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def test_head_is_the_newest_migration():
    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD


def test_a_new_workspace_has_every_table_at_head(ws, backend):
    assert ws.engine.dialect.name == backend
    assert set(inspect(ws.engine).get_table_names()) == TABLES
    with ws.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def test_migrations_go_down_to_nothing_and_up_again(ws):
    with ws.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(ws.engine).get_table_names()) <= {"alembic_version"}
    with ws.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert set(inspect(ws.engine).get_table_names()) == TABLES


def test_audit_log_refuses_update_delete_and_truncate(ws, backend):
    record(ws, "identifiable read", "people_police", "panel 2025-06", rows=3)
    statements = ["UPDATE audit_log SET purpose = 'nothing to see'", "DELETE FROM audit_log"]
    if backend == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(exc.DatabaseError, match="append-only"):
            with ws.engine.begin() as conn:
                conn.execute(text(statement))
    assert [(e["action"], e["purpose"], e["rows"]) for e in events(ws)] == [("identifiable read", "panel 2025-06", 3)]


def test_register_lock_makes_a_second_writer_wait_then_give_up(ws, monkeypatch):
    monkeypatch.setattr(vrp.store, "LOCK_WAIT", 1)
    other = open_engine(ws.database)  # a second connection pool, as a second process would have
    with Session(ws.engine) as first, first.begin():
        register_lock(first, "first")
        started = datetime.now()
        with pytest.raises(Busy, match="another command is writing to this workspace's register; try again"):
            with Session(other) as second, second.begin():
                register_lock(second, "second")
        assert (datetime.now() - started).total_seconds() >= 0.9
    with Session(other) as second, second.begin():  # free again once the first has committed
        register_lock(second, "second")
    other.dispose()


def test_opening_a_workspace_at_head_does_not_load_alembic(ws):
    code = ("import sys; from vrp.workspace import open_workspace; "
            f"ws = open_workspace({str(ws.root)!r}); ws.engine; print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_workspace_behind_head_is_migrated_when_opened(ws):
    with ws.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    ws.engine.dispose()
    reopened = open_workspace(ws.root)
    assert "locks" in inspect(reopened.engine).get_table_names()


def test_init_with_a_database_records_it_and_is_idempotent(tmp_path, backend):
    database = new_database(backend)
    ws = init_workspace(tmp_path / "w", "Test", database=database)
    assert ws.database == (database or str(ws.db_path))
    assert (ws.root / "vrp.db").exists() == (backend == "sqlite")
    again = init_workspace(tmp_path / "w", "Test", database=database)
    assert again.database == ws.database


def test_unreachable_database_is_one_line_and_leaves_no_workspace(tmp_path):
    target = tmp_path / "w"
    with pytest.raises(WorkspaceError) as caught:
        init_workspace(target, "Test", database="postgresql://nobody:secret@127.0.0.1:1/none")
    message = str(caught.value)
    assert message.startswith("cannot open the app-state database postgresql://nobody:***@127.0.0.1:1/none: ")
    assert "\n" not in message and "secret" not in message
    assert not target.exists()


def test_init_refuses_to_move_an_existing_workspace_to_another_database(tmp_path):
    make_workspace(tmp_path / "w")
    with pytest.raises(WorkspaceError, match="already a workspace with its app state in vrp.db"):
        init_workspace(tmp_path / "w", "Test", database="postgresql://x@127.0.0.1/y")


def test_cli_init_with_database(tmp_path, backend):
    database = new_database(backend) or ""
    args = [sys.executable, "-m", "vrp", "init", str(tmp_path / "w")] + (["--database", database] if database else [])
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    status = subprocess.run([sys.executable, "-m", "vrp", "status", "--workspace", str(tmp_path / "w"), "--json"],
                            capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    bad = subprocess.run([sys.executable, "-m", "vrp", "init", str(tmp_path / "v"), "--database", "postgresql://nobody@127.0.0.1:1/x"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: cannot open the app-state database postgresql://nobody@127.0.0.1:1/x")
