"""Rows of one table by a unique key (id, volunteer number, credit code, region code), scoped to the viewer.

One ``IN`` query per batch (``one_of()``) (built once per viewer shape: ``scope_template()``), on a short-lived connection; results in key order, None for misses —
including rows the viewer may not see, so a lookup never tells an invisible row from a missing one. Rows are
Core ``Row`` objects with one attribute per column (the model's names and values), not ORM instances, plus
whatever columns ``extend`` adds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlmodel import SQLModel

from auth.scope import scope_params, scope_template
from auth.viewer import Viewer
from loaders.batch_loader import BatchLoader
from loaders.connect import fetch_all
from models.db import SessionFactory
from models.one_of import one_of

M = TypeVar("M", bound=SQLModel)
K = TypeVar("K")
Extend = Callable[[Select[Any], Any], Select[Any]]
"""Adds columns to the select of the table's rows (``with_totals``): ``extend(select(table), table)``."""


class RowsByKey(BatchLoader[K, M | None], Generic[K, M]):
    def __init__(
        self,
        sessions: SessionFactory,
        viewer: Viewer,
        model: type[M],
        key: str = "id",
        extend: Extend | None = None,
    ) -> None:
        super().__init__()
        self.sessions, self.viewer, self.model, self.key = sessions, viewer, model, key
        self.extend = extend

    async def _load(self, keys: Sequence[K]) -> list[M | None]:
        model, key, extend = self.model, self.key, self.extend

        def build(restrict: Any) -> Any:
            column: Any = getattr(model, key)
            table: Any = model.__table__  # type: ignore[attr-defined]
            rows = select(table) if extend is None else extend(select(table), table)
            return restrict(rows.where(one_of(column, "keys")))

        statement = scope_template(("by_key", key, extend), model, self.viewer, build)
        params = {"keys": list(set(keys)), **scope_params(self.viewer)}
        rows: Any = await fetch_all(self.sessions, statement, params)
        found = {getattr(row, self.key): row for row in rows}
        return [found.get(k) for k in keys]
