"""App-state tables (SQLAlchemy). The lake holds the data; these tables say what is in it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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
    size_bytes: Mapped[int] = mapped_column(BigInteger)
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


class Lock(Base):
    """A named lock held for the length of one transaction (see `vrp.store.register_lock`)."""

    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


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


class AuditEvent(Base):
    """One read of identifiable data, or one change to a safeguarded list: who, when, what, why.
    Append-only (the database refuses updates and deletes)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class LinkRun(Base):
    """One linkage of the partnership's person records: the settings and trained model it used (so
    the next run can score with the same model and keep person ids stable), and what changed."""

    __tablename__ = "link_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    as_at: Mapped[date] = mapped_column(Date)
    user: Mapped[str] = mapped_column(String(128))
    settings_id: Mapped[str] = mapped_column(String(64))
    settings_version: Mapped[str] = mapped_column(String(32))
    backend: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column()
    records: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="{}")


class CohortRun(Base):
    """One build of one cohort rule: the rule version, as-at date and linkage run it used."""

    __tablename__ = "cohort_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[str] = mapped_column(String(32))
    list_role: Mapped[str] = mapped_column(String(16))
    as_at: Mapped[date] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[str] = mapped_column(String(128))
    link_run: Mapped[str] = mapped_column(String(32))
    definition: Mapped[str] = mapped_column(String(64))
    people_scored: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="{}")


class CohortEntry(Base):
    """A person on a cohort list, with the score components, review date, retention date and the
    human review decision. Removal deletes the row; nothing is kept in a shadow list."""

    __tablename__ = "cohort_entries"
    __table_args__ = (UniqueConstraint("run_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cohort_runs.id"))
    person_id: Mapped[str] = mapped_column(String(32))
    list_role: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column()
    band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    components: Mapped[str] = mapped_column(Text)
    events: Mapped[int] = mapped_column(Integer)
    last_event: Mapped[date | None] = mapped_column(Date, nullable=True)
    age_at_last_event: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(16), nullable=True)
    review_date: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    reviewed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    review_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
