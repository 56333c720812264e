"""The identifiable store: names, dates of birth, postcodes, addresses and raw ids behind the
pseudonymised person records. It sits outside the lake (no DuckDB view, no SQL reaches it), and the
only way to read it is `read_identities`, which writes the audit event before returning anything.
"""
from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from vrp.audit import record, require_purpose
from vrp.ingest.people import IDENTIFIABLE_SCHEMA, PERSON_DATASETS
from vrp.lake.read import connect, loaded_datasets


def person_datasets_loaded(ws) -> list[str]:
    con = connect(ws)
    try:
        return [name for name in PERSON_DATASETS if name in loaded_datasets(con)]
    finally:
        con.close()


def _current_keys(ws, datasets: list[str]) -> pd.DataFrame:
    """record_key and dataset of every record in the current lake snapshots (a superseded
    snapshot's records are not linked, even though their identities are still stored)."""
    con = connect(ws)
    try:
        union = " UNION ALL ".join(f"SELECT record_key, '{d}' AS dataset FROM {d}" for d in datasets)
        return con.execute(union).df() if union else pd.DataFrame(columns=["record_key", "dataset"])
    finally:
        con.close()


def read_identities(ws, purpose: str | None, action: str, datasets: list[str] | None = None,
                    detail: dict | None = None) -> pd.DataFrame:
    """The identities of the current person records (one row per record_key), for a stated purpose.

    The audit event (who, when, which datasets, why, how many rows) is committed before the data is
    returned; if it cannot be written, nothing is returned."""
    purpose = require_purpose(purpose)
    datasets = datasets or person_datasets_loaded(ws)
    keys = _current_keys(ws, datasets)
    columns = [f.name for f in IDENTIFIABLE_SCHEMA]
    frames = []
    for dataset in datasets:
        folder = ws.identifiable_dir / dataset
        files = sorted(folder.glob("*.parquet"), key=lambda f: f.stat().st_mtime) if folder.is_dir() else []
        frames += [pq.read_table(f, columns=columns).to_pandas().assign(dataset=dataset, _written=i)
                   for i, f in enumerate(files)]
    stored = (pd.concat(frames, ignore_index=True) if frames
              else pd.DataFrame(columns=columns + ["dataset", "_written"]))
    # a record sent again keeps its latest identity (as-at date, then the later load)
    stored = stored.sort_values(["as_at", "_written"], kind="stable").drop_duplicates("record_key", keep="last")
    stored = stored.drop(columns="_written")
    out = keys[["record_key"]].merge(stored, on="record_key", how="inner").sort_values("record_key", ignore_index=True)
    record(ws, action, "identifiable:" + ",".join(datasets), purpose, rows=len(out), detail=detail)
    return out
