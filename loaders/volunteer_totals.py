"""Confirmed hours and record counts of many volunteers: one GROUP BY statement per batch.

Deliberately not scoped (resolvers/stars.py): the totals are a property of the volunteer, and the volunteer
itself was reached through ``scope()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import col
from strawberry.dataloader import DataLoader

from loaders.connect import connect
from models import ServiceRecord
from models.db import SessionFactory
from models.enums import RecordStatus

Key = int


@dataclass(frozen=True)
class Totals:
    hours: Decimal = Decimal("0.00")
    records: int = 0


Result = Totals


class VolunteerTotals(DataLoader[Key, Result]):
    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__(load_fn=self._load)
        self.sessions = sessions

    async def _load(self, keys: Sequence[Key]) -> list[Result]:
        r = ServiceRecord
        statement = (
            select(col(r.volunteer_id), func.sum(col(r.hours)), func.count())
            .where(col(r.volunteer_id).in_(sorted(set(keys))), col(r.status) == RecordStatus.CONFIRMED)
            .group_by(col(r.volunteer_id))
        )
        async with connect(self.sessions) as conn:
            rows = (await conn.execute(statement)).all()
        found = {vid: Totals(Decimal(hours).quantize(Decimal("0.01")), int(n)) for vid, hours, n in rows}
        return [found.get(k, Totals()) for k in keys]
