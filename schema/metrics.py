"""Prometheus metrics, one registry per app: HTTP requests, GraphQL operations and errors, SQL per operation.

* ``Metrics`` holds the app's own ``CollectorRegistry`` (two apps in one process — the tests — never collide)
  and its instruments; ``render`` is the body of ``/metrics``.
* ``HttpMetrics`` (ASGI middleware) counts and times every request by method, route template (never the raw
  path: unknown paths are ``unmatched``, so scanners cannot grow the label set) and status, and makes the
  app's ``Metrics`` the current one for the schema extension.
* ``counting_statements`` and ``record_operation`` (run by schema/operation_hooks.py around each operation,
  after the errors have their codes) count operations by type and errors by ``extensions.code``, and observe
  how many SQL statements the operation sent:
  ``count_statement`` listens on the engine (``Metrics.watch``) and adds to the operation's counter, kept in a
  context variable — DataLoader batches run in tasks that copy the context, so their SQL counts too.

Refusals made before the schema runs (413 and 429 by the admission middleware, persisted-query refusals and
TIMEOUT in the HTTP view) are not in ``graphql_errors_total``; the first two show in ``http_requests_total``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types import ExecutionContext

CONTENT_TYPE = CONTENT_TYPE_LATEST
_TRANSACTION_CONTROL = frozenset({"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"})
"""Not counted: SQLite's explicit BEGIN (models/db.py) would make the counts differ between databases."""

_current: ContextVar[Metrics | None] = ContextVar("zhiyuan_metrics", default=None)
_statements: ContextVar[list[int] | None] = ContextVar("zhiyuan_sql_statements", default=None)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[Counter | Histogram, tuple[str, ...]], Any] = {}
        self.requests = Counter(
            "zhiyuan_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "zhiyuan_http_request_seconds",
            "Time to answer an HTTP request.",
            ["method", "path"],
            registry=self.registry,
        )
        self.operations = Counter(
            "zhiyuan_graphql_operations",
            "GraphQL operations by type (unknown: the document did not parse or name one).",
            ["operation_type"],
            registry=self.registry,
        )
        self.errors = Counter(
            "zhiyuan_graphql_errors",
            "GraphQL errors by extensions.code.",
            ["code"],
            registry=self.registry,
        )
        self.sql_statements = Histogram(
            "zhiyuan_sql_statements_per_operation",
            "SQL statements one GraphQL operation sent (transaction control excluded).",
            buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 200, 500),
            registry=self.registry,
        )

    def child(self, metric: Counter | Histogram, *values: str) -> Any:
        """``metric.labels(*values)``, looked up once per label set (the label sets are few: methods, route
        templates, statuses, operation types, error codes), without prometheus_client's lock and checks."""
        key = (metric, values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)

    @staticmethod
    def watch(engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", count_statement)


def count_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    counter = _statements.get()
    if counter is not None and statement.strip().upper() not in _TRANSACTION_CONTROL:
        counter[0] += 1


class HttpMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set(self.metrics)
        started, status = time.perf_counter(), 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = str(scope.get("method", ""))
            path = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.child(self.metrics.requests, method, path, str(status)).inc()
            self.metrics.child(self.metrics.request_seconds, method, path).observe(
                time.perf_counter() - started
            )
            _current.reset(token)


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    """A counter of the SQL statements sent inside the block (``count_statement`` adds to it)."""
    counter = [0]
    token = _statements.set(counter)
    try:
        yield counter
    finally:
        _statements.reset(token)


def record_operation(ctx: ExecutionContext, statements: int) -> None:
    """The operation by type, its statements, and its errors by ``extensions.code`` (final codes)."""
    metrics = _current.get()
    if metrics is None:
        return
    try:
        kind = ctx.operation_type.value
    except Exception:  # the document did not parse, or names no runnable operation
        kind = "unknown"
    metrics.child(metrics.operations, kind).inc()
    metrics.sql_statements.observe(statements)
    for error in getattr(ctx.result, "errors", None) or []:
        metrics.child(metrics.errors, str((error.extensions or {}).get("code", "UNCODED"))).inc()
