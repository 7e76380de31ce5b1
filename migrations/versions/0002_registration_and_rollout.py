"""Registration and verification state, province rollout, volunteer number sequences, legacy ids,
case-insensitive usernames.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:23:18
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "volunteer_number_sequence",
        sa.Column("county", Str(length=6), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("county"),
    )
    op.create_table(
        "province_rollout",
        sa.Column("province_code", Str(length=12), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["province_code"], ["region.code"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("province_code"),
    )
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("username_key", Str(length=40), nullable=True))
    op.execute("UPDATE account SET username_key = lower(username)")
    with op.batch_alter_table("account") as batch:
        batch.alter_column("username_key", existing_type=Str(length=40), nullable=False)
        batch.create_unique_constraint("uq_account_username_key", ["username_key"])
    with op.batch_alter_table("service_record") as batch:
        batch.add_column(sa.Column("legacy_id", Str(length=64), nullable=True))
        batch.create_unique_constraint("uq_service_record_legacy_id", ["legacy_id"])
    with op.batch_alter_table("team") as batch:
        batch.add_column(
            sa.Column("legal_verification", sa.String(length=24), nullable=False, server_default="NOT_REQUIRED")
        )
        batch.add_column(sa.Column("review_reason", Str(length=500), nullable=False, server_default=""))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("registered_by_id", BigId, nullable=True))
        batch.add_column(sa.Column("legacy_id", Str(length=64), nullable=True))
        batch.create_unique_constraint("uq_team_legacy_id", ["legacy_id"])
        batch.create_foreign_key("fk_team_registered_by_id_account", "account", ["registered_by_id"], ["id"])
    with op.batch_alter_table("team_membership") as batch:
        batch.add_column(sa.Column("decision_reason", Str(length=500), nullable=False, server_default=""))
    with op.batch_alter_table("volunteer") as batch:
        batch.add_column(sa.Column("verification_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("verification_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("verification_note", Str(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("guardian_relation", Str(length=20), nullable=True))
        batch.add_column(sa.Column("legacy_id", Str(length=64), nullable=True))
        batch.create_index("ix_volunteer_verification_next_at", ["verification_next_at"], unique=False)
        batch.create_unique_constraint("uq_volunteer_legacy_id", ["legacy_id"])


def downgrade() -> None:
    with op.batch_alter_table("volunteer") as batch:
        batch.drop_constraint("uq_volunteer_legacy_id", type_="unique")
        batch.drop_index("ix_volunteer_verification_next_at")
        for column in ("legacy_id", "guardian_relation", "verification_note", "verification_next_at"):
            batch.drop_column(column)
        batch.drop_column("verification_attempts")
    with op.batch_alter_table("team_membership") as batch:
        batch.drop_column("decision_reason")
    with op.batch_alter_table("team") as batch:
        batch.drop_constraint("fk_team_registered_by_id_account", type_="foreignkey")
        batch.drop_constraint("uq_team_legacy_id", type_="unique")
        for column in ("legacy_id", "registered_by_id", "reviewed_at", "review_reason", "legal_verification"):
            batch.drop_column(column)
    with op.batch_alter_table("service_record") as batch:
        batch.drop_constraint("uq_service_record_legacy_id", type_="unique")
        batch.drop_column("legacy_id")
    with op.batch_alter_table("account") as batch:
        batch.drop_constraint("uq_account_username_key", type_="unique")
        batch.drop_column("username_key")
    op.drop_table("province_rollout")
    op.drop_table("volunteer_number_sequence")
