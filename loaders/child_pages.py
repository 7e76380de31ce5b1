"""One page of child rows for many parents in one statement: a nested connection's loader.

``ROW_NUMBER() OVER (PARTITION BY parent ORDER BY …)`` cuts every parent's page at once and
``COUNT(*) OVER (PARTITION BY parent)`` gives each total, so a nested list costs one statement per level
whatever the number of parents. Keys with different page arguments form separate groups (one statement each).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel
from strawberry.dataloader import DataLoader

from auth.scope import scope
from auth.viewer import Viewer
from loaders.filtering import apply, order_columns
from loaders.page import Page, PageArgs
from models.db import SessionFactory

M = TypeVar("M", bound=SQLModel)
ChildKey = tuple[Any, PageArgs]


class ChildPages(DataLoader[ChildKey, Page], Generic[M]):
    def __init__(self, sessions: SessionFactory, viewer: Viewer, model: type[M], parent: str) -> None:
        super().__init__(load_fn=self._load)
        self.sessions, self.viewer, self.model, self.parent = sessions, viewer, model, parent

    async def _load(self, keys: Sequence[ChildKey]) -> list[Page]:
        groups: dict[PageArgs, set[Any]] = defaultdict(set)
        for parent_id, args in keys:
            groups[args].add(parent_id)
        pages: dict[ChildKey, Page] = {}
        async with self.sessions() as session:
            for args, parent_ids in groups.items():
                for parent_id, page in (await self._group(session, args, parent_ids)).items():
                    pages[(parent_id, args)] = page
        return [pages.get(key) or Page([], key[1].offset, False, 0) for key in keys]

    async def _group(self, session: Any, args: PageArgs, parent_ids: set[Any]) -> dict[Any, Page]:
        parent_col = getattr(self.model, self.parent)
        number = func.row_number().over(
            partition_by=parent_col, order_by=order_columns(self.model, args.order)
        )
        total = func.count().over(partition_by=parent_col)
        ranked = select(self.model, number.label("_rn"), total.label("_total")).where(
            parent_col.in_(parent_ids)
        )
        inner = scope(apply(ranked, self.model, args.where), self.model, self.viewer).subquery()
        row: Any = aliased(self.model, inner)
        statement = (
            select(row, inner.c._rn, inner.c._total)
            .where(
                # rn = 1 is always fetched so a parent's total is known even past the end of its list
                or_(
                    and_(inner.c._rn > args.offset, inner.c._rn <= args.offset + args.first + 1),
                    inner.c._rn == 1,
                )
            )
            .order_by(inner.c[self.parent], inner.c._rn)
        )
        grouped: dict[Any, list[Any]] = defaultdict(list)
        totals: dict[Any, int] = {}
        for child, rn, count in (await session.execute(statement)).all():
            key = getattr(child, self.parent)
            totals[key] = count
            if rn > args.offset:
                grouped[key].append(child)
        return {
            key: Page(grouped[key][: args.first], args.offset, len(grouped[key]) > args.first, count)
            for key, count in totals.items()
        }
