"""An operation's loader batches share one pooled connection (loaders/connect.py ``HeldReads``): a request
with several list levels checks out one connection, and returns it when the operation ends — answered, failed
or refused alike — so the pool ends every request as it started."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, literal, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette

from loaders.connect import fetch_all, hold_reads, release_reads
from models.db import make_engine
from tests.conftest import Api

MOBILE = """{ viewer { volunteer { name totalHours
  serviceRecords(first: 5, orderBy: [{field: SERVICE_DATE, direction: DESC}]) {
    nodes { hours project { name team { name } } } } } } }"""
"""Four levels read one after another: the volunteer, the records, their projects, the teams."""


@contextmanager
def pool_traffic(app: Starlette) -> Iterator[dict[str, int]]:
    """Checkouts and checkins of the app's pool inside the block."""
    pool = app.state.engine.sync_engine.pool
    seen = {"checkout": 0, "checkin": 0}

    def checkout(*_: Any) -> None:
        seen["checkout"] += 1

    def checkin(*_: Any) -> None:
        seen["checkin"] += 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)


async def test_sequential_levels_read_on_one_connection(
    app: Starlette, api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    client = api.as_(tokens["demo_volunteer"])
    await client.data(MOBILE)  # warm: the viewer's templates built
    with pool_traffic(app) as seen, count_sql() as log:
        data = await client.data(MOBILE)
    records = data["viewer"]["volunteer"]["serviceRecords"]["nodes"]
    assert records and all(r["project"]["team"]["name"] for r in records)
    assert len(log) >= 4, log.report()
    assert seen == {"checkout": 1, "checkin": 1}, (seen, log.report())


async def test_the_connection_goes_back_when_a_resolver_fails(
    app: Starlette, api: Api, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The teams' batch fails after the levels before it parked their connection."""
    from loaders import rows_by_key

    fetch_all = rows_by_key.fetch_all

    async def failing(sessions: Any, statement: Any, params: dict[str, Any]) -> Any:
        if "FROM team" in str(statement):
            raise RuntimeError("the teams could not be read")
        return await fetch_all(sessions, statement, params)

    monkeypatch.setattr(rows_by_key, "fetch_all", failing)
    client = api.as_(tokens["demo_volunteer"])
    with pool_traffic(app) as seen:
        body = await client.gql(MOBILE)
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR", body
    assert body["data"]["viewer"]["volunteer"]["serviceRecords"]["nodes"][0]["project"]["team"] is None
    assert seen["checkout"] == seen["checkin"] >= 1, seen


async def test_refused_and_unparsable_operations_hold_nothing(app: Starlette, api: Api) -> None:
    with pool_traffic(app) as seen:
        refused = await api.gql("{ volunteers(first: 1) { nodes { name } } }")  # no viewer
        broken = await api.gql("{ viewer { ")
    assert refused["errors"] and broken["errors"]
    assert seen["checkout"] == seen["checkin"], seen


async def test_concurrent_batches_take_their_own_connections(
    app: Starlette, api: Api, tokens: dict[str, str]
) -> None:
    """Two root lists in one query run their first batches at once: each its own connection, one parked."""
    query = """{ a: teams(first: 2) { nodes { name region { name } } }
                 b: projects(first: 2) { nodes { name team { name } } } }"""
    client = api.as_(tokens["demo_ministry"])
    await client.data(query)
    with pool_traffic(app) as seen:
        data = await client.data(query)
    assert data["a"]["nodes"] and data["b"]["nodes"]
    assert seen["checkout"] == seen["checkin"] >= 1, seen


async def test_no_operation_keeps_an_idle_connection_while_its_batches_wait(app: Starlette) -> None:
    """Two operations, each with three batches at once, on a pool of one connection: a batch that ends while
    others of its operation wait returns the connection instead of parking it, so all of them get their turn
    (parking it deadlocked until the pool timed out)."""
    url = app.state.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=5)
    sessions = async_sessionmaker(engine)

    async def operation(tag: int) -> list[int]:
        held = hold_reads()
        try:
            results = await asyncio.gather(
                *(fetch_all(sessions, select(literal(tag * 10 + i)), {}) for i in range(3))
            )
            return [rows[0][0] for rows in results]
        finally:
            await release_reads(held)

    try:
        answers = await asyncio.wait_for(asyncio.gather(operation(1), operation(2)), 30)
        assert answers == [[10, 11, 12], [20, 21, 22]]
        assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
