"""The pool serves waiting requests first come, first served (models/fair_pool.py): a newcomer never takes a
returned connection ahead of them, a waiter that gave up (timeout, cancellation) is skipped, and no
connection is lost on the way."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text

from models.db import make_engine
from models.fair_pool import FairAsyncPool


def _engine(tmp_path: Path, **kwargs: Any) -> Any:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, **kwargs)
    assert isinstance(engine.sync_engine.pool, FairAsyncPool)
    return engine


async def test_waiters_get_the_connection_in_the_order_they_asked(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    served: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as conn:
            served.append(name)
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)

    try:
        held = await engine.connect().start()
        await held.execute(text("SELECT 1"))
        waiters = []
        for name in ("first", "second", "third"):
            waiters.append(asyncio.create_task(use(name)))
            await asyncio.sleep(0.02)  # each is waiting before the next asks
        await held.close()
        await use("newcomer")  # asks in the same step that gave the connection back, before any waiter ran
        await asyncio.gather(*waiters)
        assert served == ["first", "second", "third", "newcomer"]
        assert engine.sync_engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_waiter_that_timed_out_or_was_cancelled_is_skipped(tmp_path: Path) -> None:
    engine = _engine(tmp_path, pool_timeout=0.1)
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(exc.TimeoutError):
                async with engine.connect():
                    pass
            cancelled = asyncio.create_task(engine.connect().start())
            await asyncio.sleep(0.02)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            patient = asyncio.create_task(engine.connect().start())
            await asyncio.sleep(0.02)
        conn = await asyncio.wait_for(patient, 1)  # the returned connection went past both to this one
        await conn.execute(text("SELECT 1"))
        await conn.close()
        assert engine.sync_engine.pool.checkedout() == 0
    finally:
        await engine.dispose()
