"""Reads for one loader batch on a short-lived pooled connection, from the request's read session factory.

Loaders only read, one statement per batch (ChildPages: one per group of page arguments): a plain connection
out of the engine's pool does what an ORM ``Session`` did, without the session's bookkeeping and identity map,
and without a transaction around a single SELECT — autocommit reads, each statement its own consistent
snapshot: on SQLite no ``BEGIN`` (models/db.py ``sqlite_autocommit``: three fewer hand-offs to aiosqlite's
thread per batch), on PostgreSQL the ``AUTOCOMMIT`` isolation level (no BEGIN/ROLLBACK round trips).

Checkout, statements, fetching and checkin run as one synchronous function in one greenlet (SQLAlchemy's
asyncio bridge): the ``AsyncConnection`` wrapper would switch greenlets three times per batch (connect,
execute, close), about 140,000 instructions a batch (bench/PERF-NOTES.md, fifth pass).

Within a GraphQL operation (``hold_reads``, started by schema/operation_hooks.py) a batch that finishes parks its
connection for the request's next batch instead of returning it to the pool; the operation returns it when it
ends, whatever the outcome. A request's loader levels run one after another, so a request checks out one
connection instead of one per level, as a hand-written handler would (bench/PERF-NOTES.md, seventh pass).

A connection is parked only by the operation's last running batch. Batches that run at the same time take
their own connections, and one that ends while another of its operation is still running — or waiting for the
pool — returns its connection: an operation never keeps an idle connection while it waits for another, so
under a full pool requests cannot hold parked connections and wait for each other's (the unbatched benchmark
variant, fifty loads at once per request, deadlocked on exactly that until the pool timed out).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Executable, Row
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


class HeldReads:
    """The read connection an operation keeps between its loader batches (at most one, while it is open)."""

    __slots__ = ("busy", "idle", "open", "token")

    def __init__(self) -> None:
        self.idle: Connection | None = None
        self.open = True
        self.busy = 0
        """Batches of the operation reading or waiting for a connection."""
        self.token: Token[HeldReads | None] | None = None

    def take(self, engine: Engine) -> Connection | None:
        """The parked connection if it reads from ``engine``, no longer parked."""
        conn = self.idle
        if conn is None or conn.engine is not engine:
            return None
        self.idle = None
        return conn

    def park(self, conn: Connection) -> bool:
        """Keep ``conn`` for the next batch; False (the caller returns it to the pool) when the operation ended,
        one is parked already, or another batch of the operation is running or waiting for a connection."""
        if not self.open or self.idle is not None or self.busy > 1:
            return False
        self.idle = conn
        return True


_held: ContextVar[HeldReads | None] = ContextVar("zhiyuan_held_reads", default=None)


def hold_reads() -> HeldReads:
    """Start keeping read connections between batches in this context (and the tasks it starts)."""
    held = HeldReads()
    held.token = _held.set(held)
    return held


async def release_reads(held: HeldReads) -> None:
    """Stop keeping: the parked connection back to the pool, later batches close their own."""
    held.open = False
    if held.token is not None:
        _held.reset(held.token)
        held.token = None
    conn, held.idle = held.idle, None
    if conn is not None:
        await greenlet_spawn(conn.close)


async def fetch_each(sessions: SessionFactory, queries: Sequence[Query]) -> list[Sequence[Row[Any]]]:
    """The rows of each query, in order, read on one pooled connection (the operation's parked one, if any)."""
    bind: Any = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    engine = _reader(bind).sync_engine
    held = _held.get()

    def read() -> list[Sequence[Row[Any]]]:
        conn = (held.take(engine) if held is not None else None) or engine.connect()
        try:
            rows = [conn.execute(statement, params).all() for statement, params in queries]
        except BaseException:
            conn.close()
            raise
        if held is None or not held.park(conn):
            conn.close()
        return rows

    if held is None:
        return await greenlet_spawn(read)
    held.busy += 1
    try:
        return await greenlet_spawn(read)
    finally:
        held.busy -= 1


async def fetch_all(
    sessions: SessionFactory, statement: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of one query, read on a pooled connection."""
    (rows,) = await fetch_each(sessions, ((statement, params),))
    return rows
