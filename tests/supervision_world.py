"""Situations for the supervision and spot-check tests, written straight to the database (on top of
tests/record_world.py): many records at once, certificates, teams of a given age, and the rows the
impossible-scope test needs the ministry to see."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from starlette.applications import Starlette

import models as m
from models.enums import CertificateStatus, RecordProvenance, RecordStatus
from models.supervision import (
    AlertRule,
    AlertSeverity,
    AlertSubject,
    SpotCheckFinding,
    SpotCheckStatus,
)
from resolvers.record_rules import china_day
from tests.record_world import World


def today() -> date:
    return china_day(datetime.now(UTC))


async def add_records(w: World, rows: list[dict[str, Any]]) -> list[int]:
    """Service records in one transaction; each dict names volunteer_id, team_id, hours, service_date and
    optionally status, started_at, ended_at, project_id, attendance_id (region: the team's)."""
    regions = {team: await w.team_region(team) for team in {r["team_id"] for r in rows}}
    async with w.sessions() as session, session.begin():
        made = [
            m.ServiceRecord(
                volunteer_id=r["volunteer_id"],
                team_id=r["team_id"],
                region_code=regions[r["team_id"]],
                service_date=r["service_date"],
                hours=Decimal(str(r["hours"])),
                status=r.get("status", RecordStatus.CONFIRMED),
                started_at=r.get("started_at"),
                ended_at=r.get("ended_at"),
                project_id=r.get("project_id"),
                attendance_id=r.get("attendance_id"),
                provenance=r.get("provenance", RecordProvenance.MANUAL),
            )
            for r in rows
        ]
        session.add_all(made)
        await session.flush()
        return [int(r.id or 0) for r in made]


async def add_certificate(w: World, volunteer_id: int, team: int, hours: str, start: date, end: date) -> int:
    region = await w.team_region(team)
    async with w.sessions() as session, session.begin():
        row = m.Certificate(
            number=f"ZYT{uuid.uuid4().hex[:20].upper()}",
            volunteer_id=volunteer_id,
            team_id=team,
            region_code=region,
            period_start=start,
            period_end=end,
            total_hours=Decimal(hours),
            status=CertificateStatus.ISSUED,
            issued_at=datetime.now(UTC),
        )
        session.add(row)
        await session.flush()
        return int(row.id or 0)


async def age_team(w: World, team: int, days: int) -> None:
    async with w.sessions() as session, session.begin():
        created = datetime.now(UTC) - timedelta(days=days)
        await session.execute(update(m.Team).where(m.Team.id == team).values(created_at=created))  # type: ignore[arg-type]


async def alerts(w: World, **where: Any) -> list[m.SupervisionAlert]:
    """The alerts of the world's city (the first 4 digits of its region), as stored."""
    city = w.region[:4]
    return [a for a in await w.rows(m.SupervisionAlert, **where) if a.region_code.startswith(city)]


async def ensure_supervision_rows(app: Starlette) -> None:
    """One alert and one published spot check in 山东 (written directly), so the ministry's lists have rows."""
    services = app.state.services
    async with services.writes() as session, session.begin():
        present = []
        for model in (m.SupervisionAlert, m.SpotCheck):
            shandong = select(func.count()).where(model.region_code.like("37%"))  # type: ignore[attr-defined]
            present.append((await session.execute(shandong)).scalar_one())
        has_alert, has_check = present
        if has_alert and has_check:
            return
        record = (
            await session.execute(
                select(m.ServiceRecord)
                .where(m.ServiceRecord.region_code.like("37%"))  # type: ignore[attr-defined]
                .order_by(m.ServiceRecord.id)  # type: ignore[arg-type]
                .limit(1)
            )
        ).scalar_one()
        admin = (
            await session.execute(select(m.Account.id).where(m.Account.username == "demo_shandong"))
        ).scalar_one()
        if not has_alert:
            session.add(
                m.SupervisionAlert(
                    rule=AlertRule.MISSING_ATTENDANCE,
                    severity=AlertSeverity.MEDIUM,
                    region_code=record.region_code,
                    subject_kind=AlertSubject.RECORD,
                    subject_id=record.id,
                    details={"seeded": True},
                )
            )
        if has_check:
            return
        check = m.SpotCheck(
            region_code="370000000000",
            created_by_id=admin,
            sample_size=1,
            seed=1,
            status=SpotCheckStatus.PUBLISHED,
            published_at=datetime.now(UTC),
            summary={"OK": 1},
        )
        session.add(check)
        await session.flush()
        session.add(
            m.SpotCheckItem(
                spot_check_id=check.id,
                record_id=record.id,
                region_code=record.region_code,
                draw=0,
                finding=SpotCheckFinding.OK,
            )
        )
