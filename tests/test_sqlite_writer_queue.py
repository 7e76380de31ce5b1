"""SQLite's write transactions queue first come, first served in the process (models/db.py ``_WriterQueue``):
they run in the order they asked, none meets "database is locked", a rolled-back or failed transaction
hands the turn on, and a read never waits for the queue."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from models.db import WRITER_WAIT, make_write_session_factory
from tests.database import is_postgres

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite only: PostgreSQL has row locks, not one writer")

TABLE = "writer_queue_probe"


async def _probe_table(app: Starlette) -> None:
    async with app.state.engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (n INTEGER, at REAL)"))
        await conn.execute(text(f"DELETE FROM {TABLE}"))


async def test_writers_commit_in_the_order_they_asked(app: Starlette) -> None:
    await _probe_table(app)
    writes = make_write_session_factory(app.state.engine)
    started: list[int] = []
    writers = 16  # within the pool (20): each checks out a pooled connection at once, none opens a new one

    async def read() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(read() for _ in range(writers)))  # the pool holds that many connections now

    async def writer(n: int) -> None:
        await asyncio.sleep(n * 0.002)  # ask in order 0, 1, 2, …
        started.append(n)
        async with writes() as session, session.begin():
            await session.execute(
                text(f"INSERT INTO {TABLE} (n, at) VALUES (:n, :at)"), {"n": n, "at": time.time()}
            )
            await asyncio.sleep(0.03)  # hold the write lock across an await, as a resolver does

    await asyncio.gather(*(writer(n) for n in range(writers)))
    async with app.state.engine.connect() as conn:
        committed = [
            row[0] for row in (await conn.execute(text(f"SELECT n FROM {TABLE} ORDER BY rowid"))).all()
        ]
    assert committed == started  # FIFO; with SQLite's busy handler alone the order was arbitrary
    assert len(committed) == writers


async def test_a_waiting_writer_goes_before_a_newcomer(app: Starlette) -> None:
    """The case SQLite's busy handler got wrong: B waits (sleeping between retries) while A writes; C arrives
    the moment A commits and, retrying nothing, took the lock before B woke up."""
    await _probe_table(app)
    writes = make_write_session_factory(app.state.engine)
    a_done = asyncio.Event()

    async def write(n: int, hold: float = 0.0) -> None:
        async with writes() as session, session.begin():
            await session.execute(text(f"INSERT INTO {TABLE} (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(hold)

    async def a() -> None:
        await write(1, hold=0.06)
        a_done.set()

    async def b() -> None:
        await asyncio.sleep(0.01)
        await write(2)

    async def c() -> None:
        await a_done.wait()
        await write(3)

    await asyncio.gather(a(), b(), c())
    async with app.state.engine.connect() as conn:
        order = (await conn.execute(text(f"SELECT n FROM {TABLE} ORDER BY rowid"))).scalars().all()
    assert order == [1, 2, 3]


async def test_a_failed_writer_hands_the_turn_on(app: Starlette) -> None:
    await _probe_table(app)
    writes = make_write_session_factory(app.state.engine)

    async def failing() -> None:
        async with writes() as session, session.begin():
            await session.execute(text(f"INSERT INTO {TABLE} (n) VALUES (1)"))
            raise RuntimeError("boom")

    async def bad_sql() -> None:
        async with writes() as session, session.begin():
            await session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    for broken in (failing, bad_sql):
        with pytest.raises(Exception):  # noqa: B017 - any failure, the point is what follows
            await broken()
    async with asyncio.timeout(5):  # the queue is free again: this would wait WRITER_WAIT seconds otherwise
        async with writes() as session, session.begin():
            await session.execute(text(f"INSERT INTO {TABLE} (n) VALUES (2)"))
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(text(f"SELECT n FROM {TABLE}"))).scalars().all() == [2]
    assert WRITER_WAIT >= 5


async def test_reads_do_not_wait_for_writers(app: Starlette) -> None:
    await _probe_table(app)
    writes = make_write_session_factory(app.state.engine)
    holding = asyncio.Event()
    release = asyncio.Event()

    async def long_writer() -> None:
        async with writes() as session, session.begin():
            await session.execute(text(f"INSERT INTO {TABLE} (n) VALUES (3)"))
            holding.set()
            await release.wait()

    task = asyncio.create_task(long_writer())
    await holding.wait()
    async with asyncio.timeout(5):
        async with app.state.engine.connect() as conn:
            assert (
                await conn.execute(text(f"SELECT count(*) FROM {TABLE}"))
            ).scalar_one() == 0  # uncommitted
    release.set()
    await task
