"""police.uk files for the crash and concurrency tests, and a way to run an ingest as a process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vrp.ingest.police_uk import HEADER
from vrp.lake import connect, current_snapshots

RUNNER = Path(__file__).with_name("run_ingest.py")
ROOT = Path(__file__).resolve().parents[2]


def police_files(folder: Path, months: list[str], rows: int, force: str = "Test Police", seed: int = 1) -> list[Path]:
    """One file per month; every 50th row has a bad longitude (quarantined), so rows_in differs from rows_loaded."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for month in months:
        lines = [",".join(HEADER)]
        for i in range(rows):
            lon = "west" if i % 50 == 7 else f"{-1.4 + rng.normal(0, 0.05):.6f}"
            lines.append(f"{force[:3]}{month}{i},{month},{force},{force},{lon},{50.9 + rng.normal(0, 0.05):.6f},"
                         f"On or near High St,E0100000{i % 5},Southampton 00{i % 5}A,Robbery,Under investigation,")
        path = folder / f"{month}-{force.lower().replace(' ', '-')}-street.csv"
        path.write_text("\n".join(lines) + "\n")
        out.append(path)
    return out


def start(moment: str, ws, files: list[Path]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(RUNNER), moment, str(ws.root), *map(str, files)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_holding(seconds: float, ws, files: list[Path]) -> subprocess.Popen:
    """An ingest that has taken the register lock (and will keep it for `seconds`) when this returns."""
    proc = start(f"hold:{seconds}", ws, files)
    assert proc.stderr.readline().strip() == "holding the register lock"
    return proc


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def run(moment: str, ws, files: list[Path]) -> tuple[int, str, str]:
    return finish(start(moment, ws, files))


def summary_of(out: str) -> dict:
    return json.loads(out)


def lake_state(ws) -> dict:
    """What a reader sees, and what is on disk: they must agree exactly."""
    registered = sorted(s.path for s in current_snapshots(ws))
    on_disk = sorted(p.relative_to(ws.lake).as_posix() for p in ws.lake.rglob("*.parquet")
                     if ".staging" not in p.parts)
    con = connect(ws)
    rows = con.execute("SELECT count(*) FROM police_uk").fetchone()[0] if registered else 0
    distinct = con.execute("SELECT count(DISTINCT crime_id) FROM police_uk").fetchone()[0] if registered else 0
    staging = sorted(p.name for p in ws.staging_dir.iterdir()) if ws.staging_dir.is_dir() else []
    return {"registered": registered, "on_disk": on_disk, "rows": rows, "distinct": distinct, "staging": staging}


@pytest.fixture
def files(tmp_path):
    return police_files(tmp_path / "files", ["2025-01", "2025-02", "2025-03", "2025-04"], rows=3000)
