"""Cursor connections: ``first``/``after`` (capped), ``totalCount``, ``pageInfo``, ``edges`` and ``nodes``.

Cursors are opaque base64 offsets. ``totalCount`` is computed in the same statement as the page (a window
count) and only when the query selects it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from loaders.page import Page, PageArgs
from schema.context import Info
from schema.errors import AppError
from schema.selection import connection_selection

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20


@strawberry.enum(description="Sort direction (排序方向)")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(description="Where a page sits in its list (分页信息)")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More rows follow this page (是否有下一页)")
    has_previous_page: bool = strawberry.field(description="Rows precede this page (是否有上一页)")
    start_cursor: str | None = strawberry.field(description="Cursor of the first row (首条游标)")
    end_cursor: str | None = strawberry.field(description="Cursor of the last row (末条游标)")


@strawberry.type(description="One row of a page with its cursor (分页条目)")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position, for `after` (游标)")
    node: T = strawberry.field(description="The row (对象)")


@strawberry.type(description="A page of a list (分页列表)")
class Connection(Generic[T]):
    """Edges (with their base64 cursors) and the page info are built only when the query selects them: the
    mobile client asks for ``nodes`` alone, and building an ``Edge`` and a cursor per row cost as much as the
    rest of the page's fields (bench/RESULTS.md)."""

    offset: strawberry.Private[int]
    has_next: strawberry.Private[bool]
    rows: strawberry.Private[list[T]]
    total: strawberry.Private[int]

    @strawberry.field(description="Rows with cursors (条目)")
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=encode_cursor(self.offset + i), node=n) for i, n in enumerate(self.rows)]

    @strawberry.field(description="Rows without cursors (对象列表)")
    def nodes(self) -> list[T]:
        return self.rows

    @strawberry.field(description="Paging state (分页信息)")
    def page_info(self) -> PageInfo:
        last = self.offset + len(self.rows) - 1
        return PageInfo(
            has_next_page=self.has_next,
            has_previous_page=self.offset > 0,
            start_cursor=encode_cursor(self.offset) if self.rows else None,
            end_cursor=encode_cursor(last) if self.rows else None,
        )

    @strawberry.field(description="Rows in the whole list inside the viewer's scope (总数，限于可见范围)")
    def total_count(self) -> int:
        return self.total


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AppError("BAD_USER_INPUT", key="BAD_CURSOR", field="after") from None
    if kind != "o" or offset < 0:
        raise AppError("BAD_USER_INPUT", key="BAD_CURSOR", field="after")
    return offset


def filter_items(filter_: object | None) -> tuple[tuple[str, Any], ...]:
    """A filter input as hashable ``(field, value)`` pairs, unset fields dropped."""
    if filter_ is None:
        return ()
    items: list[tuple[str, Any]] = []
    for name, value in vars(filter_).items():
        if value is None or value is strawberry.UNSET:
            continue
        if isinstance(value, list):
            value = tuple(v.value if isinstance(v, Enum) else v for v in value)
        elif isinstance(value, Enum):
            value = value.value
        items.append((name, value))
    return tuple(sorted(items))


def order_items(order_by: list[Any] | None) -> tuple[tuple[str, bool], ...]:
    """``[{field, direction}]`` inputs as ``(column, descending)`` pairs; enum values are column names."""
    return tuple((o.field.value, o.direction == OrderDirection.DESC) for o in order_by or [])


def page_args(
    info: Info,
    first: int | None,
    after: str | None,
    filter_: object | None = None,
    order_by: Any = None,
    columns: tuple[str, ...] | None = None,
) -> PageArgs:
    limit = info.context.services.settings.max_page_size
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= limit:
        raise AppError("BAD_USER_INPUT", key="BAD_PAGE_SIZE", field="first", max=limit)
    offset = decode_cursor(after) + 1 if after else 0
    total = connection_selection(info).total
    return PageArgs(size, offset, order_items(order_by), filter_items(filter_), total, columns)


def to_connection(page: Page, convert: Callable[[list[Any]], list[T]]) -> Connection[T]:
    """The page as a connection, its rows converted by ``convert`` (all at once)."""
    nodes = convert(page.rows)
    return Connection(offset=page.offset, has_next=page.has_next, rows=nodes, total=page.total or 0)
