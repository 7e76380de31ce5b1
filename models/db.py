"""The database engine and session factory, and the id space of the deployment modes.

SQLite (the default) runs in WAL mode with foreign keys on; PostgreSQL goes through asyncpg. An engine belongs
to the event loop that created it, so the app builds one in its lifespan and disposes it on shutdown.

Id space: rows are created on several instances (the ministry's and provinces' own) and exchanged by the change
feed, so every instance numbers the rows of synced tables in a range of its own: node ``n`` (0 the ministry,
the 2-digit province code for a province instance; ``sync_node`` holds it) owns ``[n·2^40, (n+1)·2^40)``.
2^40 ids per node per table, and the largest id (99·2^40 ≈ 1.1·10^14) stays below 2^53, exact in JSON.

* PostgreSQL: ``claim_node`` bounds each table's id sequence to the node's range (MINVALUE/MAXVALUE) and moves
  it to the highest id of the range; rows applied from a peer carry explicit ids and never move the sequence.
* SQLite: its rowid would be ``max(rowid)+1`` — a peer's higher range once a page is applied. An engine
  listener gives every INSERT into a synced table without an ``id`` explicit ids instead: the highest id of the
  node's range plus one, read in the inserting transaction (one indexed read per INSERT statement; SQLite has
  one writer, so nothing can take the same ids before the commit). INSERT … SELECT and multi-row
  ``values([...])`` statements are not numbered this way: none touches a synced table. As with SQLite's own
  rowids, the id of a deleted highest row is handed out again; PostgreSQL never reuses one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Insert, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet
from sqlmodel import SQLModel

from models.change_log import is_synced, key_column
from models.fair_pool import FairAsyncPool

SessionFactory = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver stops emitting BEGIN itself; _sqlite_begin does


def _sqlite_begin(conn: Any) -> None:
    """``BEGIN IMMEDIATE`` for write sessions: the write lock is taken before the first read, so a transaction
    never reads a snapshot that another writer changes before it writes (SQLITE_BUSY_SNAPSHOT); writers queue
    first come, first served before it (``_WriterQueue``). Read sessions use a plain deferred BEGIN. Connections with ``sqlite_autocommit``
    (the loaders' reads, loaders/connect.py) none: each SELECT reads its own consistent snapshot, and a BEGIN
    would cost three more hand-offs to the driver's thread."""
    options = conn.get_execution_options()
    if options.get("sqlite_autocommit"):
        conn.connection.info[_NO_TRANSACTION] = True
        return
    conn.connection.info.pop(_NO_TRANSACTION, None)
    if options.get("sqlite_immediate"):
        _WRITERS.enter(conn.connection.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _WRITERS.leave(conn.connection.info)
            raise
    else:
        conn.exec_driver_sql("BEGIN")


class _WriterQueue:
    """SQLite has a single writer. Write transactions of this process queue here, first come first served,
    before ``BEGIN IMMEDIATE``, and leave on COMMIT or ROLLBACK. Without the queue they waited in SQLite's busy
    handler, which sleeps and retries: a newcomer often won over writers that had waited longest, so at 32
    concurrent sign-ups p95 was 5× p50 (bench/RESULTS.md). Other processes on the same file still meet
    ``busy_timeout``. Waiting longer than that (``WRITER_WAIT``) fails like a busy database does."""

    def __init__(self) -> None:
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def enter(self, info: dict[str, Any]) -> None:
        if info.get(_WRITING) or not in_greenlet():  # nested, or a synchronous connection (migrations)
            return
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            for stale in [other for other in self._locks if other.is_closed()]:
                del self._locks[stale]
            lock = self._locks[loop] = asyncio.Lock()
        try:
            await_(asyncio.wait_for(lock.acquire(), WRITER_WAIT))
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (waited for the writer queue)") from None
        info[_WRITING] = lock

    def leave(self, info: dict[str, Any]) -> None:
        lock = info.pop(_WRITING, None)
        if lock is not None and lock.locked():
            lock.release()


WRITER_WAIT = 30.0
"""Seconds a write transaction waits for its turn (the pragma ``busy_timeout`` is the same 30 s)."""
_WRITING = "zhiyuan_writer"
_WRITERS = _WriterQueue()


def _sqlite_commit(plain: Callable[[Any], None]) -> Callable[[Any], None]:
    """The dialect's commit, then the next writer's turn (after the COMMIT, not before it)."""

    def commit(dbapi_connection: Any) -> None:
        try:
            plain(dbapi_connection)
        finally:
            _WRITERS.leave(dbapi_connection.info)

    return commit


_NO_TRANSACTION = "zhiyuan_no_transaction"
"""Set on a pooled connection whose 'transaction' skipped BEGIN (``sqlite_autocommit``): SQLite holds none."""


def _sqlite_rollback(plain: Callable[[Any], None]) -> Callable[[Any], None]:
    """The dialect's rollback, skipped when no BEGIN was sent: nothing to roll back, and one hand-off to
    aiosqlite's thread less per loader batch."""

    def rollback(dbapi_connection: Any) -> None:
        try:
            info = dbapi_connection.info
        except (AttributeError, NotImplementedError):  # the first connect's record has no info
            info = None
        if info is not None and info.pop(_NO_TRANSACTION, False):
            return
        try:
            plain(dbapi_connection)
        finally:
            if info is not None:  # a pool reset rolls back without the engine's rollback event
                _WRITERS.leave(info)

    return rollback


NODE_BITS = 40
NODE_SPAN = 1 << NODE_BITS


def id_range(node: int) -> tuple[int, int]:
    """The ids node ``node`` hands out: ``low < id < high`` (id 0 is never used)."""
    return node * NODE_SPAN, (node + 1) * NODE_SPAN


def ranged_tables() -> frozenset[str]:
    """Synced tables numbered by an integer ``id``: their ids come from the node's range."""
    return frozenset(
        name
        for name, table in SQLModel.metadata.tables.items()
        if is_synced(name) and key_column(name) == "id"
    )


_NEXT_ID = (
    "SELECT zn.low, (SELECT zt.id FROM {table} zt WHERE zt.id > zn.low AND zt.id < zn.low + {span}"
    " ORDER BY zt.id DESC LIMIT 1) FROM (SELECT coalesce((SELECT node FROM sync_node WHERE id = 1), 0)"
    " * {span} AS low) zn"
)


def next_free_id(conn: Connection, table: str) -> int:
    """The first unused id of this node's range in ``table`` (SQLite and PostgreSQL alike)."""
    low, top = conn.exec_driver_sql(_NEXT_ID.format(table=table, span=NODE_SPAN)).one()
    return int(top if top is not None else low) + 1


def _sqlite_allocate_ids(
    conn: Connection, statement: Any, multiparams: list[dict[str, Any]], params: dict[str, Any], _options: Any
) -> tuple[Any, list[dict[str, Any]], dict[str, Any]]:
    if not isinstance(statement, Insert) or statement.table.name not in _RANGED:
        return statement, multiparams, params
    if statement._multi_values or statement.select is not None:
        return statement, multiparams, params
    inline: dict[Any, Any] = dict(statement._values or {})
    if any(getattr(k, "key", k) == "id" for k in inline):
        return statement, multiparams, params
    rows = multiparams or ([params] if params else [])
    if any(row.get("id") is not None for row in rows):
        return statement, multiparams, params
    first = next_free_id(conn, statement.table.name)
    if not rows:
        return statement.values(id=first), multiparams, params
    numbered = [{**row, "id": first + i} for i, row in enumerate(rows)]
    return (statement, numbered, {}) if multiparams else (statement, [], numbered[0])


_RANGED: frozenset[str] = frozenset()


SQLITE_POOL = (20, 20)
"""(pool size, overflow) on SQLite. A request's loaders check out a connection each, concurrently (the mobile
query holds two at once), and an overflow connection is closed when it is returned to a full pool: with
SQLAlchemy's default of 5, eight concurrent requests opened a new connection (a thread, the file, the
pragmas) for almost every other request and cost 12.6 instead of 7.0 ms of CPU each (bench/RESULTS.md).
An idle SQLite connection costs a parked thread and its page cache (at most 2 MB)."""
POSTGRES_POOL = (20, 10)
"""(pool size, overflow) per worker on PostgreSQL: workers × (size + overflow) must stay under the server's
``max_connections`` (docs/scale-out.md). The size is what matters, as on SQLite: with 10 (+20 overflow), eight
concurrent mobile requests (two loader connections each) kept connecting and closing overflow connections,
and a request cost 5.0 instead of 2.8 ms of server CPU (bench/RESULTS.md)."""


def make_engine(url: str, *, pool_size: int = 0, max_overflow: int = -1, **kwargs: Any) -> AsyncEngine:
    """The engine for ``url``; ``pool_size``/``max_overflow`` 0/-1 take the backend's defaults above
    (settings ``ZHIYUAN_DB_POOL_SIZE``/``ZHIYUAN_DB_MAX_OVERFLOW`` override them)."""
    global _RANGED
    sqlite = url.startswith("sqlite")
    default_size, default_overflow = SQLITE_POOL if sqlite else POSTGRES_POOL
    if ":memory:" not in url:  # an in-memory database has a single static connection
        kwargs.setdefault("poolclass", FairAsyncPool)  # waiters served first come, first served
        kwargs.setdefault("pool_size", pool_size or default_size)
        kwargs.setdefault("max_overflow", default_overflow if max_overflow < 0 else max_overflow)
    if sqlite:
        import models  # noqa: F401  (every table registered before the ranged set is taken)

        _RANGED = ranged_tables()
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        dialect: Any = engine.sync_engine.dialect
        dialect.do_rollback = _sqlite_rollback(dialect.do_rollback)
        dialect.do_commit = _sqlite_commit(dialect.do_commit)
        event.listen(engine.sync_engine, "before_execute", _sqlite_allocate_ids, retval=True)
        return engine
    ping_idle = kwargs.pop("ping_idle", PING_IDLE)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle(ping_idle))
        event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
        event.listen(engine.sync_engine.pool, "connect", _note_checkin)  # new: working, no test needed
    return engine


PING_IDLE = 5.0
"""Seconds a PostgreSQL connection may sit idle in the pool before its next checkout tests it (``ping_idle=`` of ``make_engine``; ``pool_pre_ping=True`` tests every checkout
instead). SQLAlchemy's
``pool_pre_ping`` tests every checkout, and asyncpg's test outside a transaction is three round trips (BEGIN,
an empty query, ROLLBACK): the mobile request checks out three connections (one per loader batch), so nine of
its twelve round trips were tests (bench/PERF-NOTES.md). A connection returned moments ago was working
moments ago; the ones that go stale — a server restart, an idle timeout in a proxy or firewall — are the
ones that sat. A connection broken while busy fails its statement, SQLAlchemy sees the disconnect and
invalidates the whole pool, so the next checkouts connect afresh."""
_CHECKED_IN = "zhiyuan_checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    """Pool ``checkin``/``connect`` listener: when the connection was last known to work."""
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(idle: float) -> Callable[[Any, Any, Any], None]:
    """A pool ``checkout`` listener: test a connection that was idle longer than ``idle`` seconds (or never
    checked in); a failed test raises ``DisconnectionError``, and the pool replaces the connection."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since <= idle:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError(f"connection failed its liveness test: {error}") from error

    return checkout


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for reads (and for writes on PostgreSQL, where row locks do the ordering)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_write_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for read-then-write transactions: ``BEGIN IMMEDIATE`` on SQLite, plain on PostgreSQL."""
    return async_sessionmaker(
        engine.execution_options(sqlite_immediate=True), expire_on_commit=False, autoflush=False
    )


class NodeMismatch(RuntimeError):
    """The database was claimed by another node: ``NODE_MISMATCH``."""


async def claim_node(engine: AsyncEngine, node: int, mode: str) -> None:
    """Record this database's node at start-up (refusing a database claimed by another node), and on
    PostgreSQL bound every synced table's id sequence to the node's range."""
    low, high = id_range(node)
    async with engine.begin() as conn:
        row = (await conn.execute(text("SELECT node, mode FROM sync_node WHERE id = 1"))).first()
        if row is None:
            await conn.execute(
                text("INSERT INTO sync_node (id, node, mode, prefix) VALUES (1, :node, :mode, :prefix)"),
                {"node": node, "mode": mode, "prefix": f"{node:02d}" if node else ""},
            )
        elif int(row[0]) != node:
            raise NodeMismatch(
                f"NODE_MISMATCH: this database belongs to {row[1]!r} (node {row[0]}), not {mode!r}: a database"
                " never changes deployment mode; start the instance with its own database"
            )
        if conn.dialect.name != "postgresql":
            return
        for table in sorted(ranged_tables()):
            sequence = (
                await conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
            ).scalar_one()
            if sequence is None:
                continue
            bounds = (
                await conn.execute(
                    text(
                        "SELECT min_value, max_value FROM pg_sequences WHERE schemaname || '.' || sequencename = :s"
                    ),
                    {"s": sequence},
                )
            ).one()
            if (int(bounds[0]), int(bounds[1])) == (max(low, 1), high - 1):
                continue
            start = await conn.run_sync(next_free_id, table)
            await conn.execute(
                text(
                    f"ALTER SEQUENCE {sequence} MINVALUE {max(low, 1)} MAXVALUE {high - 1}"
                    f" START {max(low, 1)} RESTART {start}"
                )
            )
