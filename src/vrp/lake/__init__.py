"""The lake: immutable Parquet snapshots, registered in the app-state database.

Writing is "write aside, then switch": an ingest command stages every Parquet file under
lake/.staging/, and only when all its files have been read does it move them into place and
register them in one database transaction. A command that fails half-way leaves the lake and the
register exactly as they were.

Reading is DuckDB in memory over the current snapshot files: never a DuckDB database file, which
one process would lock against every other (a web server, another CLI).
"""
from vrp.lake.read import DATASET_INFO, connect, current_snapshots, require_dataset

__all__ = ["DATASET_INFO", "connect", "current_snapshots", "require_dataset", "FileLoad", "Load"]


def __getattr__(name: str):
    """FileLoad and Load on first use: the writing side (pyarrow.parquet) is not loaded by commands that only read."""
    if name in ("FileLoad", "Load"):
        from vrp.lake import write

        return getattr(write, name)
    raise AttributeError(f"module 'vrp.lake' has no attribute {name!r}")
