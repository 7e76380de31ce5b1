"""trial feedback (试运行意见反馈表)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "trial_feedback",
        sa.Column("province_code", Str(length=12), nullable=False),
        sa.Column("organisation", Str(length=100), nullable=False),
        sa.Column("form_date", sa.Date(), nullable=False),
        sa.Column("contact_name", Str(length=50), nullable=False),
        sa.Column("contact_phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("organised_trial", sa.Boolean(), nullable=False),
        sa.Column("deepest_level", sa.String(length=12), nullable=True),
        sa.Column("accounts_login_ok", sa.Boolean(), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("support_ok", sa.Boolean(), nullable=False),
        sa.Column("stable", sa.Boolean(), nullable=False),
        sa.Column("meets_needs", sa.Boolean(), nullable=False),
        sa.Column("improvements", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("submitted_by_id", BigId, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["province_code"], ["region.code"]),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("province_code"),
    )


def downgrade() -> None:
    op.drop_table("trial_feedback")
