"""Reads for one loader batch on a short-lived pooled connection, from the request's read session factory.

Loaders only read, one statement per batch (ChildPages: one per group of page arguments): a plain connection
out of the engine's pool does what an ORM ``Session`` did, without the session's bookkeeping and identity map,
and without a transaction around a single SELECT — autocommit reads, each statement its own consistent
snapshot: on SQLite no ``BEGIN`` (models/db.py ``sqlite_autocommit``: three fewer hand-offs to aiosqlite's
thread per batch), on PostgreSQL the ``AUTOCOMMIT`` isolation level (no BEGIN/ROLLBACK round trips).

Checkout, statements, fetching and checkin run as one synchronous function in one greenlet (SQLAlchemy's
asyncio bridge): the ``AsyncConnection`` wrapper would switch greenlets three times per batch (connect,
execute, close), about 140,000 instructions a batch (bench/PERF-NOTES.md, fifth pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from models.db import SessionFactory

Query = tuple[Executable, dict[str, Any]]
"""A statement and its parameters."""

_readers: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def _reader(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with the autocommit-read options: the same pool, made once per engine."""
    reader = _readers.get(engine)
    if reader is None:
        options: dict[str, Any] = (
            {"sqlite_autocommit": True}
            if engine.dialect.name == "sqlite"
            else {"isolation_level": "AUTOCOMMIT"}
        )
        reader = _readers[engine] = engine.execution_options(**options)
    return reader


async def fetch_each(sessions: SessionFactory, queries: Sequence[Query]) -> list[Sequence[Row[Any]]]:
    """The rows of each query, in order, read on one pooled connection."""
    bind: Any = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    engine = _reader(bind).sync_engine

    def read() -> list[Sequence[Row[Any]]]:
        with engine.connect() as conn:
            return [conn.execute(statement, params).all() for statement, params in queries]

    return await greenlet_spawn(read)


async def fetch_all(
    sessions: SessionFactory, statement: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of one query, read on a pooled connection."""
    (rows,) = await fetch_each(sessions, ((statement, params),))
    return rows
