"""Audit log (append-only), linkage runs, cohort runs and cohort entries.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The audit log is append-only in the database itself, not just by convention: updates and deletes
# raise, so not even a bug (or a hurried administrator with the app's credentials) can rewrite it.
SQLITE_GUARDS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
POSTGRES_GUARDS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_GUARDS, "postgresql": POSTGRES_GUARDS}.get(dialect, []):
        op.execute(statement)
    op.create_table(
        "link_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(32), nullable=False, unique=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("as_at", sa.Date, nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("settings_id", sa.String(64), nullable=False),
        sa.Column("settings_version", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "cohort_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=False, index=True),
        sa.Column("rule_version", sa.String(32), nullable=False),
        sa.Column("list_role", sa.String(16), nullable=False),
        sa.Column("as_at", sa.Date, nullable=False),
        sa.Column("built_at", sa.DateTime, nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("link_run", sa.String(32), nullable=False),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("people_scored", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_table(
        "cohort_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cohort_runs.id"), nullable=False, index=True),
        sa.Column("person_id", sa.String(32), nullable=False, index=True),
        sa.Column("list_role", sa.String(16), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("last_event", sa.Date, nullable=True),
        sa.Column("age_at_last_event", sa.Integer, nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        sa.Column("review_date", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.String(128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime, nullable=True),
        sa.Column("review_notes", sa.Text, nullable=True),
        sa.UniqueConstraint("run_id", "person_id"),
    )


def downgrade() -> None:
    op.drop_table("cohort_entries")
    op.drop_table("cohort_runs")
    op.drop_table("link_runs")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only() CASCADE")
    op.drop_table("audit_log")
