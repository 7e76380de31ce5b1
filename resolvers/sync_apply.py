"""Applying one page of a peer's change feed: one transaction per page, idempotent upserts, and the cursor
written in the same transaction — so a sync killed at any point resumes exactly where its last commit left it,
and a page applied twice changes nothing.

* The page's rows are upserted (``INSERT … ON CONFLICT (key) DO UPDATE``), parents before children in the
  tables' dependency order; tombstones delete, children first. SQLite also defers its foreign-key checks to the
  commit (``PRAGMA defer_foreign_keys``).
* ``sync_node.origin`` holds the peer's node inside the transaction: the change-log triggers mark the applied
  rows as the peer's, and our feed does not send them back to it.
* Conflict rule — the owner region wins: a province instance owns its subtree. When it applies the ministry's
  page, a row it changed locally after the position the ministry last confirmed (``sync_state.acked``) is
  kept and logged once more: the local version goes (again) to the ministry and overwrites its copy there —
  also when the ministry had applied it already and changed the row afterwards, before confirming. The
  ministry's instance owns nothing of a province that runs its own instance and applies that province's pages
  as they come.
* References to accounts (``created_by_id``, ``recorder_id`` …) that do not exist on this side — an admin of
  the ministry who is never synced to a province — are applied as NULL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Table, bindparam, delete, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from models import ChangeLog, SyncNode, SyncState
from models.change_log import is_synced, key_column
from models.columns import utcnow
from resolvers.changes import decode_row, key_value, parse_position

ORDER = {table.name: index for index, table in enumerate(SQLModel.metadata.sorted_tables)}


@dataclass
class Applied:
    upserted: int = 0
    deleted: int = 0
    kept_local: int = 0
    """Rows not overwritten because this instance owns them and changed them since the peer last confirmed."""
    ignored: int = 0
    """Rows of tables this instance does not sync (a newer peer's table)."""
    kept: list[tuple[str, str]] = field(default_factory=list)


def account_refs(table: Table) -> list[str]:
    """Nullable references to accounts that are not the row's own account."""
    return [
        c.name
        for c in table.columns
        if c.nullable
        and not (table.name == "volunteer" and c.name == "account_id")
        and any(fk.column.table.name == "account" for fk in c.foreign_keys)
    ]


async def _pending_local(
    session: AsyncSession, keys: dict[str, list[str]], acked: tuple[int, int]
) -> dict[tuple[str, str], str | None]:
    """Keys this instance changed itself after the position the peer has confirmed, with their region."""
    pending: dict[tuple[str, str], str | None] = {}
    position = tuple_(col(ChangeLog.xid), col(ChangeLog.seq))
    for table_name, table_keys in keys.items():
        found = await session.execute(
            select(col(ChangeLog.row_key), col(ChangeLog.region_code))
            .distinct()
            .where(
                col(ChangeLog.table_name) == table_name,
                col(ChangeLog.row_key).in_(table_keys),
                col(ChangeLog.origin).is_(None),
                position > tuple_(acked[0], acked[1]),
            )
        )
        pending.update(((table_name, key), region) for key, region in found.all())
    return pending


_RELOG = (
    "INSERT INTO change_log (xid, table_name, row_key, region_code, province, op, at, origin)"
    " VALUES ({xid}, :table, :key, :region, :province, 'U', {now}, NULL)"
)


async def _send_again(session: AsyncSession, kept: dict[tuple[str, str], str | None]) -> None:
    """Log the kept rows once more as local changes: the peer receives our version again even if it had
    already applied the first one and changed the row after it (its confirmation had not reached us)."""
    pg = session.get_bind().dialect.name == "postgresql"
    statement = _RELOG.format(
        xid="pg_current_xact_id()::text::bigint" if pg else "0", now="now()" if pg else "datetime('now')"
    )
    rows = [
        {"table": t, "key": k, "region": r, "province": r[:2] if r else None} for (t, k), r in kept.items()
    ]
    await session.execute(text(statement), rows)


async def _null_missing_accounts(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    refs = account_refs(table)
    wanted = {row[c] for row in rows for c in refs if row.get(c) is not None}
    if not wanted:
        return
    account = SQLModel.metadata.tables["account"]
    present = set((await session.execute(select(account.c.id).where(account.c.id.in_(wanted)))).scalars())
    for row in rows:
        for c in refs:
            if row.get(c) is not None and row[c] not in present:
                row[c] = None


async def _upsert(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """One INSERT … ON CONFLICT (key) DO UPDATE run over the rows (executemany: compiled once). JSON columns
    bind None as SQL NULL, as the writing side stored it."""
    key = key_column(table.name)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    json_nulls = {
        c: bindparam(c, type_=JSON(none_as_null=True)) for c in rows[0] if isinstance(table.c[c].type, JSON)
    }
    statement = insert(table).values(json_nulls) if json_nulls else insert(table)
    updates = {c: statement.excluded[c] for c in rows[0] if c != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates), rows)


async def apply_page(
    session: AsyncSession,
    peer_node: int,
    peer_url: str,
    changes: list[dict[str, Any]],
    cursor: str,
    owner: bool,
) -> Applied:
    """Apply ``changes`` (the feed's ``{table, key, row}`` items) and move the cursor, inside ``session``'s
    transaction; the caller commits."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA defer_foreign_keys = ON"))
    await session.execute(update(SyncNode).where(col(SyncNode.id) == 1).values(origin=peer_node))
    state = await session.get(SyncState, peer_node, with_for_update=True)  # pages of concurrent runs queue
    if state is None:
        state = SyncState(peer_node=peer_node)
        session.add(state)
    applied = Applied()
    keys: dict[str, list[str]] = defaultdict(list)
    for change in changes:
        keys[change["table"]].append(change["key"])
    kept = await _pending_local(session, keys, parse_position(state.acked)) if owner else {}
    upserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    deletes: dict[str, list[Any]] = defaultdict(list)
    for change in changes:
        name, key, row = change["table"], change["key"], change["row"]
        if name not in SQLModel.metadata.tables or not is_synced(name):
            applied.ignored += 1
            continue
        if (name, key) in kept:
            applied.kept_local += 1
            applied.kept.append((name, key))
            continue
        table = SQLModel.metadata.tables[name]
        if row is None:
            deletes[name].append(key_value(table, key))
        else:
            upserts[name].append(decode_row(table, row))
    if applied.kept:
        await _send_again(session, {key: kept[key] for key in applied.kept})
    for name in sorted(deletes, key=lambda n: -ORDER[n]):
        table = SQLModel.metadata.tables[name]
        await session.execute(delete(table).where(table.c[key_column(name)].in_(deletes[name])))
        applied.deleted += len(deletes[name])
    for name in sorted(upserts, key=lambda n: ORDER[n]):
        table = SQLModel.metadata.tables[name]
        await _null_missing_accounts(session, table, upserts[name])
        await _upsert(session, table, upserts[name])
        applied.upserted += len(upserts[name])
    if parse_position(cursor) > parse_position(state.cursor):
        state.cursor = cursor
    state.peer_url, state.pages, state.rows = peer_url, state.pages + 1, state.rows + len(changes)
    state.updated_at = utcnow()
    await session.flush()
    await session.execute(update(SyncNode).where(col(SyncNode.id) == 1).values(origin=None))
    return applied
