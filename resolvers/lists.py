"""Root lists: one scoped statement per page; when totalCount is asked, the count rides along as an uncorrelated
scalar subquery (evaluated once) over the same scoped rows.

Not ``COUNT(*) OVER ()``: a window count makes the database build every row in scope, full width, and sort
them all before the LIMIT. For a county admin's volunteers at tier M (132,000 in the county and the members
of its teams, out of 2,000,000) that was 3.9 s on PostgreSQL; the subquery counts through the indexes and the
page is a top-N sort: 0.31 s (bench/RESULTS.md)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlmodel import SQLModel

from auth.scope import scope, scoped_count
from auth.viewer import Viewer
from loaders.filtering import apply, order_columns
from loaders.page import Page, PageArgs
from models.db import SessionFactory

M = TypeVar("M", bound=SQLModel)


def scoped_select(model: type[M], viewer: Viewer, args: PageArgs) -> Any:
    return scope(apply(select(model), model, args.where), model, viewer)


async def root_page(sessions: SessionFactory, viewer: Viewer, model: type[M], args: PageArgs) -> Page:
    scoped = scoped_select(model, viewer, args)
    count = scoped_count(model, viewer, scoped, filtered=bool(args.where))
    statement = scoped.add_columns(count.scalar_subquery().label("_total")) if args.with_total else scoped
    statement = (
        statement.order_by(*order_columns(model, args.order)).offset(args.offset).limit(args.first + 1)
    )
    async with sessions() as session:
        result = (await session.execute(statement)).all()
        total: int | None = None
        if args.with_total and result:
            total = int(result[0][1])
        elif args.with_total:  # past the end (or empty): no row carries the count, so count on its own
            total = int((await session.execute(count)).scalar_one())
    rows = [r[0] for r in result]
    return Page(rows[: args.first], args.offset, len(rows) > args.first, total)
