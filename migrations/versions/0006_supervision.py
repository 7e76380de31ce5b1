"""supervision alerts and spot checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supervision_alert",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=24), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("subject_kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", BIG_ID, nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("handled_by_id", BIG_ID, nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["handled_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "rule", "subject_kind", "subject_id", "period_key", name="uq_supervision_alert_subject"
        ),
    )
    with op.batch_alter_table("supervision_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_alert_first_seen"), ["first_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_alert_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_alert_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_alert_status"), ["status"], unique=False)

    op.create_table(
        "spot_check",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_by_id", BIG_ID, nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("seed", BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spot_check_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_spot_check_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_spot_check_status"), ["status"], unique=False)

    op.create_table(
        "spot_check_item",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("spot_check_id", BIG_ID, nullable=False),
        sa.Column("record_id", BIG_ID, nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("draw", sa.Integer(), nullable=False),
        sa.Column("finding", sa.String(length=24), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("checked_by_id", BIG_ID, nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["checked_by_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["service_record.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.ForeignKeyConstraint(["spot_check_id"], ["spot_check.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("spot_check_id", "record_id", name="uq_spot_check_item_record"),
    )
    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spot_check_item_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_spot_check_item_spot_check_id"), ["spot_check_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_item_spot_check_id"))
        batch_op.drop_index(batch_op.f("ix_spot_check_item_region_code"))
    op.drop_table("spot_check_item")
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_status"))
        batch_op.drop_index(batch_op.f("ix_spot_check_region_code"))
        batch_op.drop_index(batch_op.f("ix_spot_check_created_by_id"))
    op.drop_table("spot_check")
    with op.batch_alter_table("supervision_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_alert_status"))
        batch_op.drop_index(batch_op.f("ix_supervision_alert_rule"))
        batch_op.drop_index(batch_op.f("ix_supervision_alert_region_code"))
        batch_op.drop_index(batch_op.f("ix_supervision_alert_first_seen"))
    op.drop_table("supervision_alert")
