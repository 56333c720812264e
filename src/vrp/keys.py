"""Rotating the pseudonymisation key: every pseudonym in the lake is recomputed under a new key.

The raw identifiers behind each pseudonym sit in the identifiable store, so every old pseudonym can
be mapped to its new one. Rotation rewrites every snapshot that holds pseudonyms, including
superseded ones (after rotation no file anywhere carries a pseudonym under the retired key; this is
the one deliberate exception to the lake's write-once rule), then the identifiable store's keys,
then replaces the key. Person ids (from linkage) are not pseudonyms and do not change.

Concurrency: the rewrite holds the register lock, so no ingest commits while it runs, and an ingest
that pseudonymised its rows under the old key is refused at its commit (vrp.lake.write).

Crash safety: the new key is written to `pseudonym.key.new` first; a rotation that stops half-way
leaves it there, and running `vrp keys rotate` again finishes the job with that same new key
(tokens already under the new key map to themselves).
"""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from vrp.audit import record, require_purpose
from vrp.errors import VrpError
from vrp.ingest.people import PERSON_DATASETS
from vrp.ingest.values import pseudonymiser
from vrp.store import Snapshot, register_lock
from vrp.workspace import read_key


@dataclass(frozen=True)
class TokenColumn:
    """A pseudonym column: where its raw values are (column of the dataset's identifiable files),
    the namespace it was keyed with, and whether it holds a list of ids."""

    column: str
    raw: str
    namespace: str = ""
    is_list: bool = False


TOKEN_COLUMNS: dict[str, tuple[TokenColumn, ...]] = {
    "crimes": (TokenColumn("victim_pid", "victim_id"), TokenColumn("suspect_pids", "suspect_ids", is_list=True)),
    "homicides": (TokenColumn("victim_pid", "victim_id"),),
    **{name: (TokenColumn("record_key", "record_id", name), TokenColumn("person_key", "person_ref", name))
       for name in PERSON_DATASETS},
}
# Datasets whose token columns are copies of another dataset's tokens (mapped with the same table).
DERIVED = {"person_links": ("record_key",)}


def _raw_values(ws, dataset: str, spec: TokenColumn) -> set[str]:
    folder = ws.identifiable_dir / dataset
    values: set[str] = set()
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        column = pq.read_table(path, columns=[spec.raw]).column(spec.raw).drop_null().to_pylist()
        for value in column:
            items = value.split(";") if spec.is_list else [value]
            values.update(f"{spec.namespace}:{v.strip()}" if spec.namespace else v.strip() for v in items if v.strip())
    return values


def token_map(ws, old_key: bytes, new_key: bytes) -> dict[str, str]:
    """Old pseudonym -> new pseudonym for every raw identifier held; new ones map to themselves (so a
    rotation that stopped half-way can be finished)."""
    old, new = pseudonymiser(old_key), pseudonymiser(new_key)
    mapping: dict[str, str] = {}
    for dataset, specs in TOKEN_COLUMNS.items():
        for spec in specs:
            for raw in _raw_values(ws, dataset, spec):
                target = new(raw)
                mapping[old(raw)] = target
                mapping[target] = target
    return mapping


def _remap(values: pa.Array, keys: pa.Array, targets: pa.Array) -> tuple[pa.Array, int]:
    """Replace each token by its target; (new array, number of non-null tokens with no target)."""
    if pa.types.is_list(values.type):
        flat, missing = _remap(pc.list_flatten(values), keys, targets)
        offsets = values.offsets
        return pa.ListArray.from_arrays(offsets, flat, mask=values.is_null()), missing
    index = pc.index_in(values, value_set=keys)
    missing = int(pc.sum(pc.and_(pc.is_valid(values), pc.is_null(index))).as_py() or 0)
    return pc.take(targets, index), missing


def _rewrite(path: Path, columns: tuple[str, ...], keys: pa.Array, targets: pa.Array, staged: Path) -> int:
    table = pq.read_table(path)
    missing = 0
    for name in columns:
        if name in table.column_names:
            i = table.column_names.index(name)
            new, lost = _remap(table.column(name).combine_chunks(), keys, targets)
            table = table.set_column(i, table.schema.field(i), new)
            missing += lost
    staged.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, staged, compression="zstd")
    return missing


def rotate_key(ws, purpose: str | None) -> dict:
    """Re-key every pseudonym under a fresh key; the old key is destroyed at the end."""
    purpose = require_purpose(purpose)
    pending = ws.key_path.with_name(ws.key_path.name + ".new")
    resumed = pending.exists()
    if not resumed:
        pending.write_text(secrets.token_hex(32) + "\n")
        pending.chmod(0o600)
    new_key = read_key(pending)
    try:
        with Session(ws.engine) as locked, locked.begin():
            register_lock(locked, "key rotation")  # no ingest commits under the old key meanwhile
            summary = _rotate(ws, locked, purpose, new_key, pending, resumed)
    except VrpError:
        # the identifiable store may have been read: that is logged even though nothing changed
        record(ws, "re-key", "identifiable:all", purpose, detail={"resumed": resumed, "completed": False})
        raise
    ws.__dict__.pop("pseudonym_key", None)
    return summary


def _rotate(ws, locked: Session, purpose: str, new_key: bytes, pending: Path, resumed: bool) -> dict:
    mapping = token_map(ws, ws.pseudonym_key, new_key)
    # in the locked transaction (a second session would wait on the lock): it commits with the rotation
    record(ws, "re-key", "identifiable:all", purpose, rows=len(set(mapping.values())),
           detail={"resumed": resumed}, session=locked)
    keys = pa.array(list(mapping), pa.string())
    targets = pa.array(list(mapping.values()), pa.string())
    jobs: list[tuple[Path, tuple[str, ...]]] = []
    with Session(ws.engine) as session:
        for snap in session.scalars(select(Snapshot)):
            columns = tuple(t.column for t in TOKEN_COLUMNS.get(snap.dataset, ())) + DERIVED.get(snap.dataset, ())
            if columns:
                jobs.append((ws.lake / snap.path, columns))
    for dataset, specs in TOKEN_COLUMNS.items():
        folder = ws.identifiable_dir / dataset
        names = tuple(s.column for s in specs if s.column in ("record_key", "person_key"))
        if names and folder.is_dir():
            jobs += [(path, names) for path in sorted(folder.glob("*.parquet"))]

    staging = ws.root / "secrets" / ".rekey"
    shutil.rmtree(staging, ignore_errors=True)
    missing = 0
    try:
        for i, (path, columns) in enumerate(jobs):
            missing += _rewrite(path, columns, keys, targets, staging / f"{i}.parquet")
        if missing:
            if not resumed:
                pending.unlink()
            raise VrpError(f"{missing:,} pseudonyms have no raw identifier in the identifiable store (loaded "
                           "before it existed?); nothing was changed. Re-load those files, then rotate.")
        for i, (path, _columns) in enumerate(jobs):
            os.replace(staging / f"{i}.parquet", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    os.replace(pending, ws.key_path)
    return {"files_rewritten": len(jobs), "pseudonyms": len(set(mapping.values())), "resumed": resumed}
