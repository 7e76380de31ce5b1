"""Rows of one table by a unique key (id, volunteer number, credit code, region code), scoped to the viewer.

One ``IN (...)`` query per batch, in its own session; results in key order, None for misses — including rows
the viewer may not see, so a lookup never tells an invisible row from a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlmodel import SQLModel, select
from strawberry.dataloader import DataLoader

from auth.scope import scope
from auth.viewer import Viewer
from models.db import SessionFactory

M = TypeVar("M", bound=SQLModel)
K = TypeVar("K")


class RowsByKey(DataLoader[K, M | None], Generic[K, M]):
    def __init__(self, sessions: SessionFactory, viewer: Viewer, model: type[M], key: str = "id") -> None:
        super().__init__(load_fn=self._load)
        self.sessions, self.viewer, self.model, self.key = sessions, viewer, model, key

    async def _load(self, keys: Sequence[K]) -> list[M | None]:
        column: Any = getattr(self.model, self.key)
        statement = scope(select(self.model).where(column.in_(set(keys))), self.model, self.viewer)
        async with self.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        found = {getattr(row, self.key): row for row in rows}
        return [found.get(k) for k in keys]
