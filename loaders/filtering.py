"""Filter items and orderings turned into SQL conditions, by the naming convention of the filter inputs.

A filter field named ``<column>`` compares for equality; ``<column>_in`` is IN; ``<column>_contains`` is a
case-insensitive substring; ``<column>_after``/``_before`` are ``>=``/``<``; ``<column>_isnull`` tests NULL; ``region`` or ``<x>_region``
selects the subtree of a region code as an index-friendly range on ``region_code``/``<x>_region_code``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, asc, desc
from sqlmodel import SQLModel

from auth.jurisdiction import code_range, jurisdiction_prefix

_SUFFIXES = ("_in", "_contains", "_after", "_before", "_isnull")


def _condition(model: type[SQLModel], name: str, value: Any) -> ColumnElement[bool]:
    if name == "region" or name.endswith("_region"):
        column = getattr(model, f"{name}_code")
        return column.between(*code_range(jurisdiction_prefix(value)))  # type: ignore[no-any-return]
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            column = getattr(model, name.removesuffix(suffix))
            if suffix == "_in":
                return column.in_(list(value))  # type: ignore[no-any-return]
            if suffix == "_contains":
                escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                return column.ilike(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]
            if suffix == "_isnull":
                return column.is_(None) if value else column.is_not(None)  # type: ignore[no-any-return]
            if suffix == "_after":
                return column >= value  # type: ignore[no-any-return]
            return column < value  # type: ignore[no-any-return]
    return getattr(model, name) == value  # type: ignore[no-any-return]


def conditions(model: type[SQLModel], where: tuple[tuple[str, Any], ...]) -> list[ColumnElement[bool]]:
    return [_condition(model, name, value) for name, value in where]


def order_columns(model: type[SQLModel], order: tuple[tuple[str, bool], ...]) -> list[Any]:
    """The requested ordering, then the primary key as the tie-breaker so pages are stable."""
    columns = [desc(getattr(model, c)) if d else asc(getattr(model, c)) for c, d in order]
    named = {c for c, _ in order}
    table: Any = model.__table__  # type: ignore[attr-defined]
    columns += [asc(pk) for pk in table.primary_key.columns if pk.name not in named]
    return columns


def apply(statement: Select[Any], model: type[SQLModel], where: tuple[tuple[str, Any], ...]) -> Select[Any]:
    conds = conditions(model, where)
    return statement.where(*conds) if conds else statement
