"""Shared machinery of the certificate tests: teams, admins, volunteers and service records written straight to
the database, in 长沙 (湖南, 43) and, for the LEGACY refusal, 海口 (海南, 46) — provinces the demo data does not
use. Records are made here rather than through the record mutations, which belong to another issue.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from starlette.applications import Starlette

import models as m
from models.columns import utcnow
from models.db import SessionFactory
from models.enums import (
    IdType,
    ProjectCategory,
    RecordStatus,
    Role,
    Sex,
    TeamStatus,
    TeamVerification,
)
from models.identifiers import make_resident_id, make_volunteer_number
from tests.conftest import Api, login
from tests.visibility import col, insert_account

FURONG, TIANXIN, YUELU = "430102000000", "430103000000", "430104000000"
LONGHUA = "460106000000"
"""海口市龙华区: its province is switched to LEGACY by the refusal test."""
PASSWORD = "Certif1cate#ok"
_serial = itertools.count(1)

FIELDS = """
fragment C on Certificate {
  id number status periodStart periodEnd totalHours content personInCharge handlerName contact
  issuedAt revokedAt revokeReason verificationCode verificationUrl pdfUrl team { id } volunteer { id }
}
"""
REQUEST = (
    "mutation($t: ID!, $s: Date!, $e: Date!) "
    "{ requestCertificate(teamId: $t, periodStart: $s, periodEnd: $e) { ...C } }" + FIELDS
)
ISSUE = (
    "mutation($c: ID!, $p: String!, $h: String!, $k: String!) "
    "{ issueCertificate(certificateId: $c, personInCharge: $p, handlerName: $h, contact: $k) { ...C } }"
    + FIELDS
)
REJECT = (
    "mutation($c: ID!, $r: String!) { rejectCertificate(certificateId: $c, reason: $r) { ...C } }" + FIELDS
)
REVOKE = (
    "mutation($c: ID!, $r: String!) { revokeCertificate(certificateId: $c, reason: $r) { ...C } }" + FIELDS
)
VERIFY = """
query($n: String!, $c: String!) {
  verifyCertificate(number: $n, code: $c) {
    number issueDate volunteerName idType idNumber volunteerNumber periodStart periodEnd totalHours content
    issuerName personInCharge handlerName contact status revokedAt signature keyId signatureValid signedPayload
  }
}
"""
KEY = "query($k: String) { certificateSigningKey(keyId: $k) { keyId algorithm publicKey pem active } }"
PERIOD = {"s": "2025-01-01", "e": "2025-12-31"}
IN_PERIOD, BEFORE_PERIOD = date(2025, 3, 15), date(2024, 12, 31)


@dataclass
class Who:
    username: str
    account_id: int | None
    token: str | None
    volunteer_id: int | None = None
    number: str = ""
    id_number: str = ""
    name: str = ""


@dataclass
class World:
    app: Starlette
    api: Api
    password_hash: str
    teams: dict[str, int] = field(default_factory=dict)

    @property
    def sessions(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.services.sessions
        return factory

    def as_(self, who: Who | None) -> Api:
        return self.api.as_(who.token if who else None)

    async def account(self, *grants: m.RoleGrant) -> tuple[str, int]:
        username = f"ct_{uuid.uuid4().hex[:12]}"
        return username, await insert_account(self.sessions, username, self.password_hash, *grants)

    async def admin(self, *grants: m.RoleGrant) -> Who:
        username, account_id = await self.account(*grants)
        return Who(username, account_id, await login(self.api, username, PASSWORD))

    async def volunteer(self, region: str = FURONG, name: str = "测试志愿者", account: bool = True) -> Who:
        n = next(_serial)
        username, account_id = await self.account() if account else ("", None)
        cipher = self.app.state.services.cipher
        id_number = make_resident_id(
            region[:6], date(1985 + n % 10, 1 + n % 12, 1 + n % 28), n % 500, Sex.FEMALE
        )
        number = make_volunteer_number(region, 80_000_000 + n * 1000 + uuid.uuid4().int % 1000)
        async with self.sessions() as session, session.begin():
            row = m.Volunteer(
                account_id=account_id,
                volunteer_number=number,
                name=name,
                id_type=IdType.RESIDENT_ID,
                id_number_enc=cipher.encrypt(id_number, "volunteer.id_number"),
                id_number_hash=cipher.blind_index(id_number),
                region_code=region,
            )
            session.add(row)
            await session.flush()
            volunteer_id = row.id
        token = await login(self.api, username, PASSWORD) if account else None
        return Who(username, account_id, token, volunteer_id, number, id_number, name)

    async def team(self, region: str, status: TeamStatus = TeamStatus.ACTIVE) -> int:
        async with self.sessions() as session, session.begin():
            team = m.Team(
                name=f"长沙测试志愿服务队{next(_serial)}",
                region_code=region,
                verification_status=TeamVerification.APPROVED,
                status=status,
                person_in_charge="赵负责",
            )
            session.add(team)
            await session.flush()
            assert team.id is not None
            return team.id

    async def set_team_status(self, team: int, status: TeamStatus) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(m.Team, team)
            assert row is not None
            row.status = status

    async def project(self, team: int, name: str, category: ProjectCategory) -> int:
        async with self.sessions() as session, session.begin():
            row = await session.get(m.Team, team)
            assert row is not None
            project = m.Project(
                team_id=team,
                region_code=row.region_code,
                name=name,
                category=category,
                starts_at=utcnow(),
                ends_at=utcnow(),
            )
            session.add(project)
            await session.flush()
            assert project.id is not None
            return project.id

    async def record(
        self,
        who: Who,
        team: int,
        hours: str,
        day: date = IN_PERIOD,
        status: RecordStatus = RecordStatus.CONFIRMED,
        project: int | None = None,
        category: ProjectCategory = ProjectCategory.COMMUNITY,
    ) -> int:
        async with self.sessions() as session, session.begin():
            row = await session.get(m.Team, team)
            assert row is not None and who.volunteer_id is not None
            record = m.ServiceRecord(
                volunteer_id=who.volunteer_id,
                team_id=team,
                project_id=project,
                region_code=row.region_code,
                category=category,
                service_date=day,
                hours=Decimal(hours),
                status=status,
            )
            session.add(record)
            await session.flush()
            assert record.id is not None
            return record.id

    async def set_record_status(self, record: int, status: RecordStatus) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(m.ServiceRecord, record)
            assert row is not None
            row.status = status


def team_grant(team: int, region: str) -> m.RoleGrant:
    return m.RoleGrant(account_id=0, role=Role.TEAM_ADMIN, team_id=team, region_code=region)


def region_grant(region: str) -> m.RoleGrant:
    return m.RoleGrant(account_id=0, role=Role.REGION_ADMIN, region_code=region)


async def make_world(app: Starlette, api: Api) -> World:
    password_hash = await asyncio.to_thread(app.state.services.passwords.hash, PASSWORD)
    return World(app, api, password_hash)


def mine(model: Any) -> Any:
    return or_(col(model, "region_code").like("43%"), col(model, "region_code").like("46%"))


async def snapshot(w: World) -> tuple[Any, ...]:
    """Everything a certificate write could change here: the certificates and the audit trail."""
    async with w.sessions() as session:
        rows = (
            await session.execute(
                select(m.Certificate).where(mine(m.Certificate)).order_by(col(m.Certificate, "id"))
            )
        ).scalars()
        audit = (await session.execute(select(func.max(m.AuditEvent.id)))).scalar_one()
        return (
            [
                (
                    r.id,
                    r.number,
                    r.status,
                    r.total_hours,
                    r.content,
                    r.verification_code,
                    r.signature,
                    r.revoke_reason,
                )
                for r in rows
            ],
            audit,
        )


def code_of(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("reason")


async def refused(
    w: World, who: Who | None, query: str, variables: dict[str, Any], code: str, reason: str | None = None
) -> dict[str, Any]:
    """The call fails with ``code`` (and ``reason``) and writes nothing."""
    before = await snapshot(w)
    body = await w.as_(who).gql(query, variables)
    assert code_of(body) == (code, reason), body
    assert await snapshot(w) == before
    return body
