"""The pool and the loaders' list parameters (models/db.py ``PING_IDLE``, models/one_of.py).

* ``one_of(column, name)`` finds the same rows as ``IN`` for any list length, on PostgreSQL as one SQL string
  (``= ANY(array)``): one prepared statement for every batch size.
* A PostgreSQL connection idle longer than ``ping_idle`` is tested at checkout and replaced when dead; one used
  moments ago is not tested, and if it died meanwhile its statement fails once and the pool starts afresh.
"""

from __future__ import annotations

import os
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import col
from starlette.applications import Starlette

from models import Volunteer
from models.db import make_engine
from models.one_of import one_of
from tests.database import PG_ENV, is_postgres

pg_only = pytest.mark.skipif(not is_postgres(), reason="PostgreSQL only: set ZHIYUAN_TEST_DATABASE_URL")


def test_one_of_is_any_array_on_postgresql_and_expanding_in_elsewhere() -> None:
    statement = select(col(Volunteer.id)).where(one_of(col(Volunteer.id), "keys"))
    pg = str(statement.compile(dialect=postgresql.asyncpg.dialect()))  # type: ignore[no-untyped-call]
    lite = str(statement.compile(dialect=sqlite.dialect()))
    assert "volunteer.id = ANY (" in pg and "BIGINT[]" in pg, pg
    assert lite.rstrip().endswith("WHERE volunteer.id IN (__[POSTCOMPILE_keys])"), lite  # no "= 1": indexable


async def test_one_of_is_served_by_the_index(app: Starlette) -> None:
    """The statement as the driver receives it, explained: an index search, never a scan of the table."""
    engine = app.state.engine
    statement = select(col(Volunteer.id), col(Volunteer.name)).where(one_of(col(Volunteer.id), "keys"))
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.startswith("SELECT"):
            sent.append((sql, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as conn:
            await conn.execute(statement, {"keys": [1, 2, 3]})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    [(sql, params)] = sent
    async with engine.connect() as conn:
        if is_postgres():
            await conn.exec_driver_sql("SET enable_seqscan = off")  # a small table would be scanned anyway
            plan = "\n".join(str(r[0]) for r in (await conn.exec_driver_sql("EXPLAIN " + sql, params)).all())
            assert "Index" in plan and "Seq Scan" not in plan, plan
        else:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)).all()
            plan = "\n".join(str(r[-1]) for r in rows)
            assert "SEARCH volunteer USING INTEGER PRIMARY KEY" in plan, plan


async def test_one_of_finds_the_rows_of_in_for_every_length_with_one_statement_on_postgresql(
    app: Starlette,
) -> None:
    engine = app.state.engine
    async with engine.connect() as conn:
        ids = sorted((await conn.execute(select(col(Volunteer.id)).limit(6))).scalars())
    assert len(ids) == 6
    statement = select(col(Volunteer.id)).where(one_of(col(Volunteer.id), "keys"))
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.startswith("SELECT"):  # not SQLite's BEGIN
            seen.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as conn:
            for n in range(7):
                wanted = [*ids[:n], -1]  # a missing key among them
                found = sorted((await conn.execute(statement, {"keys": wanted})).scalars())
                assert found == ids[:n]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(set(seen)) == (1 if is_postgres() else 7), set(seen)


def _pg_url() -> str:
    return os.environ[PG_ENV]


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(_pg_url().replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pg_only
async def test_an_idle_connection_that_died_is_tested_and_replaced_at_checkout() -> None:
    engine = make_engine(_pg_url(), pool_size=1, max_overflow=0, ping_idle=0.0)
    try:
        pid = await _backend_pid(engine)
        await _terminate(pid)
        assert await _backend_pid(engine) != pid  # no error: the test failed, the pool connected afresh
    finally:
        await engine.dispose()


@pg_only
async def test_a_connection_used_moments_ago_is_not_tested_and_a_dead_one_fails_once() -> None:
    engine = make_engine(_pg_url(), pool_size=1, max_overflow=0, ping_idle=3600.0)
    try:
        pid = await _backend_pid(engine)
        await _terminate(pid)
        with pytest.raises(DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert await _backend_pid(engine) != pid  # the pool was invalidated: the next checkout reconnects
    finally:
        await engine.dispose()
