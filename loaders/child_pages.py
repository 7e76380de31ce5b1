"""One page of child rows for many parents in one statement: a nested connection's loader.

``ROW_NUMBER() OVER (PARTITION BY parent ORDER BY …)`` cuts every parent's page at once and
``COUNT(*) OVER (PARTITION BY parent)`` gives each total, so a nested list costs one statement per level
whatever the number of parents. Keys with different page arguments form separate groups (one statement each).

The statement is Core, not ORM: the page rows come back as SQLAlchemy ``Row`` objects with one attribute per
column of the table (the same names and Python values as the model's), read by the GraphQL types exactly like
model instances. No identity map, no instance construction, and the subquery's columns are plain labels, so
building the statement does not copy every column (and its foreign keys) of the table on each request —
together about a third of a small nested query's time (bench/PERF-NOTES.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Integer, Row, and_, bindparam, func, or_, select, type_coerce
from sqlmodel import SQLModel

from auth.scope import scope_params, scope_template
from auth.viewer import Viewer
from loaders.batch_loader import BatchLoader
from loaders.connect import fetch_each
from loaders.filtering import filter_params, filter_shape, filter_template, order_columns
from loaders.page import Page, PageArgs
from models.db import SessionFactory
from models.one_of import one_of

M = TypeVar("M", bound=SQLModel)
ChildKey = tuple[Any, PageArgs]


class GroupRead(NamedTuple):
    """One group's statement, its parameters, and how its rows become each parent's page."""

    statement: Any
    params: dict[str, Any]
    pages: Callable[[Sequence[Row[Any]]], dict[Any, Page]]


@cache
def table_columns(
    model: type[SQLModel], only: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], tuple[ColumnElement[Any], ...]]:
    """The table's column names (``only`` those, when given) and, for a subquery, each column as a label of
    a type-coerced expression: the same SQL and result processing as the column itself, but a subquery proxies
    it as a plain column instead of copying the ``Column`` with its foreign keys."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    columns = [c for c in table.columns if only is None or c.name in only]
    return tuple(c.name for c in columns), tuple(type_coerce(c, c.type).label(c.name) for c in columns)


def _with(columns: tuple[str, ...] | None, parent: str) -> tuple[str, ...] | None:
    """The columns a page reads (None: all), the parent's key among them: the rows are grouped by it."""
    return columns if columns is None or parent in columns else (*columns, parent)


class ChildPages(BatchLoader[ChildKey, Page], Generic[M]):
    def __init__(self, sessions: SessionFactory, viewer: Viewer, model: type[M], parent: str) -> None:
        super().__init__()
        self.sessions, self.viewer, self.model, self.parent = sessions, viewer, model, parent

    async def _load(self, keys: Sequence[ChildKey]) -> list[Page]:
        groups: dict[PageArgs, set[Any]] = defaultdict(set)
        for parent_id, args in keys:
            groups[args].add(parent_id)
        reads = [
            self._first_page(args, next(iter(parent_ids)))
            if len(parent_ids) == 1 and args.offset == 0
            else self._windowed(args, parent_ids)
            for args, parent_ids in groups.items()
        ]
        results = await fetch_each(self.sessions, [(read.statement, read.params) for read in reads])
        pages: dict[ChildKey, Page] = {}
        for args, read, rows in zip(groups, reads, results, strict=True):
            for parent_id, page in read.pages(rows).items():
                pages[(parent_id, args)] = page
        return [pages.get(key) or Page([], key[1].offset, False, 0) for key in keys]

    def _windowed(self, args: PageArgs, parent_ids: set[Any]) -> GroupRead:
        model, parent, order, shape = self.model, self.parent, args.order, filter_shape(args.where)

        def build(restrict: Any) -> Any:
            parent_col = getattr(model, parent)
            names, columns = table_columns(model, _with(args.columns, parent))
            number = func.row_number().over(partition_by=parent_col, order_by=order_columns(model, order))
            total = func.count().over(partition_by=parent_col)
            ranked = select(*columns, number.label("_rn"), total.label("_total")).where(
                one_of(parent_col, "parents"), *filter_template(model, shape)
            )
            c = restrict(ranked).subquery().c
            # rn = 1 is always fetched so a parent's total is known even past the end of its list
            window = and_(
                c._rn > bindparam("offset", type_=Integer), c._rn <= bindparam("upto", type_=Integer)
            )
            return (
                select(*[c[name] for name in names], c._rn, c._total)
                .where(or_(window, c._rn == 1))
                .order_by(c[parent], c._rn)
            )

        statement = scope_template(("pages", parent, shape, order, args.columns), model, self.viewer, build)
        params = {
            "parents": list(parent_ids),
            "offset": args.offset,
            "upto": args.offset + args.first + 1,
            **filter_params(args.where),
            **scope_params(self.viewer),
        }

        def pages(rows: Sequence[Row[Any]]) -> dict[Any, Page]:
            grouped: dict[Any, list[Any]] = defaultdict(list)
            totals: dict[Any, int] = {}
            for child in rows:
                key = getattr(child, parent)
                totals[key] = child._total
                if child._rn > args.offset:
                    grouped[key].append(child)
            return {
                key: Page(grouped[key][: args.first], args.offset, len(grouped[key]) > args.first, count)
                for key, count in totals.items()
            }

        return GroupRead(statement, params, pages)

    def _first_page(self, args: PageArgs, parent_id: Any) -> GroupRead:
        """The first page of one parent (a node's own nested list): the same rows, order and total as the
        windowed statement, as a plain ``ORDER BY … LIMIT first + 1`` — no subquery to build. The total
        (``COUNT(*) OVER ()``, counted before the LIMIT) only when asked for; no rows means a total of 0."""
        model, parent, order, shape, with_total = (
            self.model,
            self.parent,
            args.order,
            filter_shape(args.where),
            args.with_total,
        )

        def build(restrict: Any) -> Any:
            table: Any = model.__table__  # type: ignore[attr-defined]
            only = _with(args.columns, parent)
            selected: list[Any] = [table] if only is None else [table.c[name] for name in only]
            if with_total:
                selected.append(func.count().over().label("_total"))
            ranked = select(*selected).where(
                getattr(model, parent) == bindparam("parent", required=True), *filter_template(model, shape)
            )
            limit = bindparam("limit", type_=Integer)
            return restrict(ranked).order_by(*order_columns(model, order)).limit(limit)

        statement = scope_template(
            ("first_page", parent, shape, order, with_total, args.columns), model, self.viewer, build
        )
        params = {
            "parent": parent_id,
            "limit": args.first + 1,
            **filter_params(args.where),
            **scope_params(self.viewer),
        }

        def pages(rows: Sequence[Row[Any]]) -> dict[Any, Page]:
            if not rows:
                return {}
            total = rows[0]._total if with_total else None
            return {parent_id: Page(list(rows[: args.first]), 0, len(rows) > args.first, total)}

        return GroupRead(statement, params, pages)
