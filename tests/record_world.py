"""A small world for the attendance and record tests, written straight to the database: teams, admins,
volunteers, projects with posts, sign-in points and ACCEPTED sign-ups, and records.

Nothing here goes through the project and sign-up mutations, so these tests do not depend on them. Each test
module passes its own regions (provinces the demo data does not use) and compares only rows it made.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette

import models as m
from models.db import SessionFactory
from models.enums import (
    MemberRole,
    MembershipStatus,
    ProjectCategory,
    ProjectStatus,
    RecordProvenance,
    RecordStatus,
    Role,
    Sex,
    SignUpStatus,
    TeamStatus,
    TeamVerification,
)
from models.identifiers import make_resident_id, make_volunteer_number
from tests.conftest import Api, login
from tests.visibility import gid, insert_account

PASSWORD = "Rec0rds#ok"
CHINA = timezone(timedelta(hours=8))
POINT = (30.5928, 114.3055)
"""A sign-in point in 武汉 (WGS-84)."""
_serial = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def china_day(moment: datetime) -> date:
    value = aware(moment)
    assert value is not None
    return value.astimezone(CHINA).date()


def code_of(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("errors"), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("reason")


@dataclass
class Who:
    username: str
    account_id: int | None
    token: str | None
    volunteer_id: int | None = None
    number: str = ""

    @property
    def gid(self) -> str:
        return gid("Volunteer", self.volunteer_id)


@dataclass
class Shift:
    """A project with one post and its sign-in point."""

    project: int
    post: int
    team: int
    region: str
    point: int | None = None

    @property
    def project_gid(self) -> str:
        return gid("Project", self.project)


@dataclass
class World:
    app: Starlette
    api: Api
    tokens: dict[str, str]
    password_hash: str
    region: str
    other_region: str
    teams: dict[str, int] = field(default_factory=dict)
    admins: dict[str, Who] = field(default_factory=dict)

    @property
    def sessions(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.services.sessions
        return factory

    def as_(self, who: Who | str | None) -> Api:
        return self.api.as_(who.token if isinstance(who, Who) else self.tokens[who] if who else None)

    async def account(self, *grants: m.RoleGrant) -> tuple[str, int]:
        username = f"rw_{uuid.uuid4().hex[:12]}"
        return username, await insert_account(self.sessions, username, self.password_hash, *grants)

    async def admin(self, *grants: m.RoleGrant, volunteer: bool = False) -> Who:
        username, account_id = await self.account(*grants)
        who = Who(username, account_id, None)
        if volunteer:
            who.volunteer_id, who.number = await self._volunteer_row(self.region, account_id)
        who.token = await login(self.api, username, PASSWORD)
        return who

    async def _volunteer_row(self, region: str, account_id: int | None) -> tuple[int, str]:
        n = next(_serial)
        cipher = self.app.state.services.cipher
        id_number = make_resident_id(
            region[:6], date(1980 + n % 20, 1 + n % 12, 1 + n % 28), n % 500, Sex.MALE
        )
        number = make_volunteer_number(region, 70_000_000 + n * 1000 + uuid.uuid4().int % 1000)
        async with self.sessions() as session, session.begin():
            row = m.Volunteer(
                account_id=account_id,
                volunteer_number=number,
                name="记录测试",
                id_number_enc=cipher.encrypt(id_number, "volunteer.id_number"),
                id_number_hash=cipher.blind_index(id_number),
                region_code=region,
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            return row.id, number

    async def volunteer(self, region: str | None = None, account: bool = True) -> Who:
        username, account_id = await self.account() if account else ("", None)
        volunteer_id, number = await self._volunteer_row(region or self.region, account_id)
        token = await login(self.api, username, PASSWORD) if account else None
        return Who(username, account_id, token, volunteer_id, number)

    async def team(self, region: str, status: TeamStatus = TeamStatus.ACTIVE) -> int:
        async with self.sessions() as session, session.begin():
            team = m.Team(
                name=f"记录测试队{next(_serial)}",
                region_code=region,
                verification_status=TeamVerification.APPROVED,
                status=status,
            )
            session.add(team)
            await session.flush()
            assert team.id is not None
            return team.id

    async def team_region(self, team: int) -> str:
        async with self.sessions() as session:
            row = await session.get(m.Team, team)
            assert row is not None
            return row.region_code

    async def shift(
        self,
        team: int,
        starts: datetime,
        ends: datetime,
        status: ProjectStatus = ProjectStatus.PUBLISHED,
        post_starts: datetime | None = None,
        post_ends: datetime | None = None,
        point: tuple[float, float] | None = POINT,
        radius: int = 200,
        category: ProjectCategory = ProjectCategory.ELDERLY_DISABLED,
    ) -> Shift:
        region = await self.team_region(team)
        where = {"team_id": team, "region_code": region}
        async with self.sessions() as session, session.begin():
            project = m.Project(
                name=f"助老服务{next(_serial)}",
                category=category,
                starts_at=starts,
                ends_at=ends,
                status=status,
                **where,
            )
            session.add(project)
            await session.flush()
            assert project.id is not None
            post = m.Post(
                project_id=project.id,
                name="陪伴",
                quota=50,
                starts_at=post_starts,
                ends_at=post_ends,
                **where,
            )
            session.add(post)
            point_id = None
            if point is not None:
                sign_in = m.SignInPoint(
                    project_id=project.id,
                    name="社区中心",
                    latitude=point[0],
                    longitude=point[1],
                    radius_m=radius,
                    **where,
                )
                session.add(sign_in)
                await session.flush()
                point_id = sign_in.id
            await session.flush()
            assert post.id is not None
            return Shift(project.id, post.id, team, region, point_id)

    async def sign_up(self, shift: Shift, who: Who, status: SignUpStatus = SignUpStatus.ACCEPTED) -> str:
        async with self.sessions() as session, session.begin():
            row = m.SignUp(
                post_id=shift.post,
                project_id=shift.project,
                team_id=shift.team,
                volunteer_id=who.volunteer_id,
                region_code=shift.region,
                status=status,
            )
            session.add(row)
            await session.flush()
            return gid("SignUp", row.id)

    async def member(self, team: int, who: Who, status: MembershipStatus = MembershipStatus.JOINED) -> None:
        region = await self.team_region(team)
        async with self.sessions() as session, session.begin():
            session.add(
                m.TeamMembership(
                    team_id=team,
                    volunteer_id=who.volunteer_id,
                    region_code=region,
                    status=status,
                    role=MemberRole.MEMBER,
                )
            )

    async def record(
        self,
        who: Who,
        team: int,
        hours: str,
        day: date,
        status: RecordStatus = RecordStatus.CONFIRMED,
        started: datetime | None = None,
        ended: datetime | None = None,
        project: int | None = None,
    ) -> int:
        region = await self.team_region(team)
        async with self.sessions() as session, session.begin():
            row = m.ServiceRecord(
                volunteer_id=who.volunteer_id,
                team_id=team,
                project_id=project,
                region_code=region,
                service_date=day,
                started_at=started and started.astimezone(UTC),  # SQLite keeps the wall time: store UTC
                ended_at=ended and ended.astimezone(UTC),
                hours=Decimal(hours),
                provenance=RecordProvenance.LEGACY_MIGRATION,
                status=status,
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            return row.id

    async def rows(self, model: Any, **where: Any) -> list[Any]:
        async with self.sessions() as session:
            statement = select(model).filter_by(**where).order_by(model.id)
            return list((await session.execute(statement)).scalars())

    async def get(self, model: Any, key: Any) -> Any:
        async with self.sessions() as session:
            return await session.get(model, key)

    async def audit_count(self, action: str) -> int:
        async with self.sessions() as session:
            statement = select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.action == action)  # type: ignore[arg-type]
            return int((await session.execute(statement)).scalar_one())

    async def state(self, who: Who) -> tuple[Any, ...]:
        """Everything a write about ``who`` could change: attendance, records, requests, idempotency keys."""
        attendance = [
            (r.id, r.status, r.check_in_at, r.check_out_at)
            for r in await self.rows(m.Attendance, volunteer_id=who.volunteer_id)
        ]
        records = [
            (r.id, r.status, r.hours, r.replaces_id)
            for r in await self.rows(m.ServiceRecord, volunteer_id=who.volunteer_id)
        ]
        requests = [
            (r.id, r.status) for r in await self.rows(m.CorrectionRequest, volunteer_id=who.volunteer_id)
        ]
        async with self.sessions() as session:
            keys = (await session.execute(select(func.count()).select_from(m.IdempotencyKey))).scalar_one()
            audit = (await session.execute(select(func.max(m.AuditEvent.id)))).scalar_one()  # type: ignore[arg-type]
        return attendance, records, requests, keys, audit


def team_grant(team: int, region: str) -> m.RoleGrant:
    return m.RoleGrant(account_id=0, role=Role.TEAM_ADMIN, team_id=team, region_code=region)


def region_grant(region: str) -> m.RoleGrant:
    return m.RoleGrant(account_id=0, role=Role.REGION_ADMIN, region_code=region)


async def make_world(
    app: Starlette, api: Api, tokens: dict[str, str], region: str, other_region: str
) -> World:
    """Teams ``home`` (in ``region``) and ``other`` (in ``other_region``); admins ``home`` and ``other`` (team
    admins), ``mixed`` (admin of ``other`` and region admin of ``region``: sees ``home`` but may not act on it),
    ``county`` (region admin of ``region``) and ``volunteer_admin`` (admin of ``home`` with a volunteer profile)."""
    password_hash = await asyncio.to_thread(app.state.services.passwords.hash, PASSWORD)
    w = World(app, api, tokens, password_hash, region, other_region)
    w.teams["home"] = await w.team(region)
    w.teams["other"] = await w.team(other_region)
    w.admins["home"] = await w.admin(team_grant(w.teams["home"], region))
    w.admins["other"] = await w.admin(team_grant(w.teams["other"], other_region))
    w.admins["mixed"] = await w.admin(team_grant(w.teams["other"], other_region), region_grant(region))
    w.admins["county"] = await w.admin(region_grant(region))
    w.admins["volunteer_admin"] = await w.admin(team_grant(w.teams["home"], region), volunteer=True)
    return w
