"""An ingest killed with SIGKILL at any moment leaves the workspace readable and either exactly as
before or complete, never partial; the next command sweeps what the dead run left; a re-run loads
every row. Real processes, killed by the kernel, on both app-state backends."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import make_workspace
from tests.lake.conftest import finish, lake_state, police_files, run, start, summary_of
from vrp.workspace import open_workspace

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL

ROWS_PER_FILE = 3000
BAD_PER_FILE = 60  # police_files puts a bad longitude in every 50th row


def status(ws) -> dict:
    out = subprocess.run([sys.executable, "-m", "vrp", "status", "--workspace", str(ws.root), "--json"],
                         capture_output=True, text=True, check=True).stdout
    return {d["dataset"]: d["rows"] for d in json.loads(out)["datasets"]}


@pytest.mark.parametrize("moment, complete", [
    ("reading", False), ("staging", False), ("registering", False), ("moving", False), ("committed", True)])
def test_killed_ingest_leaves_nothing_or_everything_and_is_swept(ws, files, moment, complete):
    code, _out, _err = run(moment, ws, files)
    assert code == -signal.SIGKILL
    ws = open_workspace(ws.root)  # the next command: sweeps the dead run's leftovers
    state = lake_state(ws)
    assert state["staging"] == []  # staged files and the run's lock file are gone
    assert state["on_disk"] == state["registered"]  # no file in the lake that the register does not hold
    loaded = (ROWS_PER_FILE - BAD_PER_FILE) * len(files)
    assert state["rows"] == (loaded if complete else 0)
    assert status(ws).get("police_uk", 0) == (loaded if complete else 0)  # `vrp status` reads it as a user would
    # a re-run loads every row exactly once
    code, out, err = run("none", ws, files)
    assert code == 0, err
    summary = summary_of(out)
    if complete:
        assert summary["files_unchanged"] == len(files) and summary["rows_in"] == 0
    else:
        assert summary["rows_in"] == ROWS_PER_FILE * len(files)
        assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_quarantined"]
    state = lake_state(open_workspace(ws.root))
    assert state["rows"] == state["distinct"] == loaded
    assert state["on_disk"] == state["registered"] and state["staging"] == []


def test_kills_from_outside_at_many_moments(ws, tmp_path, backend):
    """SIGKILL from another process at spread-out times through a run: every time, nothing or everything."""
    files = police_files(tmp_path / "many", [f"2025-{m:02d}" for m in range(1, 9)], rows=4000, seed=3)
    loaded = (4000 - 80) * len(files)
    started = time.monotonic()
    code, _out, err = run("none", ws, files)  # how long a whole run takes here, then start over
    took = time.monotonic() - started
    assert code == 0, err
    outcomes = []
    for fraction in (0.25, 0.5, 0.65, 0.8, 0.9, 0.97):
        target = make_workspace(tmp_path / f"ws-{fraction}", backend)
        proc = start("none", target, files)
        time.sleep(took * fraction)
        proc.send_signal(signal.SIGKILL)
        finish(proc)
        target = open_workspace(target.root)
        state = lake_state(target)
        assert state["staging"] == [] and state["on_disk"] == state["registered"]
        assert state["rows"] in (0, loaded), fraction
        outcomes.append(state["rows"] == loaded)
        code, _out, err = run("none", target, files)
        assert code == 0, err
        assert lake_state(open_workspace(target.root))["rows"] == loaded
    assert not all(outcomes), "every kill came after the commit: the runs were too quick to test anything"
