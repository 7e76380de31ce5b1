"""Instants read back timezone-aware in UTC on both backends (models/columns.py ``UtcDateTime``), whether the
driver does it (asyncpg: no Python call per value) or the column type does (SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import literal_column, select
from starlette.applications import Starlette

from models.columns import UtcDateTime
from models.volunteer import Volunteer


async def test_stored_instants_read_back_as_utc(app: Starlette) -> None:
    async with app.state.engine.connect() as conn:
        created = (await conn.execute(select(Volunteer.created_at).limit(5))).scalars().all()
    assert created
    assert all(moment.tzinfo is UTC for moment in created)


async def test_an_offset_instant_reads_back_as_the_same_instant_in_utc(app: Starlette) -> None:
    engine = app.state.engine
    if engine.dialect.name == "postgresql":
        raw = "CAST('2026-01-01 08:00:00+08:00' AS timestamptz)"
    else:  # SQLite keeps the UTC wall time without an offset
        raw = "'2026-01-01 00:00:00.000000'"
    async with engine.connect() as conn:
        moment = (await conn.execute(select(literal_column(raw, UtcDateTime())))).scalar_one()
    assert moment == datetime(2026, 1, 1, tzinfo=UTC)
    assert moment.tzinfo is UTC
