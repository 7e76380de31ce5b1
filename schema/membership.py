"""Membership mutations (队伍成员): thin wrappers; the rules and transactions are in resolvers/membership.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import membership
from schema.context import Info
from schema.directives import Requirement
from schema.permissions import requires
from schema.types.base import build
from schema.types.enums import InviteConsent, MemberRole
from schema.types.registry import parse_global_id
from schema.types.team import TeamMembership

TeamId = Annotated[strawberry.ID, strawberry.argument(description="The team's global ID (队伍 ID)")]
MembershipId = Annotated[
    strawberry.ID, strawberry.argument(description="The membership's global ID (成员关系 ID)")
]


def _team(value: str) -> int:
    _, key = parse_global_id(value, expected="Team", field="teamId")
    return int(key)


def _membership(value: str) -> int:
    _, key = parse_global_id(value, expected="TeamMembership", field="membershipId")
    return int(key)


@strawberry.type
class MembershipMutation:
    @strawberry.mutation(
        description="Apply to join a team; accepts a pending invitation of that team (申请加入队伍)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def apply_to_team(self, info: Info, team_id: TeamId) -> TeamMembership:
        ctx = info.context
        row = await membership.apply_to_team(ctx.services, ctx.viewer, _team(team_id))
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="Approve or reject an application to your team; rejecting needs a reason (审核入队申请)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def decide_application(
        self,
        info: Info,
        membership_id: MembershipId,
        approve: Annotated[bool, strawberry.argument(description="Approve, or reject (是否通过)")],
        reason: Annotated[
            str | None, strawberry.argument(description="Reason; required to reject (审核意见)")
        ] = None,
    ) -> TeamMembership:
        ctx = info.context
        row = await membership.decide_application(
            ctx.services, ctx.viewer, _membership(membership_id), approve, reason
        )
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="Invite a volunteer to your team by volunteer number; answered by the volunteer's "
        "consent setting (邀请志愿者加入队伍)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def invite_volunteer(
        self,
        info: Info,
        team_id: TeamId,
        volunteer_number: Annotated[str, strawberry.argument(description="Volunteer number (志愿者编号)")],
    ) -> TeamMembership:
        ctx = info.context
        row = await membership.invite_volunteer(ctx.services, ctx.viewer, _team(team_id), volunteer_number)
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="Accept or decline an invitation to a team (回复入队邀请)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def respond_to_invitation(
        self,
        info: Info,
        membership_id: MembershipId,
        accept: Annotated[bool, strawberry.argument(description="Accept, or decline (是否接受)")],
    ) -> TeamMembership:
        ctx = info.context
        row = await membership.respond_to_invitation(
            ctx.services, ctx.viewer, _membership(membership_id), accept
        )
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="Leave a team or withdraw an application (退出队伍)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def leave_team(self, info: Info, team_id: TeamId) -> TeamMembership:
        ctx = info.context
        row = await membership.leave_team(ctx.services, ctx.viewer, _team(team_id), ctx.request_id)
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="Make a joined member an admin of your team or a plain member again; an admin's account "
        "gets the team admin role (设置成员角色)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def set_member_role(
        self,
        info: Info,
        membership_id: MembershipId,
        role: Annotated[MemberRole, strawberry.argument(description="New role (成员角色)")],
    ) -> TeamMembership:
        ctx = info.context
        row = await membership.set_member_role(
            ctx.services, ctx.viewer, _membership(membership_id), role, ctx.request_id
        )
        return build(TeamMembership, row)

    @strawberry.mutation(
        description="How your team invitations are answered (设置邀请方式)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def set_invite_consent(
        self,
        info: Info,
        consent: Annotated[InviteConsent, strawberry.argument(description="Invitation setting (邀请设置)")],
    ) -> InviteConsent:
        ctx = info.context
        return await membership.set_invite_consent(ctx.services, ctx.viewer, consent)
