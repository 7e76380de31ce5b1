"""The server the benchmark starts: ``server.create_app`` plus bench-only instrumentation, served by uvicorn.

Run as ``python bench/server_variant.py`` with the usual PORT/HOST/DATABASE_URL/ZHIYUAN_VAR_DIR environment and:

* ``BENCH_NO_BATCH=1`` — baseline (b): strawberry's ``DataLoader`` is patched to ``max_batch_size=1`` before
  the app is imported, so every ``load()`` becomes its own statement (the loaders' caches still dedupe keys);
* ``BENCH_NO_FREEZE=1`` — the soak's baseline: start-up's heap is not frozen (server.freeze_startup_heap);
* ``BENCH_SQL_DEBUG=1`` — also print every statement of each request to stderr (to write the floor's SQL);
* ``BENCH_TRACEMALLOC=1`` — trace allocations; ``GET /bench/memory`` takes a baseline snapshot, later calls list
  the source lines whose live memory grew most since (the soak's growth, located).

Always added: a ``before_cursor_execute`` listener counting statements per request (a context variable set by a
pure-ASGI middleware, which the DataLoader tasks and SQLAlchemy's greenlets inherit), reported in the
``x-sql-count`` response header; and ``POST /floor/mobile`` — baseline (a), the floor: hand-written SQL for
the mobile operation's data, the same JSON, serialized with orjson, behind the same middleware (auth, rate
limit) but without GraphQL. Transaction control (BEGIN/COMMIT/ROLLBACK) is not counted, as in
tests/conftest.py ``count_sql``.
"""

from __future__ import annotations

import contextvars
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if os.environ.get("BENCH_NO_BATCH") == "1":
    from strawberry import dataloader as _dataloader

    _original_init = _dataloader.DataLoader.__init__

    def _unbatched_init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["max_batch_size"] = 1
        _original_init(self, *args, **kwargs)

    _dataloader.DataLoader.__init__ = _unbatched_init  # type: ignore[method-assign]

import orjson  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from server import create_app  # noqa: E402
from settings import get_settings  # noqa: E402

TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}
DEBUG = os.environ.get("BENCH_SQL_DEBUG") == "1"
_statements: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("bench_sql", default=None)


@event.listens_for(Engine, "before_cursor_execute")
def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    log = _statements.get()
    if log is not None and statement.strip().upper() not in TRANSACTION_CONTROL:
        log.append(statement)


class SqlCount:
    """Pure ASGI (no BaseHTTPMiddleware task hop): a fresh statement list per request, its length in a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        log: list[str] = []
        token = _statements.set(log)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-sql-count", str(len(log)).encode())]
                if DEBUG:
                    print(f"--- {scope['path']}: {len(log)} statements", file=sys.stderr)
                    for s in log:
                        print("   ", " ".join(s.split()), file=sys.stderr)
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            _statements.reset(token)


# --- baseline (a): the floor for the mobile operation ------------------------------------------------------

FLOOR_PROFILE = text(
    "SELECT v.volunteer_number, v.name, v.sex, v.real_name_status, t.hours, t.n FROM volunteer v"
    " LEFT JOIN rollup_volunteer_hours t ON t.volunteer_id = v.id WHERE v.id = :id"
)
"""The profile with its confirmed-hours totals from the rollup the triggers keep (the service's own source),
in one statement, as the service reads a volunteer by key."""
FLOOR_RECORDS = text(
    "SELECT id, service_date, hours, status, content FROM service_record WHERE volunteer_id = :id"
    " ORDER BY service_date DESC, id LIMIT 20"  # the service breaks ties by id, ascending
)


def _star(hours: Decimal, thresholds: tuple[int, ...]) -> tuple[int, Decimal | None]:
    level = sum(1 for t in thresholds if hours >= t)
    return level, (None if level >= len(thresholds) else Decimal(sorted(thresholds)[level]) - hours)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


async def floor_mobile(request: Request) -> Response:
    viewer = request.user.viewer
    vid = viewer.volunteer_id
    thresholds = get_settings().star_thresholds
    async with request.app.state.engine.connect() as conn:
        profile = (await conn.execute(FLOOR_PROFILE, {"id": vid})).one()
        hours, count = profile.hours, profile.n
        records = (await conn.execute(FLOOR_RECORDS, {"id": vid})).all()
    total = Decimal(hours or 0).quantize(Decimal("0.01"))
    level, missing = _star(total, thresholds)
    body = {
        "data": {
            "viewer": {
                "volunteer": {
                    "volunteerNumber": profile.volunteer_number,
                    "name": profile.name,
                    "sex": profile.sex,
                    "realNameStatus": profile.real_name_status,
                    "totalHours": _dec(total),
                    "recordCount": int(count or 0),
                    "starLevel": level,
                    "hoursToNextStar": _dec(missing),
                    "serviceRecords": {
                        "nodes": [
                            {
                                "serviceDate": str(r.service_date),
                                "hours": _dec(r.hours),
                                "status": r.status,
                                "content": r.content,
                            }
                            for r in records
                        ]
                    },
                }
            }
        }
    }
    return Response(orjson.dumps(body), media_type="application/json")


# --- memory diagnosis: BENCH_TRACEMALLOC=1 ------------------------------------------------------------------

_baseline: list[Any] = []


async def memory_diff(_request: Request) -> Response:
    """First call: take a tracemalloc snapshot; later calls: the 25 source lines whose allocations grew most
    since (size and count of live blocks), as text. A full garbage collection runs before each snapshot."""
    import gc
    import tracemalloc

    collected = gc.collect()  # cyclic garbage not yet collected is not a leak
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        ]
    )
    if not _baseline:
        _baseline.append(snapshot)
        return Response(f"baseline taken ({collected} objects collected first)\n", media_type="text/plain")
    stats = snapshot.compare_to(_baseline[0], "lineno")[:25]
    head = f"{collected} objects collected first\n"
    return Response(head + "\n".join(str(stat) for stat in stats) + "\n", media_type="text/plain")


def _sqlite_library() -> Any:
    """The SQLite library the ``sqlite3`` module is linked against (its memory counters are process-wide)."""
    import _sqlite3
    import ctypes

    library = ctypes.CDLL(_sqlite3.__file__)
    library.sqlite3_memory_used.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    return library


async def sqlite_memory(request: Request) -> Response:
    """Bytes SQLite itself holds now (page caches of every connection, statements, schema) and at most: the
    part of the server's RSS that is the database engine's, not Python's."""
    library = _sqlite_library()
    used, highwater = library.sqlite3_memory_used(), library.sqlite3_memory_highwater(0)
    return Response(orjson.dumps({"used": used, "highwater": highwater}), media_type="application/json")


def build() -> ASGIApp:
    if os.environ.get("BENCH_NO_FREEZE") == "1":
        import server

        server.freeze_startup_heap = lambda: None
    app = create_app(migrate=False)
    app.router.routes.insert(0, Route("/floor/mobile", floor_mobile, methods=["POST"]))
    app.router.routes.insert(0, Route("/bench/sqlite-memory", sqlite_memory, methods=["GET"]))
    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        import tracemalloc

        tracemalloc.start(4)
        app.router.routes.insert(0, Route("/bench/memory", memory_diff, methods=["GET"]))
    return SqlCount(app)


def main() -> None:
    import logging

    import uvicorn

    settings = get_settings()
    logging.basicConfig(level="WARNING")
    uvicorn.run(
        build(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8765")),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    del settings


if __name__ == "__main__":
    main()
