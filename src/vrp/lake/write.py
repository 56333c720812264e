"""Staging and committing one ingest command's snapshots.

Crash safety: a command stages its Parquet files in lake/.staging/RUN/ while it holds an exclusive
lock on lake/.staging/RUN.lock; it moves them into place and registers them in one database
transaction, and only then removes the staging folder and, last, the lock file. A command killed
at any moment (even SIGKILL) leaves either nothing registered or everything, and the kernel drops
its lock: the next command to open the workspace finds a lock it can take, so the run is dead, and
sweeps what it left (staged files, and lake files of an unregistered run). Queries read only
registered snapshots, so until then the leftovers are never seen.

Concurrency: two commands stage side by side; their commits take the register lock
(vrp.store.register_lock) one after the other, and each re-checks under it that no file it loaded
was registered meanwhile by the other.
"""
from __future__ import annotations

import getpass
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from vrp.errors import VrpError
from vrp.lake.read import DATASET_INFO
from vrp.lake.runs import hold_run_lock
from vrp.store import Dataset, IngestRun, QuarantineRow, Snapshot, SourceFile, register_lock
from vrp.workspace import read_key

RAW_LIMIT = 2000  # characters of a quarantined row kept for the analyst to see


class ChangedMeanwhile(VrpError):
    """Another command registered one of this command's files, or rotated the pseudonymisation
    key, while this one ran: its staged rows would be counted twice or keyed wrongly."""


@dataclass
class FileLoad:
    """What happened to one partner file: rows in = rows loaded + rows quarantined."""

    path: Path
    sha256: str
    size: int
    rows_loaded: int = 0
    quarantine: list[tuple[int | None, str, str, str]] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def rows_in(self) -> int:
        return self.rows_loaded + self.rows_quarantined

    def reject(self, line: int | None, field_name: str, reason: str, raw: str) -> None:
        self.quarantine.append((line, field_name, reason, raw[:RAW_LIMIT]))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


class Load:
    """Everything one ingest command adds to the lake, held aside until commit()."""

    def __init__(self, ws, dataset: str, schema: pa.Schema, as_at: date, command: str,
                 identifiable: pa.Schema | None = None):
        self.ws, self.dataset, self.schema, self.as_at, self.command = ws, dataset, schema, as_at, command
        self.identifiable = identifiable  # columns that go to the identifiable store, never the lake
        self._identifiable_writer: pq.ParquetWriter | None = None
        self.uuid = uuid.uuid4().hex
        self.started_at = datetime.now()
        self._lock_fd = hold_run_lock(ws, self.uuid)
        self.staging = ws.staging_dir / self.uuid
        self.files: list[FileLoad] = []
        self._writers: dict[tuple[str, str], tuple[pq.ParquetWriter, Path]] = {}
        self._rows: dict[tuple[str, str], int] = {}

    def write(self, source: str, period: str, table: pa.Table) -> None:
        """Append rows to this command's snapshot of (source, period)."""
        if table.num_rows == 0:
            return
        key = (source, period)
        if key not in self._writers:
            rel = Path(self.dataset) / f"source={slug(source)}" / f"period={period}" / f"{self.uuid}.parquet"
            staged = self.staging / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            self._writers[key] = (pq.ParquetWriter(staged, self.schema, compression="zstd"), rel)
            self._rows[key] = 0
        self._writers[key][0].write_table(table.select(self.schema.names).cast(self.schema))
        self._rows[key] += table.num_rows
        if self.identifiable is not None:
            if self._identifiable_writer is None:
                staged = self.staging / "identifiable" / f"{self.uuid}.parquet"
                staged.parent.mkdir(parents=True, exist_ok=True)
                self._identifiable_writer = pq.ParquetWriter(staged, self.identifiable, compression="zstd")
            self._identifiable_writer.write_table(table.select(self.identifiable.names).cast(self.identifiable))

    def add_file(self, file_load: FileLoad) -> None:
        self.files.append(file_load)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def commit(self) -> int | None:
        """Move the staged files into the lake and register them in one transaction."""
        for writer in self._open_writers():
            writer.close()
        if not self.files:
            self.abort()
            return None
        for rel in self._staged():
            _fsync(self.staging / rel)  # on disk before the register says it is there
        moved: list[Path] = []
        try:
            with Session(self.ws.engine) as session, session.begin():
                register_lock(session, self.uuid)
                self._refuse_files_loaded_meanwhile(session)
                self._refuse_if_key_rotated_meanwhile()
                run_id = self._register(session)
                for (source, period), (_, rel) in self._writers.items():
                    final = self.ws.lake / rel
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.staging / rel, final)
                    moved.append(final)
                    session.add(Snapshot(run_id=run_id, dataset=self.dataset, source=source, period=period,
                                         as_at=self.as_at, path=rel.as_posix(), rows=self._rows[(source, period)]))
                if self._identifiable_writer is not None:
                    final = identifiable_path(self.ws, self.dataset, self.uuid)
                    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                    os.replace(self.staging / "identifiable" / f"{self.uuid}.parquet", final)
                    moved.append(final)
        except BaseException:
            for path in moved:
                path.unlink(missing_ok=True)
            raise
        finally:
            self._clean_up()
        return run_id

    def _staged(self) -> list[Path]:
        rels = [rel for _, rel in self._writers.values()]
        return rels + ([Path("identifiable") / f"{self.uuid}.parquet"] if self._identifiable_writer else [])

    def _refuse_files_loaded_meanwhile(self, session: Session) -> None:
        hashes = [f.sha256 for f in self.files]
        taken = set(session.scalars(select(SourceFile.sha256).where(SourceFile.dataset == self.dataset,
                                                                     SourceFile.sha256.in_(hashes))))
        for f in self.files:
            if f.sha256 in taken:
                raise ChangedMeanwhile(f"{f.path}: loaded into this workspace by another command while this one ran; "
                                      "nothing from this run was loaded: run it again to load the rest")

    def _refuse_if_key_rotated_meanwhile(self) -> None:
        used = self.ws.__dict__.get("pseudonym_key")  # set only if this run pseudonymised anything
        if used is not None and read_key(self.ws.key_path) != used:
            raise ChangedMeanwhile("the pseudonymisation key was rotated while this command ran; "
                                   "nothing from this run was loaded: run it again")

    def _clean_up(self) -> None:
        """Staging folder first, lock file last: a lock file without a folder is harmless."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock_fd is not None:
            (self.ws.staging_dir / f"{self.uuid}.lock").unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _open_writers(self) -> list[pq.ParquetWriter]:
        writers = [writer for writer, _ in self._writers.values()]
        return writers + ([self._identifiable_writer] if self._identifiable_writer else [])

    def abort(self) -> None:
        for writer in self._open_writers():
            try:
                writer.close()
            except Exception:
                pass
        self._clean_up()

    def _register(self, session: Session) -> int:
        if session.get(Dataset, self.dataset) is None:
            info = DATASET_INFO[self.dataset]
            session.add(Dataset(name=self.dataset, registered_at=datetime.now(), **info))
        run = IngestRun(uuid=self.uuid, dataset=self.dataset, command=self.command, as_at=self.as_at,
                        started_at=self.started_at, finished_at=datetime.now(), user=_user(),
                        rows_in=self.rows_in, rows_loaded=self.rows_loaded, rows_quarantined=self.rows_quarantined)
        session.add(run)
        session.flush()
        for f in self.files:
            sf = SourceFile(run_id=run.id, dataset=self.dataset, name=f.path.name, path=str(f.path.resolve()),
                            sha256=f.sha256, size_bytes=f.size, rows_in=f.rows_in, rows_loaded=f.rows_loaded,
                            rows_quarantined=f.rows_quarantined)
            session.add(sf)
            session.flush()
            session.add_all(QuarantineRow(run_id=run.id, file_id=sf.id, line=line, field=fld, reason=reason, raw=raw)
                            for line, fld, reason, raw in f.quarantine)
        return run.id

    def __enter__(self) -> "Load":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def identifiable_path(ws, dataset: str, run_uuid: str) -> Path:
    """Where one ingest run's identifiable values live: outside the lake, never a DuckDB view."""
    return ws.identifiable_dir / dataset / f"{run_uuid}.parquet"


def known_hashes(ws, dataset: str) -> set[str]:
    with Session(ws.engine) as session:
        return set(session.scalars(select(SourceFile.sha256).where(SourceFile.dataset == dataset)))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""
