"""Projects' review state, post place counters, sign-up and attendance details, correction requests,
idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Str = sqlmodel.sql.sqltypes.AutoString
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("key", Str(length=64), nullable=False),
        sa.Column("operation", Str(length=60), nullable=False),
        sa.Column("request_hash", Str(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("account_id", "key"),
    )
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])
    op.create_table(
        "correction_request",
        sa.Column("id", BigId, nullable=False),
        sa.Column("record_id", BigId, nullable=False),
        sa.Column("volunteer_id", BigId, nullable=False),
        sa.Column("team_id", BigId, nullable=False),
        sa.Column("region_code", Str(length=12), nullable=False),
        sa.Column("reason", Str(length=500), nullable=False),
        sa.Column("requested_hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("response", Str(length=500), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("answered_at", When, nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["service_record.id"]),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("record_id", "region_code", "status", "team_id", "volunteer_id"):
        op.create_index(f"ix_correction_request_{column}", "correction_request", [column])
    with op.batch_alter_table("attendance") as batch:
        batch.add_column(sa.Column("check_out_lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("check_out_lng", sa.Float(), nullable=True))
        batch.add_column(sa.Column("location_purged_at", When, nullable=True))
        batch.add_column(sa.Column("corrected_by_id", BigId, nullable=True))
        batch.create_foreign_key("fk_attendance_corrected_by_id_account", "account", ["corrected_by_id"], ["id"])
    with op.batch_alter_table("post") as batch:
        batch.add_column(sa.Column("taken", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE post SET taken = (SELECT count(*) FROM sign_up WHERE sign_up.post_id = post.id"
        " AND sign_up.status IN ('PENDING', 'ACCEPTED'))"
    )
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("submitted_at", When, nullable=True))
        batch.add_column(sa.Column("closed_at", When, nullable=True))
        batch.add_column(sa.Column("status_reason", Str(length=500), nullable=False, server_default=""))
    with op.batch_alter_table("service_record") as batch:
        batch.add_column(sa.Column("decline_reason", Str(length=500), nullable=True))
    with op.batch_alter_table("sign_up") as batch:
        batch.add_column(sa.Column("cancelled_at", When, nullable=True))
        batch.add_column(sa.Column("reason", Str(length=500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sign_up") as batch:
        batch.drop_column("reason")
        batch.drop_column("cancelled_at")
    with op.batch_alter_table("service_record") as batch:
        batch.drop_column("decline_reason")
    with op.batch_alter_table("project") as batch:
        for column in ("status_reason", "closed_at", "submitted_at"):
            batch.drop_column(column)
    with op.batch_alter_table("post") as batch:
        batch.drop_column("taken")
    with op.batch_alter_table("attendance") as batch:
        batch.drop_constraint("fk_attendance_corrected_by_id_account", type_="foreignkey")
        for column in ("corrected_by_id", "location_purged_at", "check_out_lng", "check_out_lat"):
            batch.drop_column(column)
    op.drop_table("correction_request")
    op.drop_table("idempotency_key")
