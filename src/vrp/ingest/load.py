"""The one path every CSV ingest takes: hash, check header, stream, validate, stage, commit."""
from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from vrp.ingest.arrow import scalar
from vrp.ingest.checks import row_text
from vrp.ingest.files import CsvBatches, expand_paths, locate_records, read_header, sha256_file

if TYPE_CHECKING:
    from vrp.lake.write import FileLoad, Load

Normalise = Callable[[pa.RecordBatch, date], tuple[pa.Table, np.ndarray, list[tuple[int, str, str]]]]
Partition = Callable[[pa.Table], Iterable[tuple[str, str, pa.Table]]]


def ingest_files(ws, dataset: str, schema: pa.Schema, paths: list[Path], *, columns: list[str] | Callable[[Path], list[str]],
                 check_header: Callable[[Path, list[str]], None], normalise: Normalise, partition: Partition,
                 as_at: date | None, command: str, progress: Callable[[Path], None] | None = None,
                 multiline: bool = False, identifiable: pa.Schema | None = None) -> dict:
    """Load files into `dataset` as one all-or-nothing command; return the run summary.

    A file whose content hash is already registered is skipped (re-ingesting is a no-op). Any
    file-level fault raises InputError before anything is committed. Columns named in
    `identifiable` go to the identifiable store, outside the lake, in the same commit.
    """
    files = expand_paths(paths)
    as_at = as_at or date.today()
    # Reading starts at once, in a thread, and goes on while the register is opened: SQLAlchemy
    # alone takes about 0.3 s to import, time enough to read a year of police.uk files.
    ahead = ReadAhead(files, columns, multiline, lambda batch: normalise(batch, as_at))
    try:
        from vrp.lake.write import Load, known_hashes

        known = known_hashes(ws, dataset)
        ahead.know(known)
        unchanged: list[Path] = []
        with Load(ws, dataset, schema, as_at, command, identifiable) as load:
            for path in files:
                sha = ahead.take(path, "sha")
                if sha in known:
                    unchanged.append(path)
                    ahead.discard(path)
                else:
                    known.add(sha)
                    check_header(path, ahead.take(path, "header"))
                    names = columns(path) if callable(columns) else columns
                    load.add_file(_load_file(load, path, sha, len(names), partition, ahead.batches(path)))
                if progress:
                    progress(path)
            run_id = load.commit()
    finally:
        ahead.close()
    return summarise(dataset, load.files, unchanged, run_id, as_at)


class ReadAhead:
    """Reads and validates the files in a thread of its own while the command opens the register
    and writes what was read before: each file's hash, header and CSV batches with `prepare`
    (the dataset's normalise) applied, in file order, up to BUDGET bytes ahead (memory stays
    bounded, whatever the number and size of the files).

    Reading (gzip, CSV parsing), validating (Arrow kernels) and writing (Parquet) release the
    GIL, so on two cores they overlap, and the reading also overlaps the import of SQLAlchemy
    (about 0.3 s) that opening the register needs. Until the register's hashes are known
    (`know`) every file is read; afterwards a file already loaded is only hashed. The loop takes
    each result where it used to compute it, and a failure is raised at that very point (`take`,
    `batches`), so every run - and the error a faulty file gives - is the same as reading one
    file after the other; a file the loop finds unchanged is dropped unread (`discard`). The
    interpreter's switch interval is shortened meanwhile: each Arrow call hands the GIL back,
    and with the default 5 ms the thread would wait that long to get it again for the next.
    """

    BUDGET = 64 << 20
    SWITCH_INTERVAL = 0.001

    def __init__(self, files: list[Path], columns, multiline: bool, prepare: Callable):
        self._items: deque = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._known: set[str] | None = None
        self._prepare = prepare
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, self.SWITCH_INTERVAL))
        self._thread = threading.Thread(target=self._read, args=(files, columns, multiline),
                                        name="vrp-read-ahead", daemon=True)
        self._thread.start()

    def know(self, known: set[str]) -> None:
        """The hashes already registered: files holding them need not be read."""
        with self._cond:
            self._known = set(known)

    def _put(self, path: Path, step: str, value, nbytes: int = 0) -> bool:
        with self._cond:
            while not self._stopped and nbytes and self._items and self._bytes + nbytes > self.BUDGET:
                self._cond.wait()
            if self._stopped:
                return False
            self._items.append((path, step, value, nbytes))
            self._bytes += nbytes
            self._cond.notify_all()
            return True

    def _read(self, files: list[Path], columns, multiline: bool) -> None:
        read: set[str] = set()  # a second file with the same content is skipped, as the loop does
        for path in files:
            if not self._read_file(path, columns, multiline, read):
                return

    def _read_file(self, path: Path, columns, multiline: bool, read: set[str]) -> bool:
        """Hash, header and batches of one file, up to its first failure (handed over as a
        result); False once the loop has stopped."""
        try:
            sha = sha256_file(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, which raises it
            return self._put(path, "sha", exc)
        if not self._put(path, "sha", sha):
            return False
        with self._cond:
            known = self._known
        if sha in read or (known is not None and sha in known):
            return self._put(path, "skip", None)
        read.add(sha)
        try:
            header = read_header(path)
        except BaseException as exc:  # noqa: BLE001
            return self._put(path, "header", exc)
        if not self._put(path, "header", header):
            return False
        try:
            # Parsed in this thread alone: the other core has the command's own thread.
            reader = CsvBatches(path, columns(path) if callable(columns) else columns, multiline, threads=False)
            for batch, first in reader:
                prepared = self._prepare(batch)
                size = batch.nbytes + prepared[0].nbytes
                if not self._put(path, "batch", (batch, first, prepared), size):
                    return False
        except BaseException as exc:  # noqa: BLE001
            return self._put(path, "batch", exc)
        return self._put(path, "end", reader.ragged)

    def _next(self, path: Path) -> tuple[str, object]:
        with self._cond:
            while not self._items:
                self._cond.wait()
            got, step, value, nbytes = self._items.popleft()
            self._bytes -= nbytes
            self._cond.notify_all()
        if got != path:  # cannot happen: the loop and the thread walk the same list of files
            raise RuntimeError(f"read-ahead out of step: {got} instead of {path}")
        return step, value

    def take(self, path: Path, step: str):
        """The file's hash ("sha") or header ("header"); the error computing it gave is raised."""
        got, value = self._next(path)
        if isinstance(value, BaseException):
            raise value
        if got != step:
            raise RuntimeError(f"read-ahead out of step: {got} instead of {step} for {path}")
        return value

    def discard(self, path: Path) -> None:
        """Drop what was read of a file the loop does not load."""
        while True:
            step, value = self._next(path)
            if step in ("skip", "end") or isinstance(value, BaseException):
                return

    def batches(self, path: Path) -> "ReadBatches":
        return ReadBatches(self, path)

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._items.clear()
            self._cond.notify_all()
        self._thread.join()
        sys.setswitchinterval(self._interval)


class ReadBatches:
    """One file's batches from the read-ahead, as `CsvBatches` gives them (with `.ragged`), each
    with what `prepare` made of it: (batch, first index, prepared)."""

    def __init__(self, ahead: ReadAhead, path: Path):
        self._ahead, self.path, self.ragged = ahead, path, []

    def __iter__(self) -> Iterator[tuple[pa.RecordBatch, int, tuple]]:
        while True:
            step, value = self._ahead._next(self.path)
            if isinstance(value, BaseException):
                raise value
            if step == "end":
                self.ragged = value
                return
            yield value


def _load_file(load: Load, path: Path, sha: str, ncols: int, partition: Partition, batches: ReadBatches) -> FileLoad:
    """Stage one file's validated batches (from the read-ahead) and count what was loaded and held back."""
    from vrp.lake.write import FileLoad

    file_load = FileLoad(path=path, sha256=sha, size=path.stat().st_size)
    provenance = {"source_file": scalar(path.name), "ingest_run": scalar(load.uuid),
                  "as_at": scalar(load.as_at, pa.date32())}
    rejected: list[tuple[int, str, str, str]] = []  # (record index, field, reason, raw row)
    for batch, first, (table, _good, failures) in batches:
        for name, value in provenance.items():
            table = table.append_column(name, pa.repeat(value, table.num_rows))
        for source, period, part in partition(table):
            load.write(source, period, part)
        file_load.rows_loaded += table.num_rows
        rejected.extend((first + i, field, reason, row_text(batch, i)) for i, field, reason in failures)
    if rejected or batches.ragged:
        _quarantine_with_lines(file_load, path, ncols, rejected)
    return file_load


def _quarantine_with_lines(file_load: FileLoad, path: Path, ncols: int, rejected) -> None:
    """Give each quarantined row its exact line: the slow scan runs only for files that need it."""
    good_lines, ragged = locate_records(path, ncols)
    for line, text in ragged:
        file_load.reject(line, "", f"row has the wrong number of fields (expected {ncols})", text)
    for index, field, reason, raw in rejected:
        file_load.reject(good_lines[index] if index < len(good_lines) else None, field, reason, raw)
    file_load.quarantine.sort(key=lambda q: q[0] or 0)


def summarise(dataset: str, loaded: list[FileLoad], unchanged: list[Path], run_id: int | None, as_at: date) -> dict:
    """The run summary every ingest command prints (and prints as JSON with --json)."""
    files = [{"file": str(f.path), "status": "loaded", "rows_in": f.rows_in, "rows_loaded": f.rows_loaded,
              "rows_quarantined": f.rows_quarantined} for f in loaded]
    files += [{"file": str(p), "status": "unchanged", "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0}
              for p in unchanged]
    quarantine = [{"file": f.path.name, "line": line, "field": field, "reason": reason}
                  for f in loaded for line, field, reason, _raw in f.quarantine]
    return {
        "dataset": dataset, "run_id": run_id, "as_at": as_at.isoformat(),
        "rows_in": sum(f.rows_in for f in loaded), "rows_loaded": sum(f.rows_loaded for f in loaded),
        "rows_quarantined": sum(f.rows_quarantined for f in loaded),
        "files_loaded": len(loaded), "files_unchanged": len(unchanged), "files": files,
        "quarantine_sample": quarantine[:20],
    }
