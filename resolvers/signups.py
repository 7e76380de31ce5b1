"""Sign-ups (报名) for posts: signing up and cancelling, the team's approval and rejection, invitations, and
the waitlist with automatic promotion.

Places are counted on the post (``post.taken`` = PENDING + ACCEPTED sign-ups) and taken with ONE conditional
statement, ``UPDATE post SET taken = taken + 1 WHERE id = :id AND taken < quota RETURNING taken``, inside the
write transaction: the database decides, so the quota holds under any concurrency and nothing reads the count
and then writes it. No row back means the post is full and the sign-up waits (WAITLISTED). A released place
goes to the earliest waitlisted sign-up of the post in the same transaction, else ``taken - 1``.

Whoever takes or releases a place first locks the post row (``SELECT … FOR UPDATE``; the count is not read).
On PostgreSQL a conditional UPDATE that matches nothing locks nothing, so without it a sign-up could decide
"full" and join the waitlist while a concurrent cancellation, not yet seeing that sign-up, gives its place
back as ``taken - 1``: a waitlisted volunteer next to a free place. With the lock the two take turns, and each
statement after the lock sees what the other committed.

    none · CANCELLED · REJECTED  --signUp-->  ACCEPTED | PENDING (project requires approval) | WAITLISTED (full)
    PENDING  --approve-->  ACCEPTED          PENDING · WAITLISTED  --reject-->  REJECTED
    PENDING · ACCEPTED · WAITLISTED  --cancelSignUp-->  CANCELLED
    none · CANCELLED · REJECTED  --inviteToPost-->  INVITED (consent ASK) | ACCEPTED · WAITLISTED (AUTO_ACCEPT)
    INVITED  --respond(accept) / signUp-->  ACCEPTED | WAITLISTED       INVITED --respond(decline)--> REJECTED

An invitation is the team's own choice: accepting one skips the approval step and the sign-up scope, but not
the real-name, age and schedule checks. A waitlisted sign-up is promoted to PENDING when the project requires
approval, else ACCEPTED. The waitlist order is ``created_at`` (set when the sign-up is made or remade), then id.
Promotion does not run the gates again: they were checked when the volunteer joined the waitlist (a schedule
clash that arose meanwhile is the volunteer's to resolve by cancelling one of the two).

Locks, always in this order so that no two writers wait on each other in a circle: the project (``FOR KEY
SHARE``: a concurrent ``cancelProject`` waits for in-flight sign-ups and they wait for it), the volunteer
(``FOR UPDATE``: one sign-up at a time per person, so the schedule check cannot race), the sign-up row, the
post, and last the waitlisted sign-up being promoted. SQLite has no row locks; its write sessions take the
database's write lock first (``BEGIN IMMEDIATE``), so writers queue.

Error codes: eligibility is FORBIDDEN with a reason (REAL_NAME_REQUIRED, AGE_NOT_ALLOWED, SIGNUP_SCOPE,
NOT_A_VOLUNTEER); a refused transition is INVALID_STATE with a reason where one applies (PROJECT_NOT_OPEN,
ALREADY_SIGNED_UP, SCHEDULE_CLASH, INVITATION_DECLINED, TEAM_NOT_ACTIVE, SIGN_UP_ATTENDED). Posts of projects
that are not published yet are NOT_FOUND to volunteers (drafts are not public).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.jurisdiction import contains, jurisdiction_prefix
from auth.scope import scope
from auth.viewer import Viewer
from models import Attendance, AuditEvent, Post, Project, SignUp, Team, TeamMembership, Volunteer
from models.columns import utcnow
from models.enums import (
    InviteConsent,
    MembershipStatus,
    ProjectStatus,
    RealNameStatus,
    SignUpScope,
    SignUpStatus,
    TeamStatus,
    TeamVerification,
)
from resolvers.audit import audit_event
from resolvers.idempotency import once
from resolvers.people import age_on
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError

REASON_MAX = 500
HOLDS_PLACE = (SignUpStatus.PENDING, SignUpStatus.ACCEPTED)
ACTIVE = (SignUpStatus.PENDING, SignUpStatus.ACCEPTED, SignUpStatus.WAITLISTED, SignUpStatus.INVITED)
"""Sign-ups that still tie the volunteer to the post (one per post; a CANCELLED or REJECTED row is reused)."""


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """A post with its project, as a sign-up sees them."""

    post: Post
    project: Project

    @property
    def starts_at(self) -> datetime:
        return aware(self.post.starts_at or self.project.starts_at)

    @property
    def ends_at(self) -> datetime:
        return aware(self.post.ends_at or self.project.ends_at)


# --- places ---------------------------------------------------------------------------------------------


async def lock_post(session: AsyncSession, post_id: int) -> None:
    """Take the post's row lock (nothing is read): takers and releasers of its places go one at a time."""
    await session.execute(select(col(Post.id)).where(col(Post.id) == post_id).with_for_update())


async def take_place(session: AsyncSession, post_id: int) -> bool:
    """One conditional UPDATE: True when a place was free and is now held (the post is locked already)."""
    statement = (
        update(Post)
        .where(col(Post.id) == post_id, col(Post.taken) < col(Post.quota))
        .values(taken=col(Post.taken) + 1)
        .returning(col(Post.taken))
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None


def _promoted_status(project: Project) -> SignUpStatus:
    return SignUpStatus.PENDING if project.requires_approval else SignUpStatus.ACCEPTED


async def _next_waiting(session: AsyncSession, post_id: int) -> SignUp | None:
    statement = (
        select(SignUp)
        .where(col(SignUp.post_id) == post_id, col(SignUp.status) == SignUpStatus.WAITLISTED)
        .order_by(col(SignUp.created_at), col(SignUp.id))
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _hold(row: SignUp, status: SignUpStatus, now: datetime) -> None:
    row.status = status
    row.decided_at = now if status is SignUpStatus.ACCEPTED else None


async def release_place(session: AsyncSession, post_id: int, project: Project) -> SignUp | None:
    """A held place is given up: the earliest waitlisted sign-up takes it (returned), else ``taken - 1``.
    Once recruitment is over (the project no longer PUBLISHED) nobody moves up."""
    await lock_post(session, post_id)
    recruiting = project.status == ProjectStatus.PUBLISHED
    waiting = await _next_waiting(session, post_id) if recruiting else None
    if waiting is not None:
        _hold(waiting, _promoted_status(project), utcnow())
        return waiting
    await session.execute(
        update(Post)
        .where(col(Post.id) == post_id, col(Post.taken) > 0)
        .values(taken=col(Post.taken) - 1)
        .execution_options(synchronize_session=False)
    )
    return None


async def fill_from_waitlist(session: AsyncSession, post_id: int, project: Project) -> int:
    """After a quota grows: waitlisted sign-ups take the new places in order; returns how many moved up."""
    await lock_post(session, post_id)
    moved = 0
    while (waiting := await _next_waiting(session, post_id)) is not None and await take_place(
        session, post_id
    ):
        _hold(waiting, _promoted_status(project), utcnow())
        await session.flush()
        moved += 1
    return moved


# --- lookups and checks ---------------------------------------------------------------------------------


def _volunteer_id(viewer: Viewer) -> int:
    if viewer.volunteer_id is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    return viewer.volunteer_id


async def _target(session: AsyncSession, post_id: int) -> Target:
    """The post and its project, unscoped (volunteers sign up for posts they cannot read yet): public facts
    only. The project is locked FOR KEY SHARE against a concurrent cancellation."""
    statement = (
        select(Post, Project)
        .join(Project, col(Project.id) == col(Post.project_id))
        .where(col(Post.id) == post_id)
        .with_for_update(read=True, key_share=True, of=Project)
    )
    found = (await session.execute(statement)).first()
    if found is None or found[1].status in (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED):
        raise AppError("NOT_FOUND", field="postId")
    return Target(found[0], found[1])


def _check_open(target: Target, field: str) -> None:
    if target.project.status != ProjectStatus.PUBLISHED or target.ends_at <= utcnow():
        raise AppError("INVALID_STATE", key="PROJECT_NOT_OPEN", field=field)


async def _check_team(session: AsyncSession, team_id: int, field: str) -> None:
    team = await session.get(Team, team_id)
    if (
        team is None
        or team.verification_status != TeamVerification.APPROVED
        or team.status != TeamStatus.ACTIVE
    ):
        raise AppError("INVALID_STATE", key="TEAM_NOT_ACTIVE", field=field)


async def _locked_volunteer(session: AsyncSession, volunteer_id: int) -> Volunteer:
    volunteer = await session.get(Volunteer, volunteer_id, with_for_update=True)
    if volunteer is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    return volunteer


async def _check_scope(session: AsyncSession, volunteer: Volunteer, project: Project) -> None:
    match project.signup_scope:
        case SignUpScope.TEAM_MEMBERS:
            member = select(col(TeamMembership.id)).where(
                col(TeamMembership.team_id) == project.team_id,
                col(TeamMembership.volunteer_id) == volunteer.id,
                col(TeamMembership.status) == MembershipStatus.JOINED,
            )
            allowed = (await session.execute(member)).first() is not None
        case SignUpScope.REGION:
            region = project.signup_region_code or project.region_code
            allowed = contains(jurisdiction_prefix(region), volunteer.region_code)
        case _:
            allowed = True
    if not allowed:
        raise AppError("FORBIDDEN", key="SIGNUP_SCOPE", field="postId")


async def _check_person(session: AsyncSession, volunteer: Volunteer, target: Target, field: str) -> None:
    """Real name, age at the project's start, and no other held place at an overlapping time."""
    if volunteer.real_name_status != RealNameStatus.PASSED:
        raise AppError("FORBIDDEN", key="REAL_NAME_REQUIRED", field=field)
    project = target.project
    if project.min_age is not None or project.max_age is not None:
        age = age_on(volunteer.birth_date, aware(project.starts_at).date()) if volunteer.birth_date else None
        too_young = project.min_age is not None and (age is None or age < project.min_age)
        too_old = project.max_age is not None and (age is None or age > project.max_age)
        if too_young or too_old:
            raise AppError("FORBIDDEN", key="AGE_NOT_ALLOWED", field=field)
    starts = func.coalesce(col(Post.starts_at), col(Project.starts_at))
    ends = func.coalesce(col(Post.ends_at), col(Project.ends_at))
    clash = (
        select(col(SignUp.id))
        .join(Post, col(Post.id) == col(SignUp.post_id))
        .join(Project, col(Project.id) == col(SignUp.project_id))
        .where(
            col(SignUp.volunteer_id) == volunteer.id,
            col(SignUp.status).in_(HOLDS_PLACE),
            col(SignUp.post_id) != target.post.id,
            starts < target.ends_at,
            ends > target.starts_at,
        )
        .limit(1)
    )
    if (await session.execute(clash)).first() is not None:
        raise AppError("INVALID_STATE", key="SCHEDULE_CLASH", field=field)


async def _existing(session: AsyncSession, post_id: int, volunteer_id: int) -> SignUp | None:
    statement = select(SignUp).where(col(SignUp.post_id) == post_id, col(SignUp.volunteer_id) == volunteer_id)
    return (await session.execute(statement.with_for_update())).scalar_one_or_none()


async def _place(session: AsyncSession, row: SignUp, target: Target, *, approved: bool) -> None:
    """Take a place for ``row`` (ACCEPTED, or PENDING when approval is still needed) or put it on the
    waitlist. The place is taken before ``created_at`` is stamped, so the waitlist follows the order in
    which the post's row lock was granted."""
    assert target.post.id is not None
    await lock_post(session, target.post.id)
    taken = await take_place(session, target.post.id)
    now = utcnow()
    row.created_at, row.cancelled_at, row.reason = now, None, ""
    if not taken:
        row.status, row.decided_at = SignUpStatus.WAITLISTED, None
    else:
        _hold(row, SignUpStatus.ACCEPTED if approved else _promoted_status(target.project), now)


def _new_row(target: Target, volunteer_id: int, status: SignUpStatus) -> SignUp:
    project = target.project
    return SignUp(
        post_id=target.post.id,  # type: ignore[arg-type]
        project_id=project.id,  # type: ignore[arg-type]
        team_id=project.team_id,
        volunteer_id=volunteer_id,
        region_code=project.region_code,
        status=status,
    )


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request created the (post, volunteer) row first
        raise AppError("INVALID_STATE", key="ALREADY_SIGNED_UP", field="postId") from None


def _audit(viewer: Viewer, action: str, row: SignUp, request_id: str, **detail: object) -> AuditEvent:
    return audit_event(
        viewer,
        action,
        row,
        request_id,
        {"postId": row.post_id, "volunteerId": row.volunteer_id, "status": str(row.status), **detail},
    )


# --- the volunteer's side -------------------------------------------------------------------------------


async def _sign_up(session: AsyncSession, services: Services, volunteer_id: int, post_id: int) -> int:
    target = await _target(session, post_id)
    _check_open(target, "postId")
    await _check_team(session, target.project.team_id, "postId")
    await ensure_live(
        session, target.project.region_code, services.settings.default_province_status, "postId"
    )
    volunteer = await _locked_volunteer(session, volunteer_id)
    row = await _existing(session, post_id, volunteer_id)
    invited = row is not None and row.status == SignUpStatus.INVITED
    if row is not None and row.status in ACTIVE and not invited:
        raise AppError("INVALID_STATE", key="ALREADY_SIGNED_UP", field="postId")
    if not invited:
        await _check_scope(session, volunteer, target.project)
    await _check_person(session, volunteer, target, "postId")
    if row is None:
        row = _new_row(target, volunteer_id, SignUpStatus.WAITLISTED)
        session.add(row)
    await _place(session, row, target, approved=invited)
    await _flush(session)
    assert row.id is not None
    return row.id


async def sign_up(services: Services, viewer: Viewer, post_id: int, key: str | None) -> int:
    """Sign the viewer up for a post; returns the sign-up's id (the stored one on a retry with the same key)."""
    volunteer_id = _volunteer_id(viewer)

    async def work(session: AsyncSession) -> dict[str, Any]:
        return {"signUpId": await _sign_up(session, services, volunteer_id, post_id)}

    result = await once(services, viewer, key, "signUp", {"postId": post_id}, work)
    return int(result["signUpId"])


async def _visible(session: AsyncSession, viewer: Viewer, sign_up_id: int) -> SignUp:
    """The sign-up through ``scope()``, not locked yet (``_locked`` takes the project first)."""
    statement = scope(select(SignUp).where(col(SignUp.id) == sign_up_id), SignUp, viewer)
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise AppError("NOT_FOUND", field="signUpId")
    return row


async def _locked(session: AsyncSession, row: SignUp) -> Target:
    """Lock the project (FOR KEY SHARE), then the sign-up row, re-read; returns its post and project."""
    statement = (
        select(Post, Project)
        .join(Project, col(Project.id) == col(Post.project_id))
        .where(col(Post.id) == row.post_id)
        .with_for_update(read=True, key_share=True, of=Project)
    )
    found = (await session.execute(statement)).one()
    await session.refresh(row, with_for_update=True)
    return Target(found[0], found[1])


async def _own(session: AsyncSession, viewer: Viewer, sign_up_id: int) -> tuple[SignUp, Target]:
    volunteer_id = _volunteer_id(viewer)
    row = await _visible(session, viewer, sign_up_id)
    if row.volunteer_id != volunteer_id:
        raise AppError("FORBIDDEN", field="signUpId")
    return row, await _locked(session, row)


async def _cancel(session: AsyncSession, services: Services, viewer: Viewer, sign_up_id: int) -> int:
    row, target = await _own(session, viewer, sign_up_id)
    await ensure_live(session, row.region_code, services.settings.default_province_status, "signUpId")
    if row.status not in (SignUpStatus.PENDING, SignUpStatus.ACCEPTED, SignUpStatus.WAITLISTED):
        raise AppError("INVALID_STATE", field="signUpId")
    _check_open(target, "signUpId")
    attended = select(col(Attendance.id)).where(col(Attendance.sign_up_id) == row.id).limit(1)
    if (await session.execute(attended)).first() is not None:
        raise AppError("INVALID_STATE", key="SIGN_UP_ATTENDED", field="signUpId")
    held = row.status in HOLDS_PLACE
    row.status, row.cancelled_at = SignUpStatus.CANCELLED, utcnow()
    await session.flush()
    if held:
        await release_place(session, row.post_id, target.project)
    assert row.id is not None
    return row.id


async def cancel_sign_up(services: Services, viewer: Viewer, sign_up_id: int, key: str | None) -> int:
    """The volunteer withdraws; a held place goes to the earliest waitlisted sign-up of the post."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        return {"signUpId": await _cancel(session, services, viewer, sign_up_id)}

    result = await once(services, viewer, key, "cancelSignUp", {"signUpId": sign_up_id}, work)
    return int(result["signUpId"])


async def respond_to_invitation(services: Services, viewer: Viewer, sign_up_id: int, accept: bool) -> SignUp:
    async with services.writes() as session, session.begin():
        row, target = await _own(session, viewer, sign_up_id)
        await ensure_live(session, row.region_code, services.settings.default_province_status, "signUpId")
        if row.status != SignUpStatus.INVITED:
            raise AppError("INVALID_STATE", field="signUpId")
        if not accept:
            row.status, row.decided_at = SignUpStatus.REJECTED, utcnow()
            return row
        _check_open(target, "signUpId")
        await _check_team(session, row.team_id, "signUpId")
        volunteer = await _locked_volunteer(session, row.volunteer_id)
        await _check_person(session, volunteer, target, "signUpId")
        await _place(session, row, target, approved=True)
    return row


# --- the team's side ------------------------------------------------------------------------------------


async def _administered(session: AsyncSession, viewer: Viewer, sign_up_id: int) -> tuple[SignUp, Target]:
    row = await _visible(session, viewer, sign_up_id)
    if row.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field="signUpId")
    return row, await _locked(session, row)


async def approve_sign_up(services: Services, viewer: Viewer, sign_up_id: int, request_id: str) -> SignUp:
    async with services.writes() as session, session.begin():
        row, target = await _administered(session, viewer, sign_up_id)
        await ensure_live(session, row.region_code, services.settings.default_province_status, "signUpId")
        if row.status != SignUpStatus.PENDING:
            raise AppError("INVALID_STATE", field="signUpId")
        _check_open(target, "signUpId")
        row.status, row.decided_at = SignUpStatus.ACCEPTED, utcnow()
        session.add(_audit(viewer, "SIGN_UP_APPROVED", row, request_id))
    return row


async def reject_sign_up(
    services: Services, viewer: Viewer, sign_up_id: int, reason: str, request_id: str
) -> SignUp:
    reason = reason.strip()[:REASON_MAX]
    async with services.writes() as session, session.begin():
        row, target = await _administered(session, viewer, sign_up_id)
        await ensure_live(session, row.region_code, services.settings.default_province_status, "signUpId")
        if row.status not in (SignUpStatus.PENDING, SignUpStatus.WAITLISTED):
            raise AppError("INVALID_STATE", field="signUpId")
        if not reason:
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        held = row.status in HOLDS_PLACE
        row.status, row.decided_at, row.reason = SignUpStatus.REJECTED, utcnow(), reason
        await session.flush()
        if held:
            await release_place(session, row.post_id, target.project)
        session.add(_audit(viewer, "SIGN_UP_REJECTED", row, request_id, reason=reason))
    return row


async def invite_to_post(
    services: Services, viewer: Viewer, post_id: int, volunteer_number: str, request_id: str
) -> SignUp:
    """Invite a volunteer by number, answered by the volunteer's consent setting: ASK → INVITED; AUTO_ACCEPT →
    a place (or the waitlist) at once; AUTO_REJECT → INVITATION_DECLINED and nothing is written."""
    async with services.writes() as session, session.begin():
        statement = scope(select(Post).where(col(Post.id) == post_id), Post, viewer)
        post = (await session.execute(statement)).scalar_one_or_none()
        if post is None:
            raise AppError("NOT_FOUND", field="postId")
        if post.team_id not in viewer.team_ids:
            raise AppError("FORBIDDEN", field="postId")
        target = await _target(session, post_id)
        _check_open(target, "postId")
        await _check_team(session, post.team_id, "postId")
        await ensure_live(session, post.region_code, services.settings.default_province_status, "postId")
        number = volunteer_number.strip()
        found = (  # not scoped: admins invite people who are not theirs yet
            await session.execute(select(col(Volunteer.id)).where(col(Volunteer.volunteer_number) == number))
        ).scalar_one_or_none()
        if found is None:
            raise AppError("NOT_FOUND", field="volunteerNumber")
        volunteer = await _locked_volunteer(session, found)
        if volunteer.invite_consent == InviteConsent.AUTO_REJECT:
            raise AppError("INVALID_STATE", key="INVITATION_DECLINED", field="volunteerNumber")
        assert volunteer.id is not None
        row = await _existing(session, post_id, volunteer.id)
        if row is not None and row.status in ACTIVE:
            raise AppError("INVALID_STATE", key="ALREADY_SIGNED_UP", field="volunteerNumber")
        await _check_person(session, volunteer, target, "volunteerNumber")
        if row is None:
            row = _new_row(target, volunteer.id, SignUpStatus.INVITED)
            session.add(row)
        if volunteer.invite_consent == InviteConsent.AUTO_ACCEPT:
            await _place(session, row, target, approved=True)
        else:
            row.status, row.created_at, row.decided_at = SignUpStatus.INVITED, utcnow(), None
            row.cancelled_at, row.reason = None, ""
        await _flush(session)
        session.add(_audit(viewer, "SIGN_UP_INVITED", row, request_id))
    return row
