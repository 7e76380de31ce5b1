"""The change feed: ``changes(since:, first:)`` for a peer instance's service account (Role PEER).

A page is the next ``first`` change-log entries after the cursor, in log position ``(xid, seq)`` order, limited
to the peer's scope — province ``PP``'s subtree when the ministry serves a province instance, the whole
province when a province instance serves the ministry — and without the entries that came from that peer
(``origin``), so nothing is echoed back. Each distinct key of the page is served once, at its first position,
with the row as it is now (or a tombstone when it is gone): a later change of the same key is served again in
its own later page, which the receiver applies idempotently. On PostgreSQL only entries of transactions older
than every running one are served (models/change_log.py), so a late commit is never skipped.

The ``since`` of each request is the position the peer has applied: it is kept as ``sync_state.acked`` and
tells the owner of a row whether a local change is still pending at the peer (resolvers/sync_apply.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    LargeBinary,
    Numeric,
    Table,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from auth.viewer import Viewer
from models import ChangeLog, SyncState
from models.change_log import key_column
from models.enums import Role
from schema.context import Services
from schema.errors import AppError

MAX_PAGE = 1000
Position = tuple[int, int]
START: Position = (0, 0)


def parse_position(cursor: str) -> Position:
    if not cursor:
        return START
    xid, _, seq = cursor.partition(".")
    if not (xid.isdigit() and seq.isdigit()):
        raise AppError("BAD_USER_INPUT", key="BAD_CURSOR", field="since")
    return int(xid), int(seq)


def format_position(position: Position) -> str:
    return f"{position[0]}.{position[1]}"


@dataclass(frozen=True)
class PeerScope:
    node: int
    """The peer's node: 0 the ministry, else the province's 2-digit code."""
    province: str
    """The province prefix served."""


def peer_scope(viewer: Viewer, own_node: int) -> PeerScope:
    """The peer a PEER grant stands for: on the ministry's instance a province instance (the grant's region),
    on a province instance the ministry (a grant without region). Anything else is FORBIDDEN."""
    for grant in viewer.grants:
        if grant.role is not Role.PEER:
            continue
        if own_node == 0 and grant.region_code:
            return PeerScope(int(grant.region_code[:2]), grant.region_code[:2])
        if own_node != 0 and not grant.region_code:
            return PeerScope(0, f"{own_node:02d}")
    raise AppError("FORBIDDEN", key="NOT_A_PEER")


def encode_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def decode_row(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    """A served row back to Python values, by this instance's column types (unknown columns are dropped)."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in data:
            continue
        value, kind = data[column.name], column.type
        if value is not None:
            if isinstance(kind, LargeBinary):
                value = base64.b64decode(value)
            elif isinstance(kind, DateTime) or getattr(kind, "impl", None).__class__ is DateTime:
                value = datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = date.fromisoformat(value)
            elif isinstance(kind, Numeric) and not isinstance(value, float):
                value = Decimal(value)
        row[column.name] = value
    return row


def key_value(table: Table, key: str) -> Any:
    column = table.c[key_column(table.name)]
    return int(key) if column.type.python_type is int else key


@dataclass
class ChangeRow:
    table: str
    key: str
    region_code: str | None
    row: dict[str, Any] | None


@dataclass
class FeedPage:
    node: int
    cursor: str
    has_more: bool
    changes: list[ChangeRow]


def _scoped(scope: PeerScope) -> list[ColumnElement[bool]]:
    return [
        col(ChangeLog.province) == scope.province,
        or_(col(ChangeLog.origin).is_(None), col(ChangeLog.origin) != scope.node),
    ]


_RUNNING = text(
    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint, array_agg(backend_xid::text::bigint)"
    " FILTER (WHERE backend_xid IS NOT NULL) FROM pg_stat_activity WHERE datname = current_database()"
)


async def _visible(session: AsyncSession) -> list[ColumnElement[bool]]:
    """PostgreSQL: only entries of transactions older than every transaction of this database that is still
    running (or, when none is, than the next transaction id), read in a statement *before* the entries. A
    transaction that writes the log later gets a larger id; one running now holds ``backend_xid``; one that
    ends in between is visible to the next statement (READ COMMITTED: each statement its own snapshot). The
    cluster-wide ``pg_snapshot_xmin`` would do too, but a long transaction in any other database of the server
    would then hold the feed back. The app's database role sees ``backend_xid`` of its own sessions; give
    ``pg_read_all_stats`` when other roles write too."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    xmax, running = (await session.execute(_RUNNING)).one()
    horizon = int(xmax)
    for short in running or ():  # 32-bit backend_xid -> the 64-bit id of the same epoch as xmax
        full = (horizon >> 32 << 32) + int(short)
        horizon = min(horizon, full if full <= int(xmax) else full - (1 << 32))
    return [col(ChangeLog.xid) < horizon]


async def read_page(
    session: AsyncSession, own_node: int, scope: PeerScope, since: Position, first: int
) -> FeedPage:
    position = tuple_(col(ChangeLog.xid), col(ChangeLog.seq))
    entries = (
        await session.execute(
            select(
                col(ChangeLog.xid),
                col(ChangeLog.seq),
                col(ChangeLog.table_name),
                col(ChangeLog.row_key),
                col(ChangeLog.region_code),
            )
            .where(position > tuple_(since[0], since[1]), *_scoped(scope), *(await _visible(session)))
            .order_by(col(ChangeLog.xid), col(ChangeLog.seq))
            .limit(first + 1)
        )
    ).all()
    has_more = len(entries) > first
    entries = entries[:first]
    order: dict[tuple[str, str], str | None] = {}
    for entry in entries:
        order.setdefault((entry.table_name, entry.row_key), entry.region_code)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    by_table: dict[str, list[str]] = {}
    for table_name, key in order:
        by_table.setdefault(table_name, []).append(key)
    for table_name, keys in by_table.items():
        table = SQLModel.metadata.tables[table_name]
        key_col = table.c[key_column(table_name)]
        result = await session.execute(select(table).where(key_col.in_([key_value(table, k) for k in keys])))
        for found in result.mappings():
            rows[(table_name, str(found[key_col.name]))] = {k: encode_value(v) for k, v in found.items()}
    cursor = format_position((entries[-1].xid, entries[-1].seq)) if entries else format_position(since)
    changes = [ChangeRow(t, k, region, rows.get((t, k))) for (t, k), region in order.items()]
    return FeedPage(own_node, cursor, has_more, changes)


async def count_pending(session: AsyncSession, scope: PeerScope, since: Position) -> int:
    position = tuple_(col(ChangeLog.xid), col(ChangeLog.seq))
    query = select(func.count()).where(
        position > tuple_(since[0], since[1]), *_scoped(scope), *(await _visible(session))
    )
    return int((await session.execute(query)).scalar_one())


async def record_ack(services: Services, scope: PeerScope, since: Position) -> None:
    """The peer asked from ``since``: it has applied everything of our feed up to there."""
    async with services.writes() as session, session.begin():
        state = await session.get(SyncState, scope.node)
        if state is None:
            session.add(SyncState(peer_node=scope.node, acked=format_position(since)))
        elif parse_position(state.acked) < since:
            state.acked = format_position(since)


async def changes(services: Services, viewer: Viewer, since: str, first: int) -> tuple[FeedPage, PeerScope]:
    if not 0 <= first <= MAX_PAGE:
        raise AppError("BAD_USER_INPUT", key="BAD_PAGE_SIZE", field="first", max=MAX_PAGE)
    position = parse_position(since)
    scope = peer_scope(viewer, services.settings.node_id)
    async with services.sessions() as session:
        page = await read_page(session, services.settings.node_id, scope, position, first)
    if since:
        await record_ack(services, scope, position)
    return page, scope
