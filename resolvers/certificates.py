"""Certificates (志愿服务记录证明): request, issue, reject, revoke, and public verification.

谁记录谁证明 — whoever recorded the service certifies it. A certificate covers the CONFIRMED hours that one team
recorded for one volunteer in a period, and that team issues it:

    volunteer --request--> REQUESTED --issue--> ISSUED --revoke--> REVOKED
                           REQUESTED --reject--> REJECTED

* ``request_certificate``: the volunteer, for a team that recorded CONFIRMED hours for them in the period. A
  missing team and a team without such hours answer alike (INVALID_STATE, reason NO_HOURS): team ids are not
  public. One open request per volunteer and team (ALREADY_REQUESTED).
* ``issue_certificate`` / ``reject_certificate``: the admins of the certificate's team. When the team is
  DISSOLVED its superior unit issues instead (注销后由上级单位出具): the admins of the team's region, the
  ministry included. Issuing recounts the hours, freezes ``total_hours`` and ``content``, assigns the number
  and an 8-character verification code, and signs the printed fields (resolvers/certificate_signing.py).
* ``revoke_certificate``: the issuing team's admins (unless it is dissolved) and the admins of its region.
  Revoked certificates stay; verification shows them as REVOKED.

Targets are loaded through ``scope()``: a certificate the caller cannot read is NOT_FOUND, one it reads but may
not act on is FORBIDDEN (a region admin for a live team's certificate). Every write is refused in a LEGACY
province and writes an audit event. ``verify`` is the one unscoped read: anyone holding a certificate's number
and code sees what is printed on it, and a wrong code answers exactly like a wrong number (NOT_FOUND).

Numbers: ``ZY`` + issue year (China time) + the team's 6-digit county code + an 8-digit sequence per year and
county, e.g. ``ZY202637010200000042``. Until issued a request carries a reference ``SQ`` + 24 hex digits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import AuditEvent, Certificate, Project, ServiceRecord, Team, Volunteer
from models.columns import utcnow
from models.enums import CertificateStatus, ProjectCategory, RecordStatus, TeamStatus
from resolvers.audit import audit_event
from resolvers.certificate_pdf import CHINA, china_date
from resolvers.certificate_signing import PublicKey, signer
from resolvers.people import check_name
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.directives import SensitiveKind
from schema.errors import AppError
from schema.permissions import mask

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I: codes are typed from paper. 8 characters give 40 bits."""
CODE_LENGTH = 8
REASON_MAX = 500
SUMMARY_ITEMS = 6
"""Projects named in the content; the rest are counted."""
CATEGORY_NAMES = {
    ProjectCategory.COMMUNITY: "社区服务",
    ProjectCategory.POVERTY_RELIEF: "扶贫济困",
    ProjectCategory.EDUCATION: "助学支教",
    ProjectCategory.HEALTH: "医疗卫生",
    ProjectCategory.ENVIRONMENT: "生态环保",
    ProjectCategory.EMERGENCY: "应急救援",
    ProjectCategory.CULTURE: "文化服务",
    ProjectCategory.SPORTS: "体育健身",
    ProjectCategory.LEGAL_AID: "法律援助",
    ProjectCategory.SCIENCE: "科技科普",
    ProjectCategory.ELDERLY_DISABLED: "扶老助残",
    ProjectCategory.LARGE_EVENT: "大型活动",
    ProjectCategory.OTHER: "其他",
}


@dataclass(frozen=True)
class Issue:
    person_in_charge: str
    handler_name: str
    contact: str


@dataclass(frozen=True)
class Verified:
    """A certificate as printed, with its state and signature: what ``verifyCertificate`` returns."""

    printed: dict[str, str]
    status: CertificateStatus
    revoked_at: datetime | None
    signature: bytes | None
    key: PublicKey | None
    """The published key under which the signature is valid; None when no key verifies it."""
    code: str


# --- small helpers --------------------------------------------------------------------------------------


def _text(value: str, field: str, key: str, limit: int) -> str:
    """Free text on one line: present, printable, at most ``limit`` characters."""
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise AppError("BAD_USER_INPUT", key=key, field=field)
    return value


def _reason(value: str) -> str:
    """A required reason; longer ones are cut to ``REASON_MAX`` (the column's length)."""
    value = value.strip()
    if not value:
        raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
    return value[:REASON_MAX]


def _audit(viewer: Viewer, action: str, row: Certificate, request_id: str, **detail: object) -> AuditEvent:
    return audit_event(viewer, action, row, request_id, {"number": row.number, **detail})


def _hours(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


# --- hours and content ----------------------------------------------------------------------------------


async def _served(
    session: AsyncSession, volunteer_id: int, team_id: int, start: date, end: date
) -> Sequence[Any]:
    """(project name, category, times, hours) of the CONFIRMED records ``team_id`` made for the volunteer."""
    r = ServiceRecord
    statement = (
        select(col(Project.name), col(r.category), func.count(), func.sum(col(r.hours)))
        .select_from(r)
        .outerjoin(Project, col(Project.id) == col(r.project_id))
        .where(
            col(r.volunteer_id) == volunteer_id,
            col(r.team_id) == team_id,
            col(r.status) == RecordStatus.CONFIRMED,
            col(r.service_date).between(start, end),
        )
        .group_by(col(r.project_id), col(Project.name), col(r.category))
    )
    return (await session.execute(statement)).all()


def summarise(rows: Sequence[Any]) -> tuple[Decimal, str]:
    """Total hours and the certificate's content: times, hours, and the main projects with their category."""
    items = sorted(
        (
            (name, ProjectCategory(category), int(times), _hours(hours))
            for name, category, times, hours in rows
        ),
        key=lambda item: (-item[3], item[0] or ""),
    )
    total = sum((item[3] for item in items), Decimal("0.00"))
    times = sum(item[2] for item in items)
    if not items or total <= 0:
        return Decimal("0.00"), ""
    parts = []
    for name, category, count, hours in items[:SUMMARY_ITEMS]:
        label = CATEGORY_NAMES[category]
        title = name if name is None or len(name) <= 24 else name[:23] + "…"
        parts.append(
            f"{title}（{label}）{count}次{hours}小时" if title else f"{label}服务{count}次{hours}小时"
        )
    more = f"等{len(items)}项" if len(items) > SUMMARY_ITEMS else ""
    return total, f"参加志愿服务{times}次，累计服务时长{total}小时。服务内容：{'；'.join(parts)}{more}。"


# --- numbers and codes ----------------------------------------------------------------------------------


async def _next_number(session: AsyncSession, county: str, year: int) -> str:
    """The next number of the county's year. PostgreSQL serialises on an advisory lock held until commit;
    SQLite's write transactions are already serial (BEGIN IMMEDIATE). The unique index is the last guard."""
    prefix = f"ZY{year:04d}{county}"
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(prefix.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    highest = (
        await session.execute(
            select(func.max(Certificate.number)).where(
                col(Certificate.number).between(prefix + "0" * 8, prefix + "9" * 8)
            )
        )
    ).scalar_one_or_none()
    sequence = int(highest[len(prefix) :]) + 1 if highest else 1
    return f"{prefix}{sequence:08d}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- the printed certificate ----------------------------------------------------------------------------


def printed(row: Certificate, volunteer: Volunteer, team: Team, id_number: str) -> dict[str, str]:
    """Exactly the fields printed on the certificate (and signed), as strings."""
    assert row.issued_at is not None
    return {
        "number": row.number,
        "issueDate": china_date(row.issued_at).isoformat(),
        "volunteerName": volunteer.name,
        "idType": str(volunteer.id_type),
        "idNumber": mask(id_number, SensitiveKind.ID_NUMBER),
        "volunteerNumber": volunteer.volunteer_number,
        "periodStart": row.period_start.isoformat(),
        "periodEnd": row.period_end.isoformat(),
        "totalHours": f"{_hours(row.total_hours)}",
        "content": row.content,
        "issuerName": team.name,
        "personInCharge": row.person_in_charge,
        "handlerName": row.handler_name,
        "contact": row.contact,
    }


async def _printed(session: AsyncSession, services: Services, row: Certificate) -> dict[str, str]:
    if row.printed:
        return dict(row.printed)
    volunteer = await session.get(Volunteer, row.volunteer_id)
    team = await session.get(Team, row.team_id)
    assert volunteer is not None and team is not None
    id_number = services.cipher.decrypt(volunteer.id_number_enc, "volunteer.id_number")
    return printed(row, volunteer, team, id_number)


# --- writes ---------------------------------------------------------------------------------------------


def _volunteer_id(viewer: Viewer) -> int:
    if viewer.volunteer_id is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    return viewer.volunteer_id


async def _certificate(
    session: AsyncSession, viewer: Viewer, certificate_id: int
) -> tuple[Certificate, Team]:
    statement = select(Certificate).where(col(Certificate.id) == certificate_id).with_for_update()
    row = (await session.execute(scope(statement, Certificate, viewer))).scalar_one_or_none()
    if row is None:
        raise AppError("NOT_FOUND", field="certificateId")
    team = await session.get(Team, row.team_id)
    assert team is not None
    return row, team


def _check_certifier(viewer: Viewer, row: Certificate, team: Team) -> None:
    """The recording team certifies; a dissolved team's region (its superior unit) takes over."""
    if team.status == TeamStatus.DISSOLVED:
        allowed = viewer.administers_region(row.region_code)
    else:
        allowed = row.team_id in viewer.team_ids
    if not allowed:
        raise AppError("FORBIDDEN", field="certificateId")


async def request_certificate(
    services: Services, viewer: Viewer, team_id: int, start: date, end: date, request_id: str
) -> Certificate:
    volunteer_id = _volunteer_id(viewer)
    if start > end:
        raise AppError("BAD_USER_INPUT", key="PERIOD_INVALID", field="periodStart")
    if end > datetime.now(CHINA).date():
        raise AppError("BAD_USER_INPUT", key="PERIOD_INVALID", field="periodEnd")
    async with services.writes() as session, session.begin():
        team = await session.get(Team, team_id)
        served = await _served(session, volunteer_id, team_id, start, end) if team is not None else []
        total, content = summarise(served)
        if team is None or total <= 0:
            raise AppError("INVALID_STATE", key="NO_HOURS", field="teamId")
        await ensure_live(session, team.region_code, services.settings.default_province_status, "teamId")
        open_request = select(col(Certificate.id)).where(
            col(Certificate.volunteer_id) == volunteer_id,
            col(Certificate.team_id) == team_id,
            col(Certificate.status) == CertificateStatus.REQUESTED,
        )
        if (await session.execute(open_request)).first():
            raise AppError("INVALID_STATE", key="ALREADY_REQUESTED", field="teamId")
        row = Certificate(
            number=f"SQ{uuid.uuid4().hex[:24].upper()}",
            volunteer_id=volunteer_id,
            team_id=team_id,
            region_code=team.region_code,
            period_start=start,
            period_end=end,
            total_hours=total,
            content=content,
            status=CertificateStatus.REQUESTED,
        )
        session.add(row)
        await session.flush()
        session.add(_audit(viewer, "CERTIFICATE_REQUESTED", row, request_id))
    return row


async def issue_certificate(
    services: Services, viewer: Viewer, certificate_id: int, issue: Issue, request_id: str
) -> Certificate:
    person = check_name(issue.person_in_charge, "personInCharge")
    handler = check_name(issue.handler_name, "handlerName")
    contact = _text(issue.contact, "contact", "CONTACT_FORMAT", 100)
    async with services.writes() as session, session.begin():
        row, team = await _certificate(session, viewer, certificate_id)
        _check_certifier(viewer, row, team)
        if row.status != CertificateStatus.REQUESTED:
            raise AppError("INVALID_STATE", field="certificateId")
        await ensure_live(
            session, row.region_code, services.settings.default_province_status, "certificateId"
        )
        total, content = summarise(
            await _served(session, row.volunteer_id, row.team_id, row.period_start, row.period_end)
        )
        if total <= 0:
            raise AppError("INVALID_STATE", key="NO_HOURS", field="certificateId")
        now = utcnow()
        row.number = await _next_number(session, row.region_code[:6], china_date(now).year)
        row.total_hours, row.content = total, content
        row.person_in_charge, row.handler_name, row.contact = person, handler, contact
        row.verification_code = new_code()
        row.status, row.issued_at = CertificateStatus.ISSUED, now
        row.printed = None
        row.printed = await _printed(session, services, row)
        row.signature = signer(services.settings).sign(row.printed)
        session.add(_audit(viewer, "CERTIFICATE_ISSUED", row, request_id, hours=str(total)))
    return row


async def reject_certificate(
    services: Services, viewer: Viewer, certificate_id: int, reason: str, request_id: str
) -> Certificate:
    reason = _reason(reason)
    async with services.writes() as session, session.begin():
        row, team = await _certificate(session, viewer, certificate_id)
        _check_certifier(viewer, row, team)
        if row.status != CertificateStatus.REQUESTED:
            raise AppError("INVALID_STATE", field="certificateId")
        await ensure_live(
            session, row.region_code, services.settings.default_province_status, "certificateId"
        )
        row.status, row.revoke_reason = CertificateStatus.REJECTED, reason
        session.add(_audit(viewer, "CERTIFICATE_REJECTED", row, request_id, reason=reason))
    return row


async def revoke_certificate(
    services: Services, viewer: Viewer, certificate_id: int, reason: str, request_id: str
) -> Certificate:
    reason = _reason(reason)
    async with services.writes() as session, session.begin():
        row, team = await _certificate(session, viewer, certificate_id)
        issuing_admin = team.status != TeamStatus.DISSOLVED and row.team_id in viewer.team_ids
        if not (issuing_admin or viewer.administers_region(row.region_code)):
            raise AppError("FORBIDDEN", field="certificateId")
        if row.status != CertificateStatus.ISSUED:
            raise AppError("INVALID_STATE", field="certificateId")
        await ensure_live(
            session, row.region_code, services.settings.default_province_status, "certificateId"
        )
        row.status, row.revoked_at, row.revoke_reason = CertificateStatus.REVOKED, utcnow(), reason
        session.add(_audit(viewer, "CERTIFICATE_REVOKED", row, request_id, reason=reason))
    return row


# --- public verification --------------------------------------------------------------------------------


async def verify(services: Services, number: str, code: str) -> Verified:
    """The certificate with this number and code as printed; NOT_FOUND for anything else (a wrong code, an
    unknown number, a request not yet issued), all alike."""
    number, code = number.strip().upper(), code.strip().upper()
    if not (0 < len(number) <= 32 and len(code) == CODE_LENGTH and number.isascii() and code.isascii()):
        raise AppError("NOT_FOUND", field="number")
    async with services.sessions() as session:
        statement = select(Certificate).where(col(Certificate.number) == number)
        row = (await session.execute(statement)).scalar_one_or_none()
        shown = (CertificateStatus.ISSUED, CertificateStatus.REVOKED)
        stored = row.verification_code.encode() if row is not None else b"-" * CODE_LENGTH
        if not hmac.compare_digest(stored, code.encode()) or row is None or row.status not in shown:
            raise AppError("NOT_FOUND", field="number")
        payload = await _printed(session, services, row)
    return Verified(
        printed=payload,
        status=CertificateStatus(row.status),
        revoked_at=row.revoked_at,
        signature=row.signature,
        key=signer(services.settings).key_that_verifies(payload, row.signature),
        code=row.verification_code,
    )
