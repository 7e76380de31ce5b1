"""change feed triggers on trial_feedback

Migration 0007 installed the change-log triggers on the synced tables that existed then; ``trial_feedback``
came in 0008. A province instance's feedback form travels to the ministry like every other row of its subtree
(keyed by ``province_code``, models/change_log.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.change_log import backfill_sql, drop_triggers, trigger_sql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "trial_feedback"


def upgrade() -> None:
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns(TABLE)}
    op.execute(backfill_sql(TABLE, columns, bind.dialect.name))
    for statement in trigger_sql(TABLE, columns, bind.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_triggers(TABLE, op.get_bind().dialect.name):
        op.execute(statement)
