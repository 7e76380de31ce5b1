"""Bulk writing of generated rows (models/demo_data.py): tuples, not ORM objects or per-row dicts.

* SQLite: the generator's own ``sqlite3`` connection to the database file, used from one worker thread, so a
  chunk is written while the caller generates the next one (``sqlite3`` releases the GIL while SQLite works).
  For the load it sets ``synchronous=OFF``, ``journal_mode=MEMORY`` (when no other connection holds the file
  in WAL mode; WAL otherwise; idle connections of the engine's pool are closed first), ``foreign_keys=OFF`` (the generator keeps the references consistent; the test
  checks them), a 256 MiB page cache and in-memory temp store, and puts ``synchronous``/``journal_mode``
  back when it closes. Values are converted the way SQLAlchemy stores them on SQLite (timestamps as
  ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC, dates ISO, numerics as REAL, booleans 0/1, JSON text), so the app reads
  them exactly as rows it wrote itself. One ``executemany`` per table and chunk, one transaction per chunk.
* PostgreSQL: ``COPY`` through asyncpg's ``copy_records_to_table`` on the raw connection behind a SQLAlchemy
  connection, one transaction per chunk.

Secondary indexes of the tables named in ``defer_indexes`` are dropped when those tables are empty at the
start and built again at ``close`` (one sort per index instead of millions of random B-tree inserts; the
indexes behind PRIMARY KEY and UNIQUE constraints stay, so such duplicates still fail at once).

Columns a row does not give get their scalar Python default (``""``, ``False``...) or NULL; a row missing a
column that has neither is a bug in the generator and raises.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Numeric, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Row = dict[str, Any]
Convert = Callable[[Any], Any] | None

SQLITE_BULK_CACHE_KIB = 262_144


def _sqlite_datetime(value: datetime | None) -> str | None:
    # UTC-aware or naive UTC; SQLAlchemy's SQLite format, without the offset
    return None if value is None else value.isoformat(" ", "microseconds")[:26]


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_numeric(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _converter(column_type: Any, sqlite: bool) -> Convert:
    if isinstance(column_type, JSON):
        return _json
    if not sqlite:
        return None
    if isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl", None), DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return _sqlite_date
    if isinstance(column_type, Numeric):
        return _sqlite_numeric
    if isinstance(column_type, Boolean):
        return _sqlite_bool
    return None


class TableShape:
    """The column order, converters and fill-in defaults for one table's rows."""

    def __init__(self, table: Table, keys: Sequence[str], sqlite: bool) -> None:
        self.table = table
        given = set(keys)
        self.columns: list[str] = []
        self.steps: list[tuple[str | None, Any, Convert]] = []  # (row key, or None and a constant; converter)
        for column in table.columns:
            convert = _converter(column.type, sqlite)
            if column.key in given:
                self.steps.append((column.key, None, convert))
            elif column.default is not None and column.default.is_scalar:
                value = column.default.arg  # type: ignore[attr-defined]
                self.steps.append((None, convert(value) if convert else value, None))
            elif column.nullable or column.server_default is not None or column.primary_key:
                continue  # NULL, the server default, or (never here) an assigned key
            else:
                raise ValueError(f"generated {table.name} rows lack {column.key}, which has no default")
            self.columns.append(column.key)

        self.tuples = self._compile()

    def _compile(self) -> Callable[[list[Row]], list[tuple[Any, ...]]]:
        """``rows -> tuples`` as one generated comprehension (about three times faster than a loop over
        the steps); names only column keys of the table, constants and converters bound by position."""
        scope: dict[str, Any] = {}
        parts = []
        for index, (key, constant, convert) in enumerate(self.steps):
            if key is None:
                scope[f"k{index}"] = constant
                parts.append(f"k{index}")
            elif convert is None:
                parts.append(f"r[{key!r}]")
            else:
                scope[f"c{index}"] = convert
                parts.append(f"c{index}(r[{key!r}])")
        source = f"lambda rows: [({', '.join(parts)},) for r in rows]"
        function: Callable[[list[Row]], list[tuple[Any, ...]]] = eval(source, scope)
        return function


class BulkWriter:
    """Writes chunks of rows (table name → rows, in the order given) in one transaction each.

    ``write`` returns once the chunk is prepared; on SQLite the insert then runs in the worker thread while
    the caller goes on, and the next ``write`` (or ``close``) waits for it first.
    """

    def __init__(
        self, engine: AsyncEngine, tables: dict[str, Table], defer_indexes: Sequence[str] = ()
    ) -> None:
        self.engine, self.tables = engine, tables
        self.defer_indexes = tuple(defer_indexes)
        self.dropped: list[str] = []
        """``CREATE INDEX`` statements of the secondary indexes dropped for the load, re-run at ``close``."""
        self.index_seconds = 0.0
        self.sqlite = engine.dialect.name == "sqlite"
        self.shapes: dict[str, TableShape] = {}
        self.settings: dict[str, str] = {}
        self.journal_mode = ""
        self._db: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self._conn: AsyncConnection | None = None
        self._raw: Any = None

    def shape(self, name: str, rows: list[Row]) -> TableShape:
        if name not in self.shapes:
            self.shapes[name] = TableShape(self.tables[name], list(rows[0]), self.sqlite)
        return self.shapes[name]

    async def open(self) -> None:
        if self.sqlite:
            path = self.engine.url.database
            if not path or path == ":memory:":
                raise ValueError("bulk loading needs a SQLite database file")
            await self.engine.dispose()  # idle pooled connections would keep the file in WAL mode
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="bulk-sqlite")
            await asyncio.wrap_future(self._pool.submit(self._open_sqlite, path))
        else:
            self._conn = await self.engine.connect()
            self._raw = (await self._conn.get_raw_connection()).driver_connection
            await self._drop_pg_indexes()

    async def _drop_pg_indexes(self) -> None:
        raw = self._raw
        for name in self.defer_indexes:
            if await raw.fetchval(f"SELECT EXISTS (SELECT 1 FROM {name})"):
                continue
            rows = await raw.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = $1 AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                name,
            )
            for index, definition in rows:
                await raw.execute(f'DROP INDEX "{index}"')
                self.dropped.append(str(definition))

    def _open_sqlite(self, path: str) -> None:
        db = sqlite3.connect(path, isolation_level=None, timeout=60)
        self._db = db
        for name in ("synchronous", "journal_mode"):
            self.settings[name] = str(db.execute(f"PRAGMA {name}").fetchone()[0])
        db.execute("PRAGMA synchronous=OFF")
        try:
            self.journal_mode = str(db.execute("PRAGMA journal_mode=MEMORY").fetchone()[0])
        except sqlite3.OperationalError:  # another connection has the file open in WAL mode: keep WAL
            self.journal_mode = self.settings["journal_mode"]
        db.execute("PRAGMA foreign_keys=OFF")
        db.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        db.execute("PRAGMA temp_store=MEMORY")
        for name in self.defer_indexes:
            if db.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone():
                continue  # only empty tables lose their indexes for the load
            rows = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (name,),
            ).fetchall()
            for index, definition in rows:
                db.execute(f'DROP INDEX "{index}"')
                self.dropped.append(str(definition))

    def _insert_sqlite(self, batches: list[tuple[str, list[str], list[tuple[Any, ...]]]]) -> None:
        db = self._db
        assert db is not None
        db.execute("BEGIN")
        try:
            for name, columns, tuples in batches:
                marks = ", ".join("?" * len(columns))
                db.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", tuples)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def write(self, buffers: dict[str, list[Row]], order: Sequence[str]) -> None:
        await self.wait()
        batches = []
        for name in order:
            if rows := buffers.get(name):
                shape = self.shape(name, rows)
                batches.append((name, shape.columns, shape.tuples(rows)))
        if self.sqlite:
            assert self._pool is not None
            self._pending = self._pool.submit(self._insert_sqlite, batches)
            return
        raw = self._raw
        async with raw.transaction():
            for name, columns, tuples in batches:
                await raw.copy_records_to_table(name, records=tuples, columns=columns)

    async def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await asyncio.wrap_future(pending)

    def _close_sqlite(self) -> None:
        db = self._db
        if db is None:
            return
        try:
            started = time.perf_counter()
            for definition in self.dropped:
                db.execute(definition)
            self.index_seconds = time.perf_counter() - started
            db.execute(f"PRAGMA journal_mode={self.settings.get('journal_mode', 'wal')}")
            db.execute(f"PRAGMA synchronous={self.settings.get('synchronous', '1')}")
            db.execute("PRAGMA optimize")
        finally:
            db.close()
            self._db = None

    async def close(self) -> None:
        try:
            await self.wait()
        finally:
            if self._pool is not None:
                await asyncio.wrap_future(self._pool.submit(self._close_sqlite))
                self._pool.shutdown()
                self._pool = None
            if self._conn is not None:
                started = time.perf_counter()
                for definition in self.dropped:
                    await self._raw.execute(definition)
                for name in dict.fromkeys(
                    self.tables
                ):  # fresh statistics, or the next query plans for empty tables
                    await self._raw.execute(f"ANALYZE {name}")
                self.index_seconds = time.perf_counter() - started
                await self._conn.close()
                self._conn = None
