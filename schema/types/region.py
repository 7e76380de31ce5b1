"""Regions (行政区划): the public national tree, current and retired codes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry import relay

from models import Region as RegionRow
from schema.context import Info
from schema.errors import AppError
from schema.pagination import Connection, OrderDirection
from schema.types.base import children, one

LEVELS = {1: "PROVINCE", 2: "PREFECTURE", 3: "COUNTY", 4: "TOWNSHIP"}


@strawberry.enum(description="Level in the region tree (行政区划级别)")
class RegionLevel(Enum):
    PROVINCE = 1
    PREFECTURE = 2
    COUNTY = 3
    TOWNSHIP = 4


@strawberry.input(description="Filter for regions (行政区划筛选)")
class RegionFilter:
    level: RegionLevel | None = strawberry.field(default=None, description="Only this level (级别)")
    name_contains: str | None = strawberry.field(default=None, description="Name contains (名称包含)")
    retired_year_isnull: bool | None = strawberry.field(
        default=True,
        name="current",
        description="Current codes only (true, default) or retired only (现行/已撤销)",
    )


@strawberry.enum(description="Region sort keys (行政区划排序字段)")
class RegionOrderField(Enum):
    CODE = "code"
    NAME = "name"


@strawberry.input(description="Region ordering (行政区划排序)")
class RegionOrder:
    field: RegionOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )


@strawberry.federation.type(
    keys=["code"], description="Administrative region (行政区划), by its 12-digit statistical code"
)
class Region(relay.Node):
    id: relay.NodeID[str]
    code: str = strawberry.field(description="12-digit region code (区划代码)")
    name: str = strawberry.field(description="Name (名称)")
    level_value: strawberry.Private[int]
    parent_code: str | None = strawberry.field(description="Parent's code (上级区划代码)")
    retired_year: int | None = strawberry.field(description="Year the code was retired, if it was (撤销年份)")
    row: strawberry.Private[RegionRow]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Region | None:
        code = representation.get("code")
        if not isinstance(code, str):
            raise AppError("BAD_USER_INPUT", key="BAD_REPRESENTATION", field="code")
        return await region_by_code(info, code)

    @classmethod
    def from_row(cls, row: RegionRow) -> Region:
        return cls(
            id=row.code,
            code=row.code,
            name=row.name,
            level_value=row.level,
            parent_code=row.parent_code,
            retired_year=row.retired_year,
            row=row,
        )

    @strawberry.field(description="Level (级别)")
    def level(self) -> RegionLevel:
        return RegionLevel(self.level_value)

    @strawberry.field(description="Parent region (上级区划)")
    async def parent(self, info: Info) -> Region | None:
        return await region_by_code(info, self.parent_code)

    @strawberry.field(description="Child regions one level down (下级区划)")
    async def children(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: RegionFilter | None = None,
        order_by: list[RegionOrder] | None = None,
    ) -> Connection[Region]:
        current = filter or RegionFilter()  # current codes unless the client asks for retired ones
        return await children(
            info, Region, RegionRow, "parent_code", self.code, first, after, current, order_by
        )


async def region_by_code(info: Info, code: str | None) -> Region | None:
    if code is None:
        return None
    row = await info.context.loaders.by_key(RegionRow, "code").load(code)
    return None if row is None else Region.from_row(row)


__all__ = ["Region", "RegionFilter", "RegionLevel", "RegionOrder", "one", "region_by_code"]
