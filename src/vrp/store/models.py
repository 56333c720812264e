"""App-state tables (SQLAlchemy). The lake holds the data; these tables say what is in it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Dataset(Base):
    """The dataset register: what each dataset is and who may read it."""

    __tablename__ = "datasets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(32), default="OFFICIAL")
    access_tier: Mapped[str] = mapped_column(String(32), default="analyst")
    personal_data: Mapped[bool] = mapped_column(default=False)
    registered_at: Mapped[datetime] = mapped_column(DateTime)


class IngestRun(Base):
    """One successful ingest command. Failed commands leave no trace in the register."""

    __tablename__ = "ingest_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    dataset: Mapped[str] = mapped_column(ForeignKey("datasets.name"))
    command: Mapped[str] = mapped_column(Text)
    as_at: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(128), default="")
    rows_in: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)


class SourceFile(Base):
    """A partner file that was loaded, known by its content hash (re-loading it is a no-op)."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("dataset", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    dataset: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    rows_in: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)


class Snapshot(Base):
    """One immutable Parquet file of the lake: a dataset's rows for one source and period.

    For queries, the snapshot with the latest (as_at, run) per (dataset, source, period) is
    current; older ones are kept so that past outputs can be reproduced.
    """

    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(32))
    as_at: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)


class QuarantineRow(Base):
    """A row that could not be loaded faithfully, with where it was and why."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("source_files.id"))
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)
    field: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")
