"""The register lock, file sizes past 2 GB, and the audit log guarded against TRUNCATE.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# PostgreSQL's row triggers do not fire on TRUNCATE; a statement trigger closes that door too.
POSTGRES_TRUNCATE_GUARD = """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"""


def upgrade() -> None:
    # One row per lock. A command that changes the register updates its row first, inside its own
    # transaction: SQLite then holds the database's write lock and PostgreSQL the row's lock until
    # the transaction ends, so two ingests commit one after the other and each sees the other's files.
    op.create_table(
        "locks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("since", sa.DateTime, nullable=True),
    )
    op.execute("INSERT INTO locks (name, holder) VALUES ('register', '')")
    with op.batch_alter_table("source_files") as batch:
        batch.alter_column("size_bytes", type_=sa.BigInteger, existing_type=sa.Integer, existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_TRUNCATE_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    with op.batch_alter_table("source_files") as batch:
        batch.alter_column("size_bytes", type_=sa.Integer, existing_type=sa.BigInteger, existing_nullable=False)
    op.drop_table("locks")
