"""A short-lived Core connection for one loader batch, from the request's read session factory.

Loaders only read, one statement per batch (ChildPages: one per group of page arguments): a plain connection
out of the engine's pool does what an ORM ``Session`` did, without the session's bookkeeping and identity map,
and without a transaction around a single SELECT — autocommit reads, each statement its own consistent
snapshot: on SQLite no ``BEGIN`` (models/db.py ``sqlite_autocommit``: three fewer hand-offs to aiosqlite's
thread per batch), on PostgreSQL the ``AUTOCOMMIT`` isolation level (no BEGIN/ROLLBACK round trips).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.db import SessionFactory

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


def connect(sessions: SessionFactory) -> AsyncConnection:
    """``async with connect(sessions) as conn:`` — a pooled connection for one batch of reads."""
    bind: Any = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return _reader(bind).connect()
