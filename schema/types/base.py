"""Shared machinery of the entity types: building from rows, nested connections, node lookups."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Hashable, Sequence
from functools import cache, lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Row
from sqlmodel import SQLModel
from strawberry.schema.name_converter import NameConverter

from schema.context import Info
from schema.pagination import Connection, page_args, to_connection
from schema.selection import connection_selection

T = TypeVar("T")


@cache
def _copied_fields(cls: Any, model: type) -> tuple[str, ...]:
    """The type's plain GraphQL fields that are columns of the row's table."""
    definition = cls.__strawberry_definition__
    return tuple(
        f.python_name
        for f in definition.fields
        if f.base_resolver is None and f.python_name in model.__table__.columns  # type: ignore[attr-defined]
    )


@cache
def _row_fields(cls: Any, keys: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """The type's plain GraphQL fields that are columns of a Core ``Row`` with these keys, with their
    positions in the row."""
    definition = cls.__strawberry_definition__
    return tuple(
        (f.python_name, keys.index(f.python_name))
        for f in definition.fields
        if f.base_resolver is None and f.python_name in keys
    )


@cache
def _plain_columns(cls: Any, model: type, names: NameConverter) -> dict[str, str]:
    """The type's plain GraphQL fields that are columns of the model's table: GraphQL name (as the schema's
    name converter gives it) -> column name. A field with an extension (a permission check, which may read
    other columns of the row) is not plain."""
    definition = cls.__strawberry_definition__
    columns = model.__table__.columns  # type: ignore[attr-defined]
    return {
        names.from_field(f): f.python_name
        for f in definition.fields
        if f.base_resolver is None and not f.extensions and f.python_name in columns
    }


@lru_cache(maxsize=1024)
def row_columns(
    cls: Any, model: type, selected: frozenset[str], names: NameConverter
) -> tuple[str, ...] | None:
    """The columns a page of ``cls`` rows must read when the query selects these fields (GraphQL names): every
    column that is no plain field of the type — keys, references, the region: what resolvers and permission
    checks read from the row — and the plain fields selected. None (every column) when a selected field has a
    resolver, which may read any column, or when the type builds itself from the whole row (``from_row``)."""
    plain = _plain_columns(cls, model, names)
    if getattr(cls, "from_row", None) is not None or not selected <= plain.keys():
        return None
    wanted = {plain[name] for name in selected}
    unselected = set(plain.values()) - wanted
    table: Any = model.__table__  # type: ignore[attr-defined]
    return tuple(c.name for c in table.columns if c.name not in unselected or c.primary_key)


def build_all(cls: type[T], rows: Sequence[Any]) -> list[T]:
    """``cls`` for each row: ``cls.from_row(row)`` where the type defines one, else every plain field copied
    from the column of the same name, and the row kept private. The rows are the result of one statement —
    model instances, or Core ``Row`` objects (what the loaders return), whose column positions are worked out
    once for all of them."""
    custom = getattr(cls, "from_row", None)
    if custom is not None:
        return [custom(row) for row in rows]
    if not rows:
        return []
    first = rows[0]
    built: list[T] = []
    if isinstance(first, Row):
        positions = _row_fields(cast(Hashable, cls), first._fields)
        for row in rows:
            item = cls.__new__(cls)  # not __init__: a page may have read only the selected fields' columns
            vars(item).update({name: row[index] for name, index in positions}, row=row)
            built.append(item)
    else:
        columns = _copied_fields(cast(Hashable, cls), cast(Hashable, type(first)))
        for row in rows:
            item = cls.__new__(cls)
            vars(item).update({name: getattr(row, name) for name in columns}, row=row)
            built.append(item)
    return built


def build(cls: type[T], row: Any) -> T:
    """``cls`` for one row (``build_all``)."""
    return build_all(cls, (row,))[0]


async def children(
    info: Info,
    cls: type[T],
    model: type[SQLModel],
    parent: str,
    parent_id: Any,
    first: int | None,
    after: str | None,
    filter_: object | None = None,
    order_by: Any = None,
) -> Connection[T]:
    """A nested connection: one batched statement for all parents at this level (loaders/child_pages.py)."""
    selected = connection_selection(info).node_fields
    columns = row_columns(cast(Hashable, cls), model, selected, info.schema.config.name_converter)
    args = page_args(info, first, after, filter_, order_by, columns)
    page = await info.context.loaders.children(model, parent).load((parent_id, args))
    return to_connection(page, lambda rows: build_all(cls, rows))


async def one(info: Info, cls: type[T], model: type[SQLModel], key: Any, column: str = "id") -> T | None:
    """A to-one reference through the scoped by-key loader; None when absent or out of scope."""
    if key is None:
        return None
    row = await info.context.loaders.by_key(model, column).load(key)
    return None if row is None else build(cls, row)


async def root_list(
    info: Info,
    cls: type[T],
    model: type[SQLModel],
    first: int | None,
    after: str | None,
    filter_: object | None = None,
    order_by: Any = None,
) -> Connection[T]:
    """A root list: one scoped statement per page (resolvers/lists.py)."""
    from resolvers.lists import root_page

    args = page_args(info, first, after, filter_, order_by)
    page = await root_page(info.context.sessions, info.context.viewer, model, args)
    return to_connection(page, lambda rows: build_all(cls, rows))


def decode_global_id(value: str, type_name: str) -> str:
    """The key inside a global ID of ``type_name``; BAD_USER_INPUT (reason BAD_ID) otherwise."""
    from schema.errors import AppError

    try:
        kind, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field="id") from None
    if kind != type_name or not raw:
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field="id")
    return raw


def decode_int_id(value: str, type_name: str) -> int:
    from schema.errors import AppError

    raw = decode_global_id(value, type_name)
    if not raw.isdigit():
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field="id")
    return int(raw)


async def reference(info: Info, cls: type[T], model: type[SQLModel], column: str, key: Any) -> T | None:
    """Federation entity resolution: the same scoped, batched loader as every other read."""
    return await one(info, cls, model, key, column)
