"""The change feed on one instance (the session's, in national mode): every synced table is captured by
triggers in the writer's transaction, the feed is served to peer service accounts only and scoped to the
peer's province, deleted rows come back as tombstones, rows that came from a peer are not echoed back to it,
ids stay in the node's range after foreign ids arrive, and on PostgreSQL a late commit is never skipped.
The two-instance proof is tests/test_sync.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlmodel import SQLModel
from starlette.applications import Starlette

import models as m
from models.change_log import LOCAL_TABLES, is_synced, region_sql
from models.db import NODE_SPAN
from models.enums import Role
from resolvers.changes import START, PeerScope, format_position, read_page
from resolvers.peers import create_peer_account
from settings import SettingsError, load_settings, parse_deployment_mode
from tests.conftest import Api, login
from tests.database import is_postgres
from tests.registration_helpers import register, volunteer_input

PASSWORD = "Peer#Feed2026"
FEED = """query($since: String!, $first: Int!) {
  changes(since: $since, first: $first) { node cursor hasMore pending changes { table key regionCode row } } }"""
SHANDONG = PeerScope(37, "37")


@pytest.fixture(scope="module")
async def peers(app: Starlette, api: Api) -> AsyncIterator[dict[str, str]]:
    """Tokens of a Shandong peer account and of a peer account without province (wrong on the ministry's side)."""
    services = app.state.services
    await create_peer_account(services.settings, services.writes, "feed_peer_sd", PASSWORD, "37")
    ids = []
    async with services.writes() as session, session.begin():  # a region-less PEER grant: misconfigured here
        account = m.Account(username="feed_peer_none", password_hash=services.passwords.hash(PASSWORD))
        session.add(account)
        await session.flush()
        assert account.id is not None
        ids.append(account.id)
        session.add(m.RoleGrant(account_id=account.id, role=Role.PEER))
    yield {
        "sd": await login(api, "feed_peer_sd", PASSWORD),
        "none": await login(api, "feed_peer_none", PASSWORD),
    }


async def _triggers(app: Starlette) -> set[str]:
    async with app.state.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = await conn.execute(
                text("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'change_log_%'")
            )
        else:
            rows = await conn.execute(
                text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'change_log_%'")
            )
        return set(rows.scalars())


async def test_every_table_is_captured_or_listed_as_instance_local(app: Starlette) -> None:
    triggered = await _triggers(app)
    for name, table in SQLModel.metadata.tables.items():
        if is_synced(name):
            assert name in triggered, (
                f"{name}: synced but without change-log triggers (install them in its migration)"
            )
            assert region_sql(name, {c.name for c in table.columns}, "src"), f"{name}: no region rule"
        else:
            assert name in LOCAL_TABLES or name.startswith("rollup_")
            assert name not in triggered, f"{name}: instance-local but logged"


async def test_the_feed_is_for_peer_service_accounts_of_the_right_scope(
    api: Api, tokens: dict[str, str], peers: dict[str, str]
) -> None:
    for who, code in (
        (None, "UNAUTHENTICATED"),
        (tokens["demo_ministry"], "FORBIDDEN"),
        (peers["none"], "FORBIDDEN"),
    ):
        body = await api.as_(who).gql(FEED, {"since": "", "first": 10})
        assert body["errors"][0]["extensions"]["code"] == code
    bad = await api.as_(peers["sd"]).gql(FEED, {"since": "x", "first": 10})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    page = (await api.as_(peers["sd"]).data(FEED, {"since": "", "first": 200}))["changes"]
    assert page["node"] == 0 and page["hasMore"] and page["pending"] > 200
    assert len(page["changes"]) > 0
    assert all(c["regionCode"].startswith("37") for c in page["changes"])
    assert len({(c["table"], c["key"]) for c in page["changes"]}) == len(page["changes"])
    accounts = [c["row"] for c in page["changes"] if c["table"] == "account"]
    assert accounts and all(a["username"] != "demo_ministry" for a in accounts)


async def test_the_peer_of_a_province_without_rows_reads_an_empty_feed(app: Starlette, api: Api) -> None:
    services = app.state.services
    await create_peer_account(services.settings, services.writes, "feed_peer_xj", PASSWORD, "65")
    page = await api.as_(await login(api, "feed_peer_xj", PASSWORD)).data(FEED, {"since": "", "first": 100})
    assert page["changes"] == {"node": 0, "cursor": "0.0", "hasMore": False, "pending": 0, "changes": []}


async def _entries_after(app: Starlette, since: tuple[int, int]) -> list[Any]:
    async with app.state.services.sessions() as session:
        return (await read_page(session, 0, SHANDONG, since, 1000)).changes


async def _position(app: Starlette) -> tuple[int, int]:
    async with app.state.engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT xid, seq FROM change_log ORDER BY xid DESC, seq DESC LIMIT 1"))
        ).one()
        return int(row[0]), int(row[1])


async def test_writes_are_logged_in_their_own_transaction(api: Api, app: Starlette) -> None:
    before = await _position(app)
    new = volunteer_input(regionCode="370102000000")
    body = await register(api, **new)
    assert "errors" not in body
    logged = {
        (c.table, c.row["username"] if c.table == "account" else c.row.get("volunteer_number"))
        for c in await _entries_after(app, before)
        if c.row
    }
    assert ("account", new["username"]) in logged
    assert ("volunteer", body["data"]["registerVolunteer"]["volunteerNumber"]) in logged
    again = await register(api, **{**new, "username": new["username"] + "x"})  # same ID number: refused
    assert "errors" in again
    after = await _position(app)
    assert [c for c in await _entries_after(app, after)] == []


async def test_deleted_rows_come_back_as_tombstones_and_echoes_are_left_out(app: Starlette) -> None:
    sessions = app.state.services.writes
    async with sessions() as session, session.begin():
        mine = m.AuditEvent(action="FEED_TEST", subject_type="Test", region_code="370102000000")
        session.add(mine)
        session.add(m.AuditEvent(action="FEED_TEST", subject_type="Kept", region_code="370102000000"))
        await session.flush()
    since = await _position(app)
    async with sessions() as session, session.begin():
        await session.execute(delete(m.AuditEvent).where(m.AuditEvent.id == mine.id))
        await session.execute(text("UPDATE sync_node SET origin = 37 WHERE id = 1"))  # as a sync from node 37
        echoed = m.AuditEvent(action="FEED_TEST", subject_type="Echo", region_code="370102000000")
        session.add(echoed)
        await session.flush()
        await session.execute(text("UPDATE sync_node SET origin = NULL WHERE id = 1"))
    changes = await _entries_after(app, since)
    assert [(c.table, c.key, c.row) for c in changes] == [("audit_event", str(mine.id), None)]
    async with sessions() as session, session.begin():
        await session.execute(delete(m.AuditEvent).where(m.AuditEvent.action == "FEED_TEST"))


async def test_ids_stay_in_the_nodes_range_after_foreign_ids_arrive(app: Starlette) -> None:
    foreign = 37 * NODE_SPAN + 5
    sessions = app.state.services.writes
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO audit_event (id, at, action, subject_type, request_id, detail) VALUES"
                " (:id, CURRENT_TIMESTAMP, 'FEED_TEST', 'Foreign', '', '{}')"
            ),
            {"id": foreign},
        )
        local = m.AuditEvent(action="FEED_TEST", subject_type="Local")
        session.add(local)
        await session.flush()
    try:
        assert local.id is not None and 0 < local.id < NODE_SPAN
    finally:
        async with sessions() as session, session.begin():
            await session.execute(delete(m.AuditEvent).where(m.AuditEvent.action == "FEED_TEST"))


def test_the_deployment_mode_is_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [parse_deployment_mode(v) for v in ("national", "province:37", "province:370000000000")] == [
        0,
        37,
        37,
    ]
    for bad in ("provincial", "province:3", "province:370100000000", "province:00", "province:"):
        with pytest.raises(SettingsError) as refused:
            parse_deployment_mode(bad)
        assert refused.value.code == "BAD_DEPLOYMENT_MODE"
    monkeypatch.setenv("ZHIYUAN_DEPLOYMENT_MODE", "province:9")
    with pytest.raises(SettingsError, match="ZHIYUAN_DEPLOYMENT_MODE"):
        load_settings()


@pytest.mark.skipif(
    not is_postgres(), reason="PostgreSQL only: SQLite has one writer, so seq order is commit order"
)
async def test_a_late_commit_is_never_skipped(app: Starlette) -> None:
    engine = app.state.engine
    since = await _position(app)
    insert = text(
        "INSERT INTO audit_event (at, action, subject_type, request_id, detail, region_code) VALUES"
        " (now(), 'FEED_TEST', :s, '', '{}', '370102000000') RETURNING id"
    )
    async with engine.connect() as slow:
        await slow.begin()
        first = (await slow.execute(insert, {"s": "slow"})).scalar_one()  # takes the lower seq, commits last
        async with engine.begin() as fast:
            second = (await fast.execute(insert, {"s": "fast"})).scalar_one()
        assert [c.key for c in await _entries_after(app, since)] == []  # the fast one waits for the slow one
        await slow.commit()
    keys = [c.key for c in await _entries_after(app, since) if c.table == "audit_event"]
    assert keys == [str(first), str(second)]
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_event WHERE action = 'FEED_TEST'"))
    assert format_position(START) == "0.0"


async def test_the_migration_logs_the_rows_already_there(tmp_path: Path) -> None:
    """Migration 0007 back-fills the log with one INSERT … SELECT per synced table, regions derived as the
    triggers derive them (the account's from its volunteer profile), parents before children."""
    from alembic import command

    from models.db import make_engine
    from models.migrate import alembic_config
    from tests.database import create_database, drop_database
    from tests.test_migrations import FIRST_SCHEMA_ROWS

    url, pg_name = await create_database(tmp_path)
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
        engine = make_engine(url)
        async with engine.begin() as conn:
            for statement in FIRST_SCHEMA_ROWS:
                await conn.execute(text(statement))
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT table_name, row_key, region_code, op FROM change_log ORDER BY seq")
            )
            logged = [tuple(row) for row in rows]
        await engine.dispose()
    finally:
        if pg_name:
            await drop_database(pg_name)
    lixia = "370102000000"
    assert sorted(logged) == sorted(
        (t, "1", lixia, "I") for t in ("account", "team", "volunteer", "project", "post", "sign_up")
    )
    order = [t for t, *_ in logged]
    assert order.index("account") < order.index("volunteer") < order.index("sign_up")
    assert order.index("team") < order.index("project") < order.index("post") < order.index("sign_up")
