"""Filter items and orderings turned into SQL conditions, by the naming convention of the filter inputs.

A filter field named ``<column>`` compares for equality; ``<column>_in`` is IN; ``<column>_contains`` is a
case-insensitive substring; ``<column>_after``/``_before`` are ``>=``/``<``; ``<column>_isnull`` tests NULL; ``region`` or ``<x>_region``
selects the subtree of a region code as an index-friendly range on ``region_code``/``<x>_region_code``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, asc, bindparam, desc
from sqlmodel import SQLModel

from auth.jurisdiction import code_range, jurisdiction_prefix

_SUFFIXES = ("_in", "_contains", "_after", "_before", "_isnull")

Test = tuple[str, str, tuple[Any, ...]]
"""A filter item parsed: (operator, column name, the values it compares with)."""


def _parse(name: str, value: Any) -> Test:
    if name == "region" or name.endswith("_region"):
        return "between", f"{name}_code", code_range(jurisdiction_prefix(value))
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            column = name.removesuffix(suffix)
            if suffix == "_in":
                return "in", column, (list(value),)
            if suffix == "_contains":
                escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                return "contains", column, (f"%{escaped}%",)
            if suffix == "_isnull":
                return ("null" if value else "not_null"), column, ()
            return (">=" if suffix == "_after" else "<"), column, (value,)
    return "==", name, (value,)


def _build(model: type[SQLModel], test: Test) -> ColumnElement[bool]:
    op, name, values = test
    column: Any = getattr(model, name)
    match op:
        case "between":
            return column.between(*values)  # type: ignore[no-any-return]
        case "in":
            return column.in_(values[0])  # type: ignore[no-any-return]
        case "contains":
            return column.ilike(values[0], escape="\\")  # type: ignore[no-any-return]
        case "null":
            return column.is_(None)  # type: ignore[no-any-return]
        case "not_null":
            return column.is_not(None)  # type: ignore[no-any-return]
        case ">=":
            return column >= values[0]  # type: ignore[no-any-return]
        case "<":
            return column < values[0]  # type: ignore[no-any-return]
    return column == values[0]  # type: ignore[no-any-return]


def conditions(model: type[SQLModel], where: tuple[tuple[str, Any], ...]) -> list[ColumnElement[bool]]:
    return [_build(model, _parse(name, value)) for name, value in where]


def filter_shape(where: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, str], ...]:
    """What a filter template depends on: each item's operator and column, not its values."""
    return tuple((op, column) for op, column, _ in (_parse(name, value) for name, value in where))


def filter_template(model: type[SQLModel], shape: tuple[tuple[str, str], ...]) -> list[ColumnElement[bool]]:
    """The conditions of ``shape`` with required parameters ``filter_<item>_<n>`` (``filter_params()``)."""
    conds = []
    for i, (op, column) in enumerate(shape):
        arity = {"between": 2, "null": 0, "not_null": 0}.get(op, 1)
        values: tuple[Any, ...] = tuple(
            bindparam(f"filter_{i}_{n}", required=True, expanding=op == "in") for n in range(arity)
        )
        conds.append(_build(model, (op, column, values)))
    return conds


def filter_params(where: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The values of ``filter_template()``'s parameters for these filter items."""
    return {
        f"filter_{i}_{n}": value
        for i, (name, raw) in enumerate(where)
        for n, value in enumerate(_parse(name, raw)[2])
    }


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
