"""Shared fixtures. Tests that need ../shared/data skip on a user's machine without it, but FAIL
when CI=true, so that CI never passes by skipping."""
from __future__ import annotations

import gzip
import os
import sqlite3
from pathlib import Path

import pytest

from vrp.workspace import init_workspace

SHARED_DATA = Path(os.environ.get("VRP_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the shared data folder {SHARED_DATA} is missing")
        pytest.skip(f"shared data not found at {SHARED_DATA} (set VRP_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws", "Test VRP")


def write_csv(path: Path, text: str, gz: bool = False) -> Path:
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def workspace_state(ws) -> dict:
    """Everything a failed command must leave untouched: register tables and lake files."""
    con = sqlite3.connect(ws.db_path)
    tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
              for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    files = sorted(str(p.relative_to(ws.lake)) for p in ws.lake.rglob("*") if p.is_file())
    return {"tables": tables, "files": files}
