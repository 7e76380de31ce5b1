"""Team registration (队伍注册), review by the region's civil-affairs admin, profile edits, suspension,
dissolution, and the province rollout switch.

* Legal persons give a unified social credit code with a valid check character; its legal-person-database
  check runs asynchronously (legal_verification PENDING → PASSED/FAILED, resolvers/verifiers).
* Unregistered groups register under an approved, active legal-person contact team (联络团体) and give no code.
* The registrant becomes the team's admin. Teams start PENDING_REVIEW; an admin of the team's region approves
  or rejects with a reason, suspends (with a reason), re-activates, or dissolves (final).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import AuditEvent, ProvinceRollout, Region, RoleGrant, Team
from models.columns import utcnow
from models.enums import LegalVerification, ProvinceStatus, Role, TeamStatus, TeamType, TeamVerification
from models.identifiers import IdentifierError, validate_credit_code
from resolvers.audit import audit_event
from resolvers.people import check_mobile, check_name, service_region
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError


@dataclass(frozen=True)
class NewTeam:
    name: str
    team_type: TeamType
    region_code: str
    person_in_charge: str
    contact_name: str
    contact_phone: str
    description: str = ""
    credit_code: str | None = None
    contact_team_id: int | None = None


@dataclass(frozen=True)
class TeamEdit:
    name: str | None = None
    person_in_charge: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None


def _audit(viewer: Viewer, action: str, team: Team, request_id: str, **detail: object) -> AuditEvent:
    return audit_event(viewer, action, team, request_id, detail)


def _team_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise AppError("BAD_USER_INPUT", key="NAME_FORMAT", field="name")
    return name


async def _contact_team(session: AsyncSession, new: NewTeam) -> int | None:
    if new.team_type is TeamType.LEGAL_PERSON:
        return None
    if new.contact_team_id is None:
        raise AppError("BAD_USER_INPUT", key="CONTACT_TEAM_REQUIRED", field="contactTeamId")
    contact = await session.get(Team, new.contact_team_id)
    usable = (
        contact is not None
        and contact.team_type == TeamType.LEGAL_PERSON
        and contact.verification_status == TeamVerification.APPROVED
        and contact.status == TeamStatus.ACTIVE
    )
    if not usable:
        raise AppError("BAD_USER_INPUT", key="CONTACT_TEAM_INVALID", field="contactTeamId")
    return new.contact_team_id


def _credit_code(new: NewTeam) -> str | None:
    if new.team_type is TeamType.UNREGISTERED_GROUP:
        if new.credit_code:
            raise AppError("BAD_USER_INPUT", key="CREDIT_CODE_FORMAT", field="creditCode")
        return None
    if not new.credit_code:
        raise AppError("BAD_USER_INPUT", key="CREDIT_CODE_FORMAT", field="creditCode")
    try:
        return validate_credit_code(new.credit_code)
    except IdentifierError as error:
        raise AppError("BAD_USER_INPUT", key=error.code, field="creditCode") from None


async def register_team(services: Services, viewer: Viewer, new: NewTeam, request_id: str) -> Team:
    name = _team_name(new.name)
    code = _credit_code(new)
    person = check_name(new.person_in_charge, "personInCharge")
    contact = check_name(new.contact_name, "contactName")
    phone = check_mobile(new.contact_phone, "contactPhone")
    try:
        async with services.writes() as session, session.begin():
            region = await service_region(session, new.region_code, "regionCode")
            await ensure_live(session, region.code, services.settings.default_province_status)
            contact_team_id = await _contact_team(session, new)
            if (
                code
                and (await session.execute(select(col(Team.id)).where(col(Team.credit_code) == code))).first()
            ):
                raise AppError("BAD_USER_INPUT", key="DUPLICATE_CREDIT_CODE", field="creditCode")
            team = Team(
                name=name,
                team_type=new.team_type,
                credit_code=code,
                contact_team_id=contact_team_id,
                region_code=region.code,
                verification_status=TeamVerification.PENDING_REVIEW,
                legal_verification=LegalVerification.PENDING if code else LegalVerification.NOT_REQUIRED,
                status=TeamStatus.ACTIVE,
                person_in_charge=person,
                contact_name=contact,
                contact_phone_enc=services.cipher.encrypt(phone, "team.contact_phone"),
                description=new.description.strip()[:2000],
                registered_by_id=viewer.account_id,
            )
            session.add(team)
            await session.flush()
            session.add(
                RoleGrant(
                    account_id=viewer.account_id,  # type: ignore[arg-type]
                    role=Role.TEAM_ADMIN,
                    region_code=region.code,
                    team_id=team.id,
                    granted_by_id=viewer.account_id,
                )
            )
            session.add(_audit(viewer, "TEAM_REGISTERED", team, request_id))
    except IntegrityError:
        raise AppError("BAD_USER_INPUT", key="DUPLICATE_CREDIT_CODE", field="creditCode") from None
    return team


async def _team_for_update(session: AsyncSession, viewer: Viewer, team_id: int) -> Team:
    statement = scope(select(Team).where(col(Team.id) == team_id), Team, viewer).with_for_update()
    team = (await session.execute(statement)).scalar_one_or_none()
    if team is None:
        raise AppError("NOT_FOUND", field="teamId")
    return team


async def review_team(
    services: Services, viewer: Viewer, team_id: int, approve: bool, reason: str, request_id: str
) -> Team:
    async with services.writes() as session, session.begin():
        team = await _team_for_update(session, viewer, team_id)
        if not viewer.administers_region(team.region_code):
            raise AppError("FORBIDDEN", field="teamId")
        if team.verification_status != TeamVerification.PENDING_REVIEW:
            raise AppError("INVALID_STATE", field="teamId")
        if not approve and not reason.strip():
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        team.verification_status = TeamVerification.APPROVED if approve else TeamVerification.REJECTED
        team.review_reason = reason.strip()[:500]
        team.reviewed_at = utcnow()
        session.add(
            _audit(viewer, f"TEAM_{team.verification_status}", team, request_id, reason=team.review_reason)
        )
    return team


_TRANSITIONS = {
    TeamStatus.ACTIVE: {TeamStatus.SUSPENDED, TeamStatus.DISSOLVED},
    TeamStatus.SUSPENDED: {TeamStatus.ACTIVE, TeamStatus.DISSOLVED},
    TeamStatus.DISSOLVED: set(),
}


async def set_team_status(
    services: Services, viewer: Viewer, team_id: int, status: TeamStatus, reason: str, request_id: str
) -> Team:
    async with services.writes() as session, session.begin():
        team = await _team_for_update(session, viewer, team_id)
        if not viewer.administers_region(team.region_code):
            raise AppError("FORBIDDEN", field="teamId")
        if status not in _TRANSITIONS[TeamStatus(team.status)]:
            raise AppError("INVALID_STATE", field="status")
        if status is not TeamStatus.ACTIVE and not reason.strip():
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        team.status = status
        session.add(_audit(viewer, f"TEAM_{status}", team, request_id, reason=reason.strip()[:500]))
    return team


async def update_team(
    services: Services, viewer: Viewer, team_id: int, edit: TeamEdit, request_id: str
) -> Team:
    async with services.writes() as session, session.begin():
        team = await _team_for_update(session, viewer, team_id)
        if team_id not in viewer.team_ids:
            raise AppError("FORBIDDEN", field="teamId")
        if team.status == TeamStatus.DISSOLVED:
            raise AppError("INVALID_STATE", field="teamId")
        await ensure_live(session, team.region_code, services.settings.default_province_status)
        values = {
            "name": None if edit.name is None else _team_name(edit.name),
            "person_in_charge": None
            if edit.person_in_charge is None
            else check_name(edit.person_in_charge, "personInCharge"),
            "contact_name": None
            if edit.contact_name is None
            else check_name(edit.contact_name, "contactName"),
            "description": None if edit.description is None else edit.description.strip()[:2000],
        }
        changed = [name for name, value in values.items() if value is not None]
        for name in changed:
            setattr(team, name, values[name])
        if edit.contact_phone is not None:
            phone = check_mobile(edit.contact_phone, "contactPhone")
            team.contact_phone_enc = services.cipher.encrypt(phone, "team.contact_phone")
            changed.append("contact_phone")
        session.add(_audit(viewer, "TEAM_UPDATED", team, request_id, fields=changed))
    return team


async def set_province_status(
    services: Services, viewer: Viewer, province_code: str, status: ProvinceStatus, request_id: str
) -> ProvinceRollout:
    async with services.writes() as session, session.begin():
        province = await session.get(Region, province_code)
        if province is None or province.level != 1:
            raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field="provinceCode")
        row = await session.get(ProvinceRollout, province_code)
        if row is None:
            row = ProvinceRollout(province_code=province_code, status=status, updated_by_id=viewer.account_id)
            session.add(row)
        else:
            row.status, row.updated_at, row.updated_by_id = status, utcnow(), viewer.account_id
        session.add(
            AuditEvent(
                actor_id=viewer.account_id,
                action="PROVINCE_STATUS",
                subject_type="Region",
                region_code=province_code,
                request_id=request_id,
                detail={"status": status.value},
            )
        )
    return row
