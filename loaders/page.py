"""Page requests and results shared by root lists and nested connections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PageArgs:
    """What a connection asks for; hashable, so equal requests share one batched query."""

    first: int
    offset: int = 0
    order: tuple[tuple[str, bool], ...] = ()
    """(column, descending) pairs; ``id`` is always appended as the tie-breaker."""
    where: tuple[tuple[str, Any], ...] = ()
    """Filter items ``(field, value)`` turned into SQL by loaders.filtering.conditions."""
    with_total: bool = False
    columns: tuple[str, ...] | None = None
    """The table columns the rows must carry (``schema.types.base.row_columns``); None: all of them."""


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    offset: int
    has_next: bool
    total: int | None = None
