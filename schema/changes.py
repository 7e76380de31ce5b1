"""The change feed as a root query for peer instances (docs/deploy.md, "Two deployment modes")."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.changes import PeerScope, count_pending, parse_position
from resolvers.changes import changes as read_changes
from schema.context import Info
from schema.directives import Requirement
from schema.permissions import requires


@strawberry.type(description="One changed row of the change feed (变更记录)")
class Change:
    table: str = strawberry.field(description="The table (表名)")
    key: str = strawberry.field(description="The row's primary key as text (主键)")
    region_code: str | None = strawberry.field(description="The row's region (所属区划)")
    row: JSON | None = strawberry.field(
        description="The row as it is now, column by column; null when it was deleted (tombstone, 已删除)"
    )


@strawberry.type(description="A page of the change feed (变更页)")
class ChangePage:
    node: int = strawberry.field(description="Serving node: 0 the ministry, else the province code (节点)")
    cursor: str = strawberry.field(description="Pass as `since` for the next page (游标)")
    has_more: bool = strawberry.field(description="More changes follow this page (是否还有)")
    changes: list[Change] = strawberry.field(description="The changed rows, parents before children (变更)")
    since: strawberry.Private[str]
    scope: strawberry.Private[PeerScope]

    @strawberry.field(description="Changes after `since` still to be read, this page included (待同步条数)")
    async def pending(self, info: Info) -> int:
        async with info.context.services.sessions() as session:
            return await count_pending(session, self.scope, parse_position(self.since))


@strawberry.type
class ChangeFeedQuery:
    @strawberry.field(
        description="Inserts, updates and deletes in the peer's scope after `since` (变更订阅, 部省数据交换)",
        extensions=[requires(Requirement.PEER)],
    )
    async def changes(self, info: Info, since: str = "", first: int = 500) -> ChangePage:
        page, scope = await read_changes(info.context.services, info.context.viewer, since, first)
        rows: list[Any] = page.changes
        return ChangePage(
            node=page.node,
            cursor=page.cursor,
            has_more=page.has_more,
            changes=[Change(table=c.table, key=c.key, region_code=c.region_code, row=c.row) for c in rows],
            since=since,
            scope=scope,
        )
