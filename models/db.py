"""The database engine and session factory.

SQLite (the default) runs in WAL mode with foreign keys on; PostgreSQL goes through asyncpg. An engine belongs
to the event loop that created it, so the app builds one in its lifespan and disposes it on shutdown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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
    on busy_timeout instead. Read sessions use a plain deferred BEGIN."""
    conn.exec_driver_sql(
        "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN"
    )


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for reads (and for writes on PostgreSQL, where row locks do the ordering)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_write_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for read-then-write transactions: ``BEGIN IMMEDIATE`` on SQLite, plain on PostgreSQL."""
    return async_sessionmaker(
        engine.execution_options(sqlite_immediate=True), expire_on_commit=False, autoflush=False
    )
