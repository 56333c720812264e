"""The runs that write to the lake: each holds a lock file while it stages, and what a dead one
left behind is swept by the next command (see vrp.lake.write for the whole protocol).

Kept apart from the writing code: opening a workspace imports this only when lake/.staging holds
something, and it loads the database layer only when there is a dead run to clear.
"""
from __future__ import annotations

import fcntl
import os
import shutil
from datetime import datetime

# A staging folder without a lock file is a run that died between the two (or one just starting);
# only one older than this is swept.
ORPHAN_AGE_SECONDS = 600


def hold_run_lock(ws, run_uuid: str) -> int:
    """Create lake/.staging/RUN.lock and hold an exclusive lock on it for the life of the run."""
    staging = ws.staging_dir
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{run_uuid}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    if os.fstat(fd).st_nlink == 0:  # a sweep took it for dead in the instant before we locked it
        os.close(fd)
        return hold_run_lock(ws, run_uuid)
    return fd


def sweep_dead_runs(ws) -> list[str]:
    """Remove what killed commands left behind; return their run ids.

    A run is dead when its lock can be taken (the kernel drops a dead process's locks). Its lake
    files are removed unless the register holds the run (it died after committing, before
    cleaning up); its staging folder and then its lock file go in any case.
    """
    staging = ws.staging_dir
    if not staging.is_dir():
        return []
    swept = []
    for lock_path in sorted(staging.glob("*.lock")):
        run_uuid = lock_path.stem
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue  # its run finished meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # alive
            _remove_run_leftovers(ws, run_uuid)
            lock_path.unlink(missing_ok=True)
            swept.append(run_uuid)
        finally:
            os.close(fd)
    now = datetime.now().timestamp()
    for folder in staging.iterdir():
        if folder.is_dir() and not (staging / f"{folder.name}.lock").exists() \
                and now - folder.stat().st_mtime > ORPHAN_AGE_SECONDS:
            _remove_run_leftovers(ws, folder.name)
            swept.append(folder.name)
    return swept


def _remove_run_leftovers(ws, run_uuid: str) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from vrp.store import IngestRun

    with Session(ws.engine) as session:
        registered = session.scalar(select(IngestRun.id).where(IngestRun.uuid == run_uuid)) is not None
    if not registered:
        for path in [*ws.lake.glob(f"*/source=*/period=*/{run_uuid}.parquet"),
                     *ws.identifiable_dir.glob(f"*/{run_uuid}.parquet")]:
            path.unlink(missing_ok=True)
    shutil.rmtree(ws.staging_dir / run_uuid, ignore_errors=True)
