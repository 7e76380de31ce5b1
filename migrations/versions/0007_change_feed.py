"""change feed for the deployment modes

The node table, the per-peer sync state, the change log, and the change-log triggers on every synced table
that exists at this revision (models/change_log.py), with a set-based back-fill that logs the rows already
there as inserts — one INSERT … SELECT per table, no row-by-row work, so a 30M-row database migrates in the
time the database needs to copy the keys. On PostgreSQL two id-holding columns that were 32-bit
(``volunteer.account_id``, ``audit_event.subject_id``) become 64-bit: other nodes' ids are above 2^31 (one
table rewrite each).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.change_log import backfill_sql, drop_triggers, is_synced, trigger_sql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Str = sqlmodel.sql.sqltypes.AutoString
When = sa.DateTime(timezone=True)


def _synced_tables() -> list[tuple[str, set[str]]]:
    """The synced tables present now, parents first (so back-filled parents come before their children)."""
    bind = op.get_bind()
    metadata = sa.MetaData()
    metadata.reflect(bind)
    return [
        (table.name, {c.name for c in table.columns})
        for table in metadata.sorted_tables
        if is_synced(table.name)
    ]


def upgrade() -> None:
    op.create_table(
        "sync_node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.Integer(), nullable=False),
        sa.Column("mode", Str(length=20), nullable=False),
        sa.Column("prefix", Str(length=2), nullable=False),
        sa.Column("origin", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_state",
        sa.Column("peer_node", sa.Integer(), nullable=False),
        sa.Column("peer_url", Str(length=300), nullable=False),
        sa.Column("cursor", Str(length=60), nullable=False),
        sa.Column("acked", Str(length=60), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("peer_node"),
    )
    op.create_table(
        "change_log",
        sa.Column("seq", BigId, nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("table_name", Str(length=40), nullable=False),
        sa.Column("row_key", Str(length=40), nullable=False),
        sa.Column("region_code", Str(length=12), nullable=True),
        sa.Column("province", Str(length=2), nullable=True),
        sa.Column("op", Str(length=1), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("origin", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    tables = _synced_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":  # ids of other nodes exceed 2^31 (models/db.py); SQLite's INTEGER is 64-bit
        op.alter_column("volunteer", "account_id", type_=sa.BigInteger(), existing_nullable=True)
        op.alter_column("audit_event", "subject_id", type_=sa.BigInteger(), existing_nullable=True)
    for name, columns in tables:
        op.execute(backfill_sql(name, columns, dialect))
    op.create_index("ix_change_log_position", "change_log", ["xid", "seq"])
    op.create_index("ix_change_log_province_position", "change_log", ["province", "xid", "seq"])
    op.create_index("ix_change_log_key", "change_log", ["table_name", "row_key"])
    for name, columns in tables:
        for statement in trigger_sql(name, columns, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.alter_column("audit_event", "subject_id", type_=sa.Integer(), existing_nullable=True)
        op.alter_column("volunteer", "account_id", type_=sa.Integer(), existing_nullable=True)
    for name, _ in _synced_tables():
        for statement in drop_triggers(name, dialect):
            op.execute(statement)
    op.drop_table("change_log")
    op.drop_table("sync_state")
    op.drop_table("sync_node")
