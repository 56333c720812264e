"""Dataset register, ingest runs, source files, snapshots and quarantine.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("access_tier", sa.String(32), nullable=False),
        sa.Column("personal_data", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(32), nullable=False, unique=True),
        sa.Column("dataset", sa.String(64), sa.ForeignKey("datasets.name"), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("as_at", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_quarantined", sa.Integer, nullable=False),
    )
    op.create_table(
        "source_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id"), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_quarantined", sa.Integer, nullable=False),
        sa.UniqueConstraint("dataset", "sha256"),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id"), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("as_at", sa.Date, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("ingest_runs.id"), nullable=False, index=True),
        sa.Column("file_id", sa.Integer, sa.ForeignKey("source_files.id"), nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("quarantine", "snapshots", "source_files", "ingest_runs", "datasets"):
        op.drop_table(table)
