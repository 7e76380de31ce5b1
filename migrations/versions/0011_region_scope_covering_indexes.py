"""covering indexes for a region admin's volunteers

A region admin sees the volunteers registered in the region's subtree or joined to its teams (auth/scope.py):
``region_code BETWEEN … OR id IN (SELECT volunteer_id FROM team_membership WHERE status = 'JOINED' AND
region_code BETWEEN …)``. Counting them for a county at tier M (163,236 of 2,000,000 volunteers) read both
sets from the tables' heaps: 1.45 s on PostgreSQL. With ``volunteer (region_code, id)`` and
``team_membership (status, region_code, volunteer_id)`` both sets come from the indexes alone: 0.55 s (and
0.2 s counted as a union, resolvers/lists.py). ``status`` leads: SQLite without statistics prefers the index
that serves the most conditions, and with ``region_code`` first it chose the single-column ``status`` index
(every JOINED membership) over this one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_volunteer_region_id", "volunteer", ["region_code", "id"])
    op.create_index(
        "ix_team_membership_status_region_volunteer",
        "team_membership",
        ["status", "region_code", "volunteer_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_team_membership_status_region_volunteer", table_name="team_membership")
    op.drop_index("ix_volunteer_region_id", table_name="volunteer")
