"""Confirmed hours and record counts of many volunteers: one primary-key lookup per batch — or none, when the
volunteer rows were loaded ``with_totals()`` (the by-key volunteer loader joins them: loaders/__init__.py).

They are read from ``rollup_volunteer_hours`` (models/rollups.py), which database triggers keep exact in the
transaction of every write to ``service_record``; summing the records instead cost a scan of each volunteer's
records per request (190 ms for a team of 44 members at 10 records each on SQLite, whose planner led with the
coarse ``status`` index). Deliberately not scoped (resolvers/stars.py): the totals are a property of the volunteer, and the volunteer
itself was reached through ``scope()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, select

from loaders.batch_loader import BatchLoader
from loaders.connect import fetch_all
from models.db import SessionFactory
from models.one_of import one_of
from models.rollups import ROLLUP_TABLES

Key = int


@dataclass(frozen=True)
class Totals:
    hours: Decimal = Decimal("0.00")
    records: int = 0


Result = Totals


@cache
def _statement() -> Select[Any]:
    totals = ROLLUP_TABLES["rollup_volunteer_hours"].c
    return select(totals.volunteer_id, totals.hours, totals.n).where(one_of(totals.volunteer_id, "keys"))


ROLLUP_HOURS, ROLLUP_RECORDS = "rollup_hours", "rollup_records"
"""The labels of the totals columns ``with_totals()`` adds to a volunteer row."""


def with_totals(statement: Select[Any], volunteer: Any) -> Select[Any]:
    """``statement`` (a select of the ``volunteer`` table) with each volunteer's totals as two more columns, by
    a primary-key outer join: the totals ride with the row instead of costing a statement (and, on every
    volunteer, four awaited fields) of their own."""
    totals = ROLLUP_TABLES["rollup_volunteer_hours"]
    return statement.outerjoin(totals, totals.c.volunteer_id == volunteer.c.id).add_columns(
        totals.c.hours.label(ROLLUP_HOURS), totals.c.n.label(ROLLUP_RECORDS)
    )


def totals_of_row(row: object) -> Totals | None:
    """The totals a volunteer row loaded ``with_totals()`` carries (zero when it has no confirmed record);
    None for a row loaded without them (an ORM instance from a root list, say)."""
    if not isinstance(row, Row) or ROLLUP_RECORDS not in row._mapping:
        return None
    return _totals(getattr(row, ROLLUP_HOURS), getattr(row, ROLLUP_RECORDS))


def _totals(hours: Any, records: Any) -> Totals:
    """A rollup row's values as ``Totals`` (zero for a volunteer without a rollup row: NULLs)."""
    if records is None:
        return Totals()
    return Totals(Decimal(hours).quantize(Decimal("0.01")), int(records))


class VolunteerTotals(BatchLoader[Key, Result]):
    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__()
        self.sessions = sessions

    async def _load(self, keys: Sequence[Key]) -> list[Result]:
        rows: Any = await fetch_all(self.sessions, _statement(), {"keys": sorted(set(keys))})
        found = {vid: _totals(hours, n) for vid, hours, n in rows}
        return [found.get(k, Totals()) for k in keys]
