"""Team membership (队伍成员): applications, invitations, decisions, leaving, member roles, invitation consent.

Every write is one transaction and checks its target against the viewer: team admins act on their own teams
(``viewer.team_ids``), volunteers on themselves. Targets are loaded through ``scope()``, so a row the viewer
cannot read is NOT_FOUND and one it can read but not act on is FORBIDDEN. Two lookups skip ``scope()`` on
purpose and answer with public facts only: the team a volunteer applies to (volunteers see only the teams
they already belong to: NOT_FOUND or TEAM_NOT_ACTIVE) and the volunteer a team admin invites by number
(NOT_FOUND or INVITATION_DECLINED). Every write is refused in a LEGACY province (``ensure_live`` on the
team's region; on the volunteer's region for the consent setting).

    none · REJECTED · LEFT   --apply-->  APPLYING  --decide-->  JOINED | REJECTED
    none · REJECTED · LEFT · INVITED  --invite-->  INVITED (consent ASK) | JOINED (AUTO_ACCEPT)
    INVITED  --respond-->  JOINED | REJECTED      INVITED --apply--> JOINED     APPLYING --invite--> JOINED
    JOINED · APPLYING  --leave-->  LEFT

A reused row starts over: role MEMBER, no join or leave time, no reason. The ADMIN role carries a
``TEAM_ADMIN`` grant on the team for the member's account; MEMBER and leaving revoke it, but the team's last
live grant is never revoked (LAST_ADMIN), and the last ADMIN-role member cannot leave. Role changes are
audited (GRANT_TEAM_ADMIN, REVOKE_TEAM_ADMIN).

Error codes stay few: a refused transition is INVALID_STATE, with the specific rule as ``reason``
(ALREADY_MEMBER, ALREADY_APPLIED, NOT_A_MEMBER, TEAM_NOT_ACTIVE, INVITATION_DECLINED, LAST_ADMIN); a missing
rejection reason is BAD_USER_INPUT (REASON_REQUIRED), an account without a volunteer profile FORBIDDEN
(NOT_A_VOLUNTEER).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import AuditEvent, RoleGrant, Team, TeamMembership, Volunteer
from models.columns import utcnow
from models.enums import (
    InviteConsent,
    MemberRole,
    MembershipStatus,
    Role,
    TeamStatus,
    TeamVerification,
)
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError

REASON_MAX = 500
"""``team_membership.decision_reason`` length; longer reasons are cut."""


# --- lookups and checks ---------------------------------------------------------------------------------


async def _visible_membership(session: AsyncSession, viewer: Viewer, membership_id: int) -> TeamMembership:
    statement = select(TeamMembership).where(col(TeamMembership.id) == membership_id).with_for_update()
    row = (await session.execute(scope(statement, TeamMembership, viewer))).scalar_one_or_none()
    if row is None:
        raise AppError("NOT_FOUND", field="membershipId")
    return row


async def _administered_team(session: AsyncSession, viewer: Viewer, team_id: int) -> Team:
    team = (
        await session.execute(scope(select(Team).where(col(Team.id) == team_id), Team, viewer))
    ).scalar_one_or_none()
    if team is None:
        raise AppError("NOT_FOUND", field="teamId")
    if team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field="teamId")
    return team


def _check_admin_of(viewer: Viewer, row: TeamMembership) -> None:
    if row.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field="membershipId")


def _volunteer_id(viewer: Viewer) -> int:
    if viewer.volunteer_id is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    return viewer.volunteer_id


def _check_joinable(team: Team) -> None:
    if team.verification_status != TeamVerification.APPROVED or team.status != TeamStatus.ACTIVE:
        raise AppError("INVALID_STATE", key="TEAM_NOT_ACTIVE", field="teamId")


async def _live(session: AsyncSession, services: Services, region_code: str, field: str) -> None:
    await ensure_live(session, region_code, services.settings.default_province_status, field)


async def _membership_of(session: AsyncSession, team_id: int, volunteer_id: int) -> TeamMembership | None:
    statement = select(TeamMembership).where(
        col(TeamMembership.team_id) == team_id, col(TeamMembership.volunteer_id) == volunteer_id
    )
    return (await session.execute(statement.with_for_update())).scalar_one_or_none()


# --- transitions ----------------------------------------------------------------------------------------


def _restart(row: TeamMembership, status: MembershipStatus, now: datetime) -> None:
    row.status, row.role, row.applied_at = status, MemberRole.MEMBER, now
    row.joined_at = now if status is MembershipStatus.JOINED else None
    row.left_at, row.decision_reason = None, ""


def _join(row: TeamMembership, now: datetime) -> None:
    row.status, row.joined_at, row.left_at = MembershipStatus.JOINED, now, None


async def _add(
    session: AsyncSession, team: Team, volunteer_id: int, status: MembershipStatus
) -> TeamMembership:
    now = utcnow()
    row = TeamMembership(
        team_id=team.id,  # type: ignore[arg-type]
        volunteer_id=volunteer_id,
        region_code=team.region_code,
        status=status,
        applied_at=now,
        joined_at=now if status is MembershipStatus.JOINED else None,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request created the row first
        raise AppError("INVALID_STATE", field="teamId") from None
    return row


# --- team admin grants ----------------------------------------------------------------------------------


async def _team_grants(session: AsyncSession, team_id: int) -> list[RoleGrant]:
    statement = select(RoleGrant).where(
        col(RoleGrant.role) == Role.TEAM_ADMIN, col(RoleGrant.team_id) == team_id
    )
    return list((await session.execute(statement.with_for_update())).scalars())


async def _grant(session: AsyncSession, viewer: Viewer, team: Team, account_id: int) -> bool:
    """Give ``account_id`` a live TEAM_ADMIN grant on ``team``; False when it had one already."""
    assert team.id is not None
    mine = [g for g in await _team_grants(session, team.id) if g.account_id == account_id]
    if any(g.revoked_at is None for g in mine):
        return False
    same_region = [g for g in mine if g.region_code == team.region_code]
    if same_region:  # the unique key (account, role, region, team) allows one row: revive it
        same_region[0].revoked_at, same_region[0].granted_at = None, utcnow()
        same_region[0].granted_by_id = viewer.account_id
    else:
        session.add(
            RoleGrant(
                account_id=account_id,
                role=Role.TEAM_ADMIN,
                region_code=team.region_code,
                team_id=team.id,
                granted_by_id=viewer.account_id,
            )
        )
    return True


async def _revoke(session: AsyncSession, team_id: int, account_id: int | None, field: str) -> bool:
    """Revoke ``account_id``'s live TEAM_ADMIN grants on the team; LAST_ADMIN if no other would remain."""
    live = [g for g in await _team_grants(session, team_id) if g.revoked_at is None]
    mine = [g for g in live if account_id is not None and g.account_id == account_id]
    if not mine:
        return False
    if len(mine) == len(live):
        raise AppError("INVALID_STATE", key="LAST_ADMIN", field=field)
    now = utcnow()
    for grant in mine:
        grant.revoked_at = now
    return True


def _audit(
    session: AsyncSession, viewer: Viewer, row: TeamMembership, account_id: int | None, request_id: str
) -> None:
    granted = row.role == MemberRole.ADMIN
    session.add(
        AuditEvent(
            actor_id=viewer.account_id,
            action="GRANT_TEAM_ADMIN" if granted else "REVOKE_TEAM_ADMIN",
            subject_type="TeamMembership",
            subject_id=row.id,
            region_code=row.region_code,
            request_id=request_id,
            detail={
                "teamId": row.team_id,
                "volunteerId": row.volunteer_id,
                "accountId": account_id,
                "status": str(row.status),
            },
        )
    )


# --- the mutations --------------------------------------------------------------------------------------


async def apply_to_team(services: Services, viewer: Viewer, team_id: int) -> TeamMembership:
    volunteer_id = _volunteer_id(viewer)
    async with services.writes() as session, session.begin():
        team = await session.get(Team, team_id)  # not scoped: volunteers apply to teams they cannot see yet
        if team is None:
            raise AppError("NOT_FOUND", field="teamId")
        _check_joinable(team)
        await _live(session, services, team.region_code, "teamId")
        row = await _membership_of(session, team_id, volunteer_id)
        if row is None:
            return await _add(session, team, volunteer_id, MembershipStatus.APPLYING)
        match row.status:
            case MembershipStatus.JOINED:
                raise AppError("INVALID_STATE", key="ALREADY_MEMBER", field="teamId")
            case MembershipStatus.APPLYING:
                raise AppError("INVALID_STATE", key="ALREADY_APPLIED", field="teamId")
            case MembershipStatus.INVITED:
                _join(row, utcnow())
            case _:
                _restart(row, MembershipStatus.APPLYING, utcnow())
    return row


async def decide_application(
    services: Services, viewer: Viewer, membership_id: int, approve: bool, reason: str | None
) -> TeamMembership:
    reason = (reason or "").strip()[:REASON_MAX]
    async with services.writes() as session, session.begin():
        row = await _visible_membership(session, viewer, membership_id)
        _check_admin_of(viewer, row)
        await _live(session, services, row.region_code, "membershipId")
        if row.status != MembershipStatus.APPLYING:
            raise AppError("INVALID_STATE", field="membershipId")
        if not approve and not reason:
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        if approve:
            team = await session.get(Team, row.team_id)
            assert team is not None
            _check_joinable(team)
            _join(row, utcnow())
        else:
            row.status = MembershipStatus.REJECTED
        row.decision_reason = reason
    return row


async def invite_volunteer(
    services: Services, viewer: Viewer, team_id: int, volunteer_number: str
) -> TeamMembership:
    async with services.writes() as session, session.begin():
        team = await _administered_team(session, viewer, team_id)
        _check_joinable(team)
        await _live(session, services, team.region_code, "teamId")
        number = volunteer_number.strip()
        volunteer = (  # not scoped: admins invite people who are not theirs yet
            await session.execute(select(Volunteer).where(col(Volunteer.volunteer_number) == number))
        ).scalar_one_or_none()
        if volunteer is None or volunteer.id is None:
            raise AppError("NOT_FOUND", field="volunteerNumber")
        row = await _membership_of(session, team_id, volunteer.id)
        if row is not None and row.status == MembershipStatus.JOINED:
            raise AppError("INVALID_STATE", key="ALREADY_MEMBER", field="volunteerNumber")
        if row is not None and row.status == MembershipStatus.APPLYING:
            _join(row, utcnow())  # the volunteer asked already
            return row
        if volunteer.invite_consent == InviteConsent.AUTO_REJECT:
            raise AppError("INVALID_STATE", key="INVITATION_DECLINED", field="volunteerNumber")
        status = (
            MembershipStatus.JOINED
            if volunteer.invite_consent == InviteConsent.AUTO_ACCEPT
            else MembershipStatus.INVITED
        )
        if row is None:
            return await _add(session, team, volunteer.id, status)
        _restart(row, status, utcnow())
    return row


async def respond_to_invitation(
    services: Services, viewer: Viewer, membership_id: int, accept: bool
) -> TeamMembership:
    volunteer_id = _volunteer_id(viewer)
    async with services.writes() as session, session.begin():
        row = await _visible_membership(session, viewer, membership_id)
        if row.volunteer_id != volunteer_id:
            raise AppError("FORBIDDEN", field="membershipId")
        await _live(session, services, row.region_code, "membershipId")
        if row.status != MembershipStatus.INVITED:
            raise AppError("INVALID_STATE", field="membershipId")
        if accept:
            team = await session.get(Team, row.team_id)
            assert team is not None
            _check_joinable(team)
            _join(row, utcnow())
        else:
            row.status = MembershipStatus.REJECTED
    return row


async def leave_team(services: Services, viewer: Viewer, team_id: int, request_id: str) -> TeamMembership:
    volunteer_id = _volunteer_id(viewer)
    async with services.writes() as session, session.begin():
        row = await _membership_of(session, team_id, volunteer_id)
        if row is None or row.status in (MembershipStatus.LEFT, MembershipStatus.REJECTED):
            raise AppError("INVALID_STATE", key="NOT_A_MEMBER", field="teamId")
        await _live(session, services, row.region_code, "teamId")
        if row.status == MembershipStatus.INVITED:
            raise AppError("INVALID_STATE", field="teamId")
        was_admin = row.status == MembershipStatus.JOINED and row.role == MemberRole.ADMIN
        if was_admin:  # the last ADMIN-role member stays
            others = select(col(TeamMembership.id)).where(
                col(TeamMembership.team_id) == team_id,
                col(TeamMembership.status) == MembershipStatus.JOINED,
                col(TeamMembership.role) == MemberRole.ADMIN,
                col(TeamMembership.id) != row.id,
            )
            if not (await session.execute(others.with_for_update())).first():
                raise AppError("INVALID_STATE", key="LAST_ADMIN", field="teamId")
        joined = row.status == MembershipStatus.JOINED
        revoked = joined and await _revoke(session, team_id, viewer.account_id, "teamId")
        row.status, row.left_at, row.role = MembershipStatus.LEFT, utcnow(), MemberRole.MEMBER
        if was_admin or revoked:
            _audit(session, viewer, row, viewer.account_id, request_id)
    return row


async def set_member_role(
    services: Services, viewer: Viewer, membership_id: int, role: MemberRole, request_id: str
) -> TeamMembership:
    async with services.writes() as session, session.begin():
        row = await _visible_membership(session, viewer, membership_id)
        _check_admin_of(viewer, row)
        await _live(session, services, row.region_code, "membershipId")
        if row.status != MembershipStatus.JOINED:
            raise AppError("INVALID_STATE", key="NOT_A_MEMBER", field="membershipId")
        volunteer = await session.get(Volunteer, row.volunteer_id)
        account_id = volunteer.account_id if volunteer is not None else None
        if role is MemberRole.ADMIN:
            team = await session.get(Team, row.team_id)
            assert team is not None
            changed = account_id is not None and await _grant(session, viewer, team, account_id)
        else:
            changed = await _revoke(session, row.team_id, account_id, "membershipId")
        if changed or row.role != role:
            row.role = role
            _audit(session, viewer, row, account_id, request_id)
    return row


async def set_invite_consent(services: Services, viewer: Viewer, consent: InviteConsent) -> InviteConsent:
    volunteer_id = _volunteer_id(viewer)
    async with services.writes() as session, session.begin():
        volunteer = await session.get(Volunteer, volunteer_id, with_for_update=True)
        if volunteer is None:
            raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
        await _live(session, services, volunteer.region_code, "consent")
        volunteer.invite_consent, volunteer.updated_at = consent, utcnow()
    return consent
