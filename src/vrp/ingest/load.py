"""The one path every CSV ingest takes: hash, check header, stream, validate, stage, commit."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from vrp.ingest.checks import row_text
from vrp.ingest.files import CsvBatches, expand_paths, locate_records, read_header, sha256_file
from vrp.lake import FileLoad, Load
from vrp.lake.write import known_hashes

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
    known = known_hashes(ws, dataset)
    unchanged: list[Path] = []
    with Load(ws, dataset, schema, as_at, command, identifiable) as load:
        for path in files:
            sha = sha256_file(path)
            if sha in known:
                unchanged.append(path)
            else:
                known.add(sha)
                check_header(path, read_header(path))
                names = columns(path) if callable(columns) else columns
                load.add_file(_load_file(load, path, sha, names, normalise, partition, multiline))
            if progress:
                progress(path)
        run_id = load.commit()
    return summarise(dataset, load.files, unchanged, run_id, as_at)


def _load_file(load: Load, path: Path, sha: str, columns, normalise: Normalise, partition: Partition,
               multiline: bool) -> FileLoad:
    file_load = FileLoad(path=path, sha256=sha, size=path.stat().st_size)
    provenance = {"source_file": pa.scalar(path.name), "ingest_run": pa.scalar(load.uuid),
                  "as_at": pa.scalar(load.as_at, pa.date32())}
    rejected: list[tuple[int, str, str, str]] = []  # (record index, field, reason, raw row)
    reader = CsvBatches(path, columns, multiline)
    for batch, first in reader:
        table, _good, failures = normalise(batch, load.as_at)
        for name, value in provenance.items():
            table = table.append_column(name, pa.repeat(value, table.num_rows))
        for source, period, part in partition(table):
            load.write(source, period, part)
        file_load.rows_loaded += table.num_rows
        rejected.extend((first + i, field, reason, row_text(batch, i)) for i, field, reason in failures)
    if rejected or reader.ragged:
        _quarantine_with_lines(file_load, path, len(columns), rejected)
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
