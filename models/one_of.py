"""``one_of(column, name)``: ``column`` equals one of the values of the list parameter ``name``.

SQLAlchemy's ``column.in_(bindparam(name, expanding=True))`` renders one placeholder per value when the
statement runs ("post-compile"): for every execution the compiled SQL is copied and re-rendered with bind
casts for each element (0.3 ms of a 4 ms mobile request on PostgreSQL), and every distinct list length is
another SQL string — on PostgreSQL another prepared statement in asyncpg's per-connection cache, so the
cache of each pooled connection filled up slowly with the batch sizes that happened to occur. On PostgreSQL
this construct is ``column = ANY(:name)`` with the list bound as one array: one SQL string for every length,
nothing rendered per execution, and the planner uses the index as it does for ``IN``. Other databases
(SQLite has no arrays) get the expanding ``IN``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement[bool]):
    __visit_name__ = "zhiyuan_one_of"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy reads this class attribute)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    type = Boolean()
    _is_implicitly_boolean = True
    """A comparison, like ``IN``: without this, databases with no boolean type (SQLite) got ``… IN (…) = 1`` in
    WHERE, which no index serves — every volunteer scanned for a batch of 50 (1 s at tier M), every record for
    their pages (16 s)."""

    def __init__(self, column: Any, name: str) -> None:
        self.column, self.name = column, name


def one_of(column: Any, name: str) -> ColumnElement[bool]:
    """``column`` in the list bound to the required parameter ``name`` (a list or tuple of values)."""
    return OneOf(column, name)


@compiles(OneOf)
def _expanding_in(element: OneOf, compiler: Any, **kw: Any) -> str:
    values: Any = bindparam(element.name, required=True, expanding=True)
    return str(compiler.process(element.column.in_(values), **kw))


@compiles(OneOf, "postgresql")
def _any_array(element: OneOf, compiler: Any, **kw: Any) -> str:
    values: Any = bindparam(element.name, required=True, type_=ARRAY(element.column.type))
    return str(compiler.process(element.column == any_(values), **kw))
