"""Team membership through HTTP: every transition, every refusal (with its code, and nothing written), the
consent settings, the member roles and their TEAM_ADMIN grants, who may call what, and LEGACY provinces.

Everything happens on teams, accounts and volunteers made here, in 玄武区 and 秦淮区 (江苏, 32) and, for the
LEGACY refusal, 南明区 (贵州, 52): provinces the demo data does not use, so no other test sees these rows.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, func, or_, select
from starlette.applications import Starlette

import models as m
from models.db import SessionFactory
from models.enums import (
    InviteConsent,
    MemberRole,
    MembershipStatus,
    ProvinceStatus,
    Role,
    Sex,
    TeamStatus,
    TeamVerification,
)
from models.identifiers import make_resident_id, make_volunteer_number
from tests.conftest import Api, login
from tests.visibility import col, db_id, gid, insert_account

XUANWU, QINHUAI, NANMING = "320102000000", "320104000000", "520102000000"
GUIZHOU = "520000000000"
PASSWORD = "Member5hip#ok"
_serial = itertools.count(1)

FIELDS = """
fragment M on TeamMembership {
  id status role appliedAt joinedAt leftAt decisionReason team { id } volunteer { volunteerNumber }
}
"""
APPLY = "mutation($t: ID!) { applyToTeam(teamId: $t) { ...M } }" + FIELDS
DECIDE = (
    "mutation($m: ID!, $a: Boolean!, $r: String) "
    "{ decideApplication(membershipId: $m, approve: $a, reason: $r) { ...M } }" + FIELDS
)
INVITE = (
    "mutation($t: ID!, $n: String!) { inviteVolunteer(teamId: $t, volunteerNumber: $n) { ...M } }" + FIELDS
)
RESPOND = (
    "mutation($m: ID!, $a: Boolean!) { respondToInvitation(membershipId: $m, accept: $a) { ...M } }" + FIELDS
)
LEAVE = "mutation($t: ID!) { leaveTeam(teamId: $t) { ...M } }" + FIELDS
SET_ROLE = (
    "mutation($m: ID!, $r: MemberRole!) { setMemberRole(membershipId: $m, role: $r) { ...M } }" + FIELDS
)
SET_CONSENT = "mutation($c: InviteConsent!) { setInviteConsent(consent: $c) }"
VIEWER = "{ viewer { username grants { role teamId regionCode } volunteer { inviteConsent } } }"
MEMBERS = (
    "query($t: ID!) { node(id: $t) { ... on Team { members(first: 100) { nodes { id status role } } } } }"
)


@dataclass
class Who:
    username: str
    account_id: int | None
    token: str | None
    volunteer_id: int | None = None
    number: str = ""


@dataclass
class World:
    app: Starlette
    api: Api
    tokens: dict[str, str]
    """The demo accounts' access tokens, by username."""
    password_hash: str
    home: int
    """玄武区, approved and active; ``home_admin`` administers it."""
    other: int
    """秦淮区, approved and active; ``mixed`` administers it."""
    pending: int
    """玄武区, not yet approved."""
    suspended: int
    """玄武区, approved but suspended; ``home_admin`` administers it too."""
    home_admin: Who
    """TEAM_ADMIN of ``home`` and ``suspended``, without a volunteer profile."""
    mixed: Who
    """TEAM_ADMIN of ``other`` and REGION_ADMIN of 玄武区: sees ``home``'s rows but may not act on them."""

    @property
    def sessions(self) -> SessionFactory:
        factory: SessionFactory = self.app.state.services.sessions
        return factory

    def as_(self, who: Who | str | None) -> Api:
        """Signed in as ``who``: one of ours, a demo account by username, or anonymous (None)."""
        return self.api.as_(who.token if isinstance(who, Who) else self.tokens[who] if who else None)

    async def account(self, *grants: m.RoleGrant) -> tuple[str, int]:
        username = f"mb_{uuid.uuid4().hex[:12]}"
        return username, await insert_account(self.sessions, username, self.password_hash, *grants)

    async def admin(self, *grants: m.RoleGrant) -> Who:
        username, account_id = await self.account(*grants)
        return Who(username, account_id, await login(self.api, username, PASSWORD))

    async def volunteer(
        self, consent: InviteConsent = InviteConsent.ASK, region: str = XUANWU, account: bool = True
    ) -> Who:
        """A new volunteer (signed in when it has an account)."""
        n = next(_serial)
        username, account_id = await self.account() if account else ("", None)
        cipher = self.app.state.services.cipher
        id_number = make_resident_id(
            region[:6], date(1990 + n % 10, 1 + n % 12, 1 + n % 28), n % 500, Sex.MALE
        )
        number = make_volunteer_number(region, 90_000_000 + n * 1000 + uuid.uuid4().int % 1000)
        async with self.sessions() as session, session.begin():
            row = m.Volunteer(
                account_id=account_id,
                volunteer_number=number,
                name="测试志愿者",
                id_number_enc=cipher.encrypt(id_number, "volunteer.id_number"),
                id_number_hash=cipher.blind_index(id_number),
                region_code=region,
                invite_consent=consent,
            )
            session.add(row)
            await session.flush()
            volunteer_id = row.id
        token = await login(self.api, username, PASSWORD) if account else None
        return Who(username, account_id, token, volunteer_id, number)

    async def team(
        self,
        region: str,
        verification: TeamVerification = TeamVerification.APPROVED,
        status: TeamStatus = TeamStatus.ACTIVE,
    ) -> int:
        async with self.sessions() as session, session.begin():
            team = m.Team(
                name=f"测试队伍{next(_serial)}",
                region_code=region,
                verification_status=verification,
                status=status,
            )
            session.add(team)
            await session.flush()
            assert team.id is not None
            return team.id

    async def member(
        self,
        team: int,
        who: Who,
        status: MembershipStatus,
        role: MemberRole = MemberRole.MEMBER,
    ) -> str:
        """A membership written straight to the database; its global ID."""
        async with self.sessions() as session, session.begin():
            region = (
                await session.execute(select(m.Team.region_code).where(col(m.Team, "id") == team))
            ).scalar_one()
            row = m.TeamMembership(
                team_id=team, volunteer_id=who.volunteer_id, region_code=region, status=status, role=role
            )
            session.add(row)
            await session.flush()
            return gid("TeamMembership", row.id)


def team_grant(team: int, region: str) -> m.RoleGrant:
    return m.RoleGrant(account_id=0, role=Role.TEAM_ADMIN, team_id=team, region_code=region)


@pytest.fixture(scope="module")
async def world(app: Starlette, api: Api, tokens: dict[str, str]) -> World:
    password_hash = await asyncio.to_thread(app.state.services.passwords.hash, PASSWORD)
    w = World(app, api, tokens, password_hash, 0, 0, 0, 0, Who("", None, None), Who("", None, None))
    w.home = await w.team(XUANWU)
    w.other = await w.team(QINHUAI)
    w.pending = await w.team(XUANWU, verification=TeamVerification.PENDING_REVIEW)
    w.suspended = await w.team(XUANWU, status=TeamStatus.SUSPENDED)
    w.home_admin = await w.admin(team_grant(w.home, XUANWU), team_grant(w.suspended, XUANWU))
    region_grant = m.RoleGrant(account_id=0, role=Role.REGION_ADMIN, region_code=XUANWU)
    w.mixed = await w.admin(team_grant(w.other, QINHUAI), region_grant)
    return w


# --- helpers --------------------------------------------------------------------------------------------


def mine(model: Any) -> Any:
    """Rows in the provinces this module uses."""
    return or_(col(model, "region_code").like("32%"), col(model, "region_code").like("52%"))


async def snapshot(w: World) -> tuple[Any, ...]:
    """Everything a membership write could change in this module's world."""
    async with w.sessions() as session:
        memberships = (
            await session.execute(
                select(m.TeamMembership).where(mine(m.TeamMembership)).order_by(col(m.TeamMembership, "id"))
            )
        ).scalars()
        grants = (
            await session.execute(
                select(m.RoleGrant)
                .where(col(m.RoleGrant, "role") == Role.TEAM_ADMIN)
                .where(mine(m.RoleGrant))
                .order_by(col(m.RoleGrant, "id"))
            )
        ).scalars()
        consents = (
            await session.execute(
                select(m.Volunteer.id, m.Volunteer.invite_consent, m.Volunteer.updated_at)
                .where(mine(m.Volunteer))
                .order_by(col(m.Volunteer, "id"))
            )
        ).all()
        audit = (await session.execute(select(func.max(m.AuditEvent.id)))).scalar_one()
        return (
            [
                (r.id, r.status, r.role, r.applied_at, r.joined_at, r.left_at, r.decision_reason)
                for r in memberships
            ],
            [(g.id, g.account_id, g.team_id, g.revoked_at) for g in grants],
            [tuple(row) for row in consents],
            audit,
        )


async def refused(
    w: World,
    who: Who | str | None,
    query: str,
    variables: dict[str, Any],
    code: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The call fails with ``code`` (and ``reason``) and writes nothing."""
    before = await snapshot(w)
    body = await w.as_(who).gql(query, variables)
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert error["extensions"].get("reason") == reason, error
    assert await snapshot(w) == before, "a refused call wrote something"
    return error


async def ok(w: World, who: Who | str | None, query: str, variables: dict[str, Any]) -> Any:
    data = await w.as_(who).data(query, variables)
    return next(iter(data.values()))


async def membership_row(w: World, membership: str) -> m.TeamMembership:
    async with w.sessions() as session:
        row = await session.get(m.TeamMembership, db_id(membership))
        assert row is not None
        return row


async def grants_of(w: World, who: Who, team: int) -> list[m.RoleGrant]:
    async with w.sessions() as session:
        statement = select(m.RoleGrant).where(
            col(m.RoleGrant, "account_id") == who.account_id, col(m.RoleGrant, "team_id") == team
        )
        return list((await session.execute(statement)).scalars())


async def audit_events(w: World, membership: str) -> list[m.AuditEvent]:
    async with w.sessions() as session:
        statement = (
            select(m.AuditEvent)
            .where(col(m.AuditEvent, "subject_type") == "TeamMembership")
            .where(col(m.AuditEvent, "subject_id") == db_id(membership))
            .order_by(col(m.AuditEvent, "id"))
        )
        return list((await session.execute(statement)).scalars())


def team_id(w: World, team: int) -> dict[str, str]:
    return {"t": gid("Team", team)}


# --- applications ---------------------------------------------------------------------------------------


async def test_an_application_is_approved(world: World) -> None:
    w, v = world, await world.volunteer()
    # when a volunteer applies
    applied = await ok(w, v, APPLY, team_id(w, w.home))
    assert applied["status"] == "APPLYING" and applied["role"] == "MEMBER" and applied["joinedAt"] is None
    assert applied["team"] == {"id": gid("Team", w.home)}
    assert applied["volunteer"] == {"volunteerNumber": v.number}
    # then applying again is refused, and the team admin sees the applicant
    await refused(w, v, APPLY, team_id(w, w.home), "INVALID_STATE", "ALREADY_APPLIED")
    members = (await w.as_(w.home_admin).data(MEMBERS, team_id(w, w.home)))["node"]["members"]["nodes"]
    assert {"id": applied["id"], "status": "APPLYING", "role": "MEMBER"} in members
    # when the team admin approves
    joined = await ok(w, w.home_admin, DECIDE, {"m": applied["id"], "a": True})
    assert joined["id"] == applied["id"] and joined["status"] == "JOINED" and joined["joinedAt"] is not None
    # then the decision cannot be made twice and the volunteer cannot apply again
    await refused(w, w.home_admin, DECIDE, {"m": applied["id"], "a": False, "r": "晚了"}, "INVALID_STATE")
    await refused(w, v, APPLY, team_id(w, w.home), "INVALID_STATE", "ALREADY_MEMBER")


async def test_a_rejection_needs_a_reason_and_the_volunteer_may_apply_again(world: World) -> None:
    w, v = world, await world.volunteer()
    applied = await ok(w, v, APPLY, team_id(w, w.home))
    # a rejection without a reason (or a blank one) is refused
    for reason in (None, "", "   "):
        variables = {"m": applied["id"], "a": False, "r": reason}
        await refused(w, w.home_admin, DECIDE, variables, "BAD_USER_INPUT", "REASON_REQUIRED")
    # with a reason the application is rejected and the reason kept
    rejected = await ok(w, w.home_admin, DECIDE, {"m": applied["id"], "a": False, "r": " 名额已满 "})
    assert rejected["status"] == "REJECTED" and rejected["decisionReason"] == "名额已满"
    await refused(w, w.home_admin, DECIDE, {"m": applied["id"], "a": True}, "INVALID_STATE")
    # a new application reuses the row and starts over
    again = await ok(w, v, APPLY, team_id(w, w.home))
    assert again["id"] == applied["id"] and again["status"] == "APPLYING"
    assert again["decisionReason"] == "" and again["appliedAt"] > applied["appliedAt"]


async def test_applications_to_missing_or_inactive_teams_are_refused(world: World) -> None:
    w, v = world, await world.volunteer()
    await refused(w, v, APPLY, {"t": gid("Team", 987_654_321)}, "NOT_FOUND")
    await refused(w, v, APPLY, team_id(w, w.pending), "INVALID_STATE", "TEAM_NOT_ACTIVE")
    await refused(w, v, APPLY, team_id(w, w.suspended), "INVALID_STATE", "TEAM_NOT_ACTIVE")
    await refused(w, v, APPLY, {"t": gid("Volunteer", w.home)}, "BAD_USER_INPUT", "BAD_ID")
    await refused(w, v, APPLY, {"t": "not-an-id"}, "BAD_USER_INPUT", "BAD_ID")


async def test_an_applicant_withdraws_and_a_member_leaves(world: World) -> None:
    w, v = world, await world.volunteer()
    applied = await ok(w, v, APPLY, team_id(w, w.home))
    # withdrawing an application leaves the team
    left = await ok(w, v, LEAVE, team_id(w, w.home))
    assert left["id"] == applied["id"] and left["status"] == "LEFT" and left["leftAt"] is not None
    await refused(w, v, LEAVE, team_id(w, w.home), "INVALID_STATE", "NOT_A_MEMBER")
    await refused(w, w.home_admin, DECIDE, {"m": applied["id"], "a": True}, "INVALID_STATE")
    # a joined member leaves
    await ok(w, v, APPLY, team_id(w, w.home))
    await ok(w, w.home_admin, DECIDE, {"m": applied["id"], "a": True})
    left = await ok(w, v, LEAVE, team_id(w, w.home))
    assert left["status"] == "LEFT" and left["joinedAt"] is not None
    # never a member: the same answer as for a team that does not exist
    await refused(w, v, LEAVE, team_id(w, w.other), "INVALID_STATE", "NOT_A_MEMBER")
    await refused(w, v, LEAVE, {"t": gid("Team", 987_654_321)}, "INVALID_STATE", "NOT_A_MEMBER")
    # a pending invitation is answered, not left
    invited = await w.volunteer()
    await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": invited.number})
    await refused(w, invited, LEAVE, team_id(w, w.home), "INVALID_STATE")


# --- invitations ----------------------------------------------------------------------------------------


async def test_an_invitation_is_accepted_or_declined(world: World) -> None:
    w = world
    yes, no = await w.volunteer(), await w.volunteer()
    invite = {"t": gid("Team", w.home)}
    # consent ASK: the invitation waits for the volunteer
    first = await ok(w, w.home_admin, INVITE, {**invite, "n": yes.number})
    assert first["status"] == "INVITED" and first["volunteer"] == {"volunteerNumber": yes.number}
    second = await ok(w, w.home_admin, INVITE, {**invite, "n": f"  {no.number} "})
    assert second["status"] == "INVITED"
    # the invitee sees it; nobody else may answer it
    mine = await w.as_(yes).data("{ memberships(first: 10) { nodes { id status } } }")
    assert {"id": first["id"], "status": "INVITED"} in mine["memberships"]["nodes"]
    await refused(w, no, RESPOND, {"m": first["id"], "a": True}, "NOT_FOUND")
    # accepting joins, declining rejects; neither can be answered twice
    accepted = await ok(w, yes, RESPOND, {"m": first["id"], "a": True})
    assert accepted["status"] == "JOINED" and accepted["joinedAt"] is not None
    declined = await ok(w, no, RESPOND, {"m": second["id"], "a": False})
    assert declined["status"] == "REJECTED" and declined["joinedAt"] is None
    await refused(w, yes, RESPOND, {"m": first["id"], "a": False}, "INVALID_STATE")
    await refused(w, no, RESPOND, {"m": second["id"], "a": True}, "INVALID_STATE")
    # a member is not invited again; a volunteer who declined may be
    await refused(w, w.home_admin, INVITE, {**invite, "n": yes.number}, "INVALID_STATE", "ALREADY_MEMBER")
    again = await ok(w, w.home_admin, INVITE, {**invite, "n": no.number})
    assert again["id"] == second["id"] and again["status"] == "INVITED"


async def test_consent_settings_answer_invitations(world: World) -> None:
    w = world
    eager = await w.volunteer(InviteConsent.AUTO_ACCEPT)
    shy = await w.volunteer(InviteConsent.AUTO_REJECT)
    invite = {"t": gid("Team", w.home)}
    joined = await ok(w, w.home_admin, INVITE, {**invite, "n": eager.number})
    assert joined["status"] == "JOINED" and joined["joinedAt"] is not None
    await refused(
        w, w.home_admin, INVITE, {**invite, "n": shy.number}, "INVALID_STATE", "INVITATION_DECLINED"
    )
    # the volunteer changes the setting: now the invitation waits for an answer
    assert await ok(w, shy, SET_CONSENT, {"c": "ASK"}) == "ASK"
    assert (await w.as_(shy).data(VIEWER))["viewer"]["volunteer"]["inviteConsent"] == "ASK"
    assert (await ok(w, w.home_admin, INVITE, {**invite, "n": shy.number}))["status"] == "INVITED"
    # back to AUTO_REJECT: a renewed invitation is declined and the pending one stays as it was
    assert await ok(w, shy, SET_CONSENT, {"c": "AUTO_REJECT"}) == "AUTO_REJECT"
    await refused(
        w, w.home_admin, INVITE, {**invite, "n": shy.number}, "INVALID_STATE", "INVITATION_DECLINED"
    )
    # AUTO_ACCEPT turns a renewed invitation into a membership
    assert await ok(w, shy, SET_CONSENT, {"c": "AUTO_ACCEPT"}) == "AUTO_ACCEPT"
    assert (await ok(w, w.home_admin, INVITE, {**invite, "n": shy.number}))["status"] == "JOINED"
    async with w.sessions() as session:
        row = await session.get(m.Volunteer, shy.volunteer_id)
        assert row is not None and row.invite_consent == InviteConsent.AUTO_ACCEPT


async def test_an_invitation_and_an_application_meet(world: World) -> None:
    w = world
    applicant, invitee = await w.volunteer(), await w.volunteer()
    # the admin invites someone who applied: the application is accepted
    applied = await ok(w, applicant, APPLY, team_id(w, w.home))
    invited = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": applicant.number})
    assert invited["id"] == applied["id"] and invited["status"] == "JOINED"
    # the volunteer applies to a team that invited them: the invitation is accepted
    pending = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": invitee.number})
    joined = await ok(w, invitee, APPLY, team_id(w, w.home))
    assert joined["id"] == pending["id"] and joined["status"] == "JOINED"


async def test_invitations_that_are_refused(world: World) -> None:
    w, v = world, await world.volunteer()
    # an unknown number, an inactive team of the admin's
    await refused(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": "32010299999999"}, "NOT_FOUND")
    variables = {"t": gid("Team", w.suspended), "n": v.number}
    await refused(w, w.home_admin, INVITE, variables, "INVALID_STATE", "TEAM_NOT_ACTIVE")
    # a team the admin cannot see is missing; one it can see but does not administer is forbidden
    await refused(w, "demo_team", INVITE, {"t": gid("Team", w.home), "n": v.number}, "NOT_FOUND")
    await refused(w, w.mixed, INVITE, {"t": gid("Team", w.home), "n": v.number}, "FORBIDDEN")
    # a volunteer without an account can be invited (and is answered by their setting)
    offline = await w.volunteer(account=False)
    invited = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": offline.number})
    assert invited["status"] == "INVITED"


# --- roles ----------------------------------------------------------------------------------------------


async def test_a_member_made_admin_signs_in_as_team_admin(world: World) -> None:
    w = world
    v = await w.volunteer(InviteConsent.AUTO_ACCEPT)
    joined = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": v.number})
    # when the team admin makes the member an admin
    admin = await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "ADMIN"})
    assert admin["role"] == "ADMIN" and admin["status"] == "JOINED"
    # then the member's account holds a TEAM_ADMIN grant on the team's region, and the change is audited
    [grant] = await grants_of(w, v, w.home)
    assert grant.role == Role.TEAM_ADMIN and grant.region_code == XUANWU and grant.revoked_at is None
    assert grant.granted_by_id == w.home_admin.account_id
    [event] = await audit_events(w, joined["id"])
    assert (event.action, event.actor_id, event.region_code) == (
        "GRANT_TEAM_ADMIN",
        w.home_admin.account_id,
        XUANWU,
    )
    assert event.detail["accountId"] == v.account_id and event.detail["teamId"] == w.home
    # setting the same role again changes nothing
    before = await snapshot(w)
    assert (await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "ADMIN"}))["role"] == "ADMIN"
    assert await snapshot(w) == before
    # and after signing in again the member sees the grant and acts as the team's admin
    token = await login(w.api, v.username, PASSWORD)
    viewer = (await w.api.as_(token).data(VIEWER))["viewer"]
    assert {"role": "TEAM_ADMIN", "teamId": gid("Team", w.home), "regionCode": XUANWU} in viewer["grants"]
    promoted = Who(v.username, v.account_id, token, v.volunteer_id, v.number)
    applicant = await w.volunteer()
    applied = await ok(w, applicant, APPLY, team_id(w, w.home))
    assert (await ok(w, promoted, DECIDE, {"m": applied["id"], "a": True}))["status"] == "JOINED"
    # rows the new admin sees but that are not theirs to answer are forbidden
    invitee = await w.volunteer()
    invitation = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": invitee.number})
    await refused(w, promoted, RESPOND, {"m": invitation["id"], "a": True}, "FORBIDDEN")
    own = await ok(w, promoted, APPLY, team_id(w, w.other))
    await refused(w, promoted, DECIDE, {"m": own["id"], "a": True}, "FORBIDDEN")
    # when the member is made a plain member again, the grant is revoked and that is audited
    member = await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "MEMBER"})
    assert member["role"] == "MEMBER"
    [grant] = await grants_of(w, v, w.home)
    assert grant.revoked_at is not None
    assert [e.action for e in await audit_events(w, joined["id"])] == [
        "GRANT_TEAM_ADMIN",
        "REVOKE_TEAM_ADMIN",
    ]
    assert (await w.api.as_(await login(w.api, v.username, PASSWORD)).data(VIEWER))["viewer"]["grants"] == []
    # made admin again, the same grant row comes back
    await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "ADMIN"})
    [again] = await grants_of(w, v, w.home)
    assert again.id == grant.id and again.revoked_at is None


async def test_roles_of_members_without_account_and_of_non_members(world: World) -> None:
    w = world
    offline = await w.volunteer(InviteConsent.AUTO_ACCEPT, account=False)
    joined = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": offline.number})
    # a member without an account gets the role, no grant, and an audit event
    assert (await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "ADMIN"}))["role"] == "ADMIN"
    [event] = await audit_events(w, joined["id"])
    assert event.action == "GRANT_TEAM_ADMIN" and event.detail["accountId"] is None
    assert (await ok(w, w.home_admin, SET_ROLE, {"m": joined["id"], "r": "MEMBER"}))["role"] == "MEMBER"
    # only joined members have a role to set
    applicant, invitee = await w.volunteer(), await w.volunteer()
    applied = await ok(w, applicant, APPLY, team_id(w, w.home))
    invited = await ok(w, w.home_admin, INVITE, {"t": gid("Team", w.home), "n": invitee.number})
    for target in (applied["id"], invited["id"]):
        variables = {"m": target, "r": "ADMIN"}
        await refused(w, w.home_admin, SET_ROLE, variables, "INVALID_STATE", "NOT_A_MEMBER")
    await ok(w, applicant, LEAVE, team_id(w, w.home))
    variables = {"m": applied["id"], "r": "ADMIN"}
    await refused(w, w.home_admin, SET_ROLE, variables, "INVALID_STATE", "NOT_A_MEMBER")


async def test_a_team_keeps_its_last_admin(world: World) -> None:
    w = world
    team = await w.team(XUANWU)
    first, second = await w.volunteer(), await w.volunteer()
    # given a team whose only admin is a member holding the team's only grant
    first_id = await w.member(team, first, MembershipStatus.JOINED, MemberRole.ADMIN)
    second_id = await w.member(team, second, MembershipStatus.JOINED)
    async with w.sessions() as session, session.begin():
        grant = team_grant(team, XUANWU)
        grant.account_id = first.account_id  # type: ignore[assignment]
        session.add(grant)
    first.token = await login(w.api, first.username, PASSWORD)
    # the last admin can neither step down nor leave
    await refused(w, first, SET_ROLE, {"m": first_id, "r": "MEMBER"}, "INVALID_STATE", "LAST_ADMIN")
    await refused(w, first, LEAVE, team_id(w, team), "INVALID_STATE", "LAST_ADMIN")
    # with a second admin, the first may leave: the role and the grant go, audited
    await ok(w, first, SET_ROLE, {"m": second_id, "r": "ADMIN"})
    left = await ok(w, first, LEAVE, team_id(w, team))
    assert left["status"] == "LEFT" and left["role"] == "MEMBER"
    [revoked] = await grants_of(w, first, team)
    assert revoked.revoked_at is not None
    [event] = await audit_events(w, first_id)
    assert (event.action, event.actor_id, event.detail["status"]) == (
        "REVOKE_TEAM_ADMIN",
        first.account_id,
        "LEFT",
    )
    # now the second is the last one
    second.token = await login(w.api, second.username, PASSWORD)
    await refused(w, second, SET_ROLE, {"m": second_id, "r": "MEMBER"}, "INVALID_STATE", "LAST_ADMIN")
    await refused(w, second, LEAVE, team_id(w, team), "INVALID_STATE", "LAST_ADMIN")
    # a former admin who comes back starts as a plain member
    rejoined = await ok(w, first, APPLY, team_id(w, team))
    assert rejoined["id"] == first_id and rejoined["role"] == "MEMBER" and rejoined["leftAt"] is None


# --- who may call what ----------------------------------------------------------------------------------


@dataclass
class Targets:
    applying: str
    invited: str
    joined: str
    stranger: Who
    """A volunteer with no tie to ``home``."""


@pytest.fixture(scope="module")
async def targets(world: World) -> Targets:
    w = world
    applicant, invitee, member = await w.volunteer(), await w.volunteer(), await w.volunteer()
    return Targets(
        await w.member(w.home, applicant, MembershipStatus.APPLYING),
        await w.member(w.home, invitee, MembershipStatus.INVITED),
        await w.member(w.home, member, MembershipStatus.JOINED),
        await w.volunteer(),
    )


def _call(name: str, w: World, t: Targets) -> tuple[str, dict[str, Any]]:
    home = gid("Team", w.home)
    return {
        "applyToTeam": (APPLY, {"t": home}),
        "decideApplication": (DECIDE, {"m": t.applying, "a": True}),
        "inviteVolunteer": (INVITE, {"t": home, "n": t.stranger.number}),
        "respondToInvitation": (RESPOND, {"m": t.invited, "a": True}),
        "leaveTeam": (LEAVE, {"t": home}),
        "setMemberRole": (SET_ROLE, {"m": t.joined, "r": "ADMIN"}),
        "setInviteConsent": (SET_CONSENT, {"c": "AUTO_REJECT"}),
    }[name]


VOLUNTEER_FIELDS = ("applyToTeam", "respondToInvitation", "leaveTeam", "setInviteConsent")
TEAM_ADMIN_FIELDS = ("decideApplication", "inviteVolunteer", "setMemberRole")
MATRIX: list[tuple[str, str, str, str | None]] = [
    *((f, "anonymous", "UNAUTHENTICATED", None) for f in VOLUNTEER_FIELDS + TEAM_ADMIN_FIELDS),
    *((f, "demo_lixia", "FORBIDDEN", None) for f in VOLUNTEER_FIELDS + TEAM_ADMIN_FIELDS),
    *((f, "demo_ministry", "FORBIDDEN", None) for f in VOLUNTEER_FIELDS + TEAM_ADMIN_FIELDS),
    *((f, "home_admin", "FORBIDDEN", None) for f in VOLUNTEER_FIELDS),
    *((f, "demo_team", "FORBIDDEN", None) for f in VOLUNTEER_FIELDS),
    *((f, "demo_team", "NOT_FOUND", None) for f in TEAM_ADMIN_FIELDS),
    *((f, "mixed", "FORBIDDEN", None) for f in VOLUNTEER_FIELDS + TEAM_ADMIN_FIELDS),
    *((f, "stranger", "FORBIDDEN", None) for f in TEAM_ADMIN_FIELDS),
    ("respondToInvitation", "stranger", "NOT_FOUND", None),
    ("leaveTeam", "stranger", "INVALID_STATE", "NOT_A_MEMBER"),
]
"""(mutation, caller, code, reason) on ``home``'s rows; the callers' own successful cells are tested above.

``demo_team`` administers a 历下区 team and cannot see ``home``: its targets are missing. ``mixed`` administers
another team and sees ``home`` as the 玄武区 admin: its targets are visible but not its own."""


@pytest.mark.parametrize(("field", "caller", "code", "reason"), MATRIX)
async def test_who_may_call_each_mutation(
    world: World,
    targets: Targets,
    field: str,
    caller: str,
    code: str,
    reason: str | None,
) -> None:
    ours = {"home_admin": world.home_admin, "mixed": world.mixed, "stranger": targets.stranger}
    who = ours.get(caller) or (None if caller == "anonymous" else caller)
    query, variables = _call(field, world, targets)
    await refused(world, who, query, variables, code, reason)


# --- province rollout -----------------------------------------------------------------------------------


async def test_a_legacy_province_refuses_every_membership_write(world: World) -> None:
    w = world
    # given a 贵州 team with an admin, an applicant, an invitee, a member and a newcomer
    team = await w.team(NANMING)
    admin = await w.admin(team_grant(team, NANMING))
    applicant, invitee, member, newcomer = [await w.volunteer(region=NANMING) for _ in range(4)]
    applying = await w.member(team, applicant, MembershipStatus.APPLYING)
    invited = await w.member(team, invitee, MembershipStatus.INVITED)
    await w.member(team, member, MembershipStatus.JOINED)
    home = {"t": gid("Team", team)}
    calls = [
        (newcomer, APPLY, home),
        (admin, DECIDE, {"m": applying, "a": True}),
        (admin, INVITE, {**home, "n": newcomer.number}),
        (invitee, RESPOND, {"m": invited, "a": True}),
        (admin, SET_ROLE, {"m": applying, "r": "ADMIN"}),
        (member, LEAVE, home),
        (newcomer, SET_CONSENT, {"c": "AUTO_ACCEPT"}),
    ]
    # when 贵州 is still on the old system, every one of them is refused
    async with w.sessions() as session, session.begin():
        session.add(m.ProvinceRollout(province_code=GUIZHOU, status=ProvinceStatus.LEGACY))
    try:
        for who, query, variables in calls:
            await refused(w, who, query, variables, "PROVINCE_NOT_LIVE")
    finally:
        async with w.sessions() as session, session.begin():
            await session.execute(
                delete(m.ProvinceRollout).where(col(m.ProvinceRollout, "province_code") == GUIZHOU)
            )
    # and once it is live again they all go through (the role is set on the applicant, approved by then)
    for who, query, variables in calls:
        await ok(w, who, query, variables)
