"""Two ingests into one workspace at the same time, as two real processes, on both backends: every
row counted once; where one must wait it waits, and where it must refuse it says so in one line."""
from __future__ import annotations

import pytest

from tests.lake.conftest import finish, lake_state, police_files, run, start, start_holding, summary_of
from vrp.workspace import open_workspace

pytestmark = pytest.mark.backends  # app state on SQLite and on PostgreSQL


def one_line_error(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def two_forces(tmp_path, rows: int, months=("2025-01",)):
    return (police_files(tmp_path / "a", list(months), rows=rows, force="Alpha Police", seed=1),
            police_files(tmp_path / "b", list(months), rows=rows, force="Beta Police", seed=2))


def second_while_first_holds(seconds: float, ws, first, second, moment: str = "none"):
    """Run an ingest of `second` while an ingest of `first` holds the register lock; the first must succeed.
    The hold is long enough for the second to start, read and reach its commit on a busy machine."""
    holder = start_holding(seconds, ws, first)
    result = run(moment, ws, second)
    code_a, _out_a, err_a = finish(holder)
    assert code_a == 0, err_a
    return result


def test_two_forces_at_once_both_load_every_row_once(ws, tmp_path):
    a, b = two_forces(tmp_path, 4000, months=("2025-01", "2025-02", "2025-03"))
    first, second = start("none", ws, a), start("none", ws, b)
    (code_a, out_a, err_a), (code_b, out_b, err_b) = finish(first), finish(second)
    assert (code_a, code_b) == (0, 0), err_a + err_b
    for out in (out_a, out_b):
        summary = summary_of(out)
        assert summary["rows_in"] == 12000 == summary["rows_loaded"] + summary["rows_quarantined"]
    state = lake_state(open_workspace(ws.root))
    assert state["rows"] == state["distinct"] == 2 * (4000 - 80) * 3
    assert state["on_disk"] == state["registered"] and state["staging"] == []


def test_a_commit_waits_for_the_other_then_loads(ws, tmp_path):
    """The first holds the register lock for two seconds; the second, staged meanwhile, waits and commits."""
    a, b = two_forces(tmp_path, 500)
    code_b, _out_b, err_b = second_while_first_holds(2, ws, a, b)
    assert code_b == 0, err_b
    assert lake_state(open_workspace(ws.root))["rows"] == 2 * (500 - 10)


def test_the_same_file_at_once_is_loaded_once_and_the_other_says_why(ws, tmp_path):
    shared = police_files(tmp_path / "s", ["2025-01"], rows=500, force="Alpha Police", seed=1)
    extra = police_files(tmp_path / "x", ["2025-02"], rows=500, force="Alpha Police", seed=4)
    # the second reads the register before the first commits
    code_b, out_b, err_b = second_while_first_holds(8, ws, shared, shared + extra)
    assert code_b == 1
    line = one_line_error(err_b)
    assert "loaded into this workspace by another command while this one ran" in line
    assert "run it again" in line and shared[0].name in line
    assert lake_state(open_workspace(ws.root))["rows"] == 500 - 10  # nothing of the refused run
    code_b, out_b, err_b = run("none", ws, shared + extra)  # as the message says
    assert code_b == 0 and summary_of(out_b)["files_unchanged"] == 1, err_b
    state = lake_state(open_workspace(ws.root))
    assert state["rows"] == state["distinct"] == 2 * (500 - 10)
    assert state["on_disk"] == state["registered"] and state["staging"] == []


def test_a_command_that_waits_too_long_gives_up_in_one_line(ws, tmp_path):
    a, b = two_forces(tmp_path, 300)
    code_b, _out_b, err_b = second_while_first_holds(8, ws, a, b, moment="wait:1")
    assert code_b == 1
    assert "another command is writing to this workspace's register; try again" in one_line_error(err_b)
    state = lake_state(open_workspace(ws.root))  # the one that gave up left nothing behind
    assert state["rows"] == 300 - 6 and state["on_disk"] == state["registered"] and state["staging"] == []
