"""Volunteer numbers (志愿者编号): the 6-digit county code of the service region and an 8-digit sequence per
county, e.g. ``37010200001234``. The sequence row is advanced with one UPDATE … RETURNING inside the caller's
transaction, so concurrent registrations in one county serialise on that row and never share a number."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Volunteer, VolunteerNumberSequence
from models.identifiers import make_volunteer_number


async def _seed(session: AsyncSession, county: str) -> None:
    """Create the county's sequence row, starting after any number already taken (demo or migrated data)."""
    highest = (
        await session.execute(
            select(func.max(Volunteer.volunteer_number)).where(
                col(Volunteer.volunteer_number).between(county + "00000000", county + "99999999")
            )
        )
    ).scalar_one_or_none()
    start = int(highest[6:]) if highest else 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(VolunteerNumberSequence).values(county=county, last=start).on_conflict_do_nothing()
    )


async def next_volunteer_number(session: AsyncSession, region_code: str) -> str:
    county = region_code[:6]
    advance = (
        update(VolunteerNumberSequence)
        .where(col(VolunteerNumberSequence.county) == county)
        .values(last=col(VolunteerNumberSequence.last) + 1)
        .returning(col(VolunteerNumberSequence.last))
    )
    value = (await session.execute(advance)).scalar_one_or_none()
    if value is None:
        await _seed(session, county)
        value = (await session.execute(advance)).scalar_one()
    return make_volunteer_number(region_code, int(value))
