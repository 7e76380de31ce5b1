"""Confirmed hours and record counts of many volunteers: one primary-key lookup per batch.

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

from sqlalchemy import Select, select
from strawberry.dataloader import DataLoader

from loaders.connect import connect
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


class VolunteerTotals(DataLoader[Key, Result]):
    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__(load_fn=self._load)
        self.sessions = sessions

    async def _load(self, keys: Sequence[Key]) -> list[Result]:
        async with connect(self.sessions) as conn:
            rows = (await conn.execute(_statement(), {"keys": sorted(set(keys))})).all()
        found = {vid: Totals(Decimal(hours).quantize(Decimal("0.01")), int(n)) for vid, hours, n in rows}
        return [found.get(k, Totals()) for k in keys]
