"""statistics rollup tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:50:00

Creates the ``rollup_*`` tables (frozen here as of this revision), fills them from the base tables with one
``INSERT ... SELECT ... GROUP BY`` each, then installs the triggers that keep them current (models/rollups.py
defines both the back-fill and the triggers). Filling before the triggers exist is safe: migrations run alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import rollups

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = (
    "rollup_record_county_month",
    "rollup_record_month",
    "rollup_record_day",
    "rollup_record_team_day",
    "rollup_volunteer_hours",
    "rollup_volunteer_county_month",
    "rollup_volunteer_month",
    "rollup_volunteer_day",
    "rollup_team_day",
    "rollup_project_day",
    "rollup_sign_up_day",
    "rollup_certificate_day",
)


def _ours() -> tuple[rollups.Rollup, ...]:
    return tuple(r for r in rollups.ROLLUPS if r.name in TABLES)


def upgrade() -> None:
    op.create_table(
        "rollup_record_county_month",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("month", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("category", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "month", "category", name="pk_rollup_record_county_month"),
    )
    op.create_table(
        "rollup_record_month",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("month", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("category", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "month", "category", name="pk_rollup_record_month"),
    )
    op.create_table(
        "rollup_record_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("category", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "category", name="pk_rollup_record_day"),
    )
    op.create_table(
        "rollup_record_team_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("category", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("team_id", ID, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "category", "team_id", name="pk_rollup_record_team_day"),
    )
    op.create_index("ix_rollup_record_team_day_team_id_day", "rollup_record_team_day", ["team_id", "day"], unique=False)
    op.create_table(
        "rollup_volunteer_hours",
        sa.Column("volunteer_id", ID, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("volunteer_id", name="pk_rollup_volunteer_hours"),
    )
    op.create_table(
        "rollup_volunteer_county_month",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("month", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("verified", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "month", "verified", name="pk_rollup_volunteer_county_month"),
    )
    op.create_table(
        "rollup_volunteer_month",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("month", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("verified", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "month", "verified", name="pk_rollup_volunteer_month"),
    )
    op.create_table(
        "rollup_volunteer_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("verified", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("sex", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("birth_year", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "verified", "sex", "birth_year", name="pk_rollup_volunteer_day"),
    )
    op.create_table(
        "rollup_team_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("team_type", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "team_type", name="pk_rollup_team_day"),
    )
    op.create_table(
        "rollup_project_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("category", sa.String(24), nullable=False, autoincrement=False),
        sa.Column("team_id", ID, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "category", "team_id", name="pk_rollup_project_day"),
    )
    op.create_table(
        "rollup_sign_up_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("team_id", ID, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "team_id", name="pk_rollup_sign_up_day"),
    )
    op.create_table(
        "rollup_certificate_day",
        sa.Column("region_code", sa.String(12), nullable=False, autoincrement=False),
        sa.Column("day", sa.Date(), nullable=False, autoincrement=False),
        sa.Column("team_id", ID, nullable=False, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", "team_id", name="pk_rollup_certificate_day"),
    )
    bind = op.get_bind()
    for rollup in _ours():
        rollups.refill(bind, rollup)
    rollups.install_triggers(bind, _ours())


def downgrade() -> None:
    rollups.drop_triggers(op.get_bind(), _ours())
    for name in reversed(TABLES):
        op.drop_table(name)
