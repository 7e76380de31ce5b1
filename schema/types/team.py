"""Teams (志愿服务队伍) and memberships (队伍成员)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models import Certificate as CertificateRow
from models import Project as ProjectRow
from models import ServiceRecord as ServiceRecordRow
from models import Team as TeamRow
from models import TeamMembership as MembershipRow
from models import Volunteer as VolunteerRow
from schema.context import Info
from schema.pagination import Connection, OrderDirection
from schema.types.base import children, decode_int_id, one, reference
from schema.types.enums import (
    LegalVerification,
    MemberRole,
    MembershipStatus,
    TeamStatus,
    TeamType,
    TeamVerification,
)
from schema.types.region import Region, region_by_code
from schema.types.volunteer import Volunteer

if TYPE_CHECKING:
    from schema.types.project import Project, ProjectFilter, ProjectOrder
    from schema.types.record import Certificate, CertificateFilter, ServiceRecord, ServiceRecordFilter

_PROJECT = "schema.types.project"
_RECORD = "schema.types.record"


@strawberry.input(description="Filter for teams (队伍筛选)")
class TeamFilter:
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (所属区域)")
    team_type: TeamType | None = strawberry.field(default=None, description="队伍类型")
    status: TeamStatus | None = strawberry.field(default=None, description="队伍状态")
    verification_status: TeamVerification | None = strawberry.field(default=None, description="审核状态")
    name_contains: str | None = strawberry.field(default=None, description="Name contains (名称包含)")
    credit_code: str | None = strawberry.field(default=None, description="统一社会信用代码")
    created_at_after: datetime | None = strawberry.field(default=None, description="Created from (成立起)")
    created_at_before: datetime | None = strawberry.field(default=None, description="Created before (成立止)")


@strawberry.enum(description="Team sort keys (队伍排序字段)")
class TeamOrderField(Enum):
    CREATED_AT = "created_at"
    NAME = "name"


@strawberry.input(description="Team ordering (队伍排序)")
class TeamOrder:
    field: TeamOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )


@strawberry.input(description="Filter for memberships (成员筛选)")
class MembershipFilter:
    status: MembershipStatus | None = strawberry.field(default=None, description="成员状态")
    status_in: list[MembershipStatus] | None = strawberry.field(
        default=None, description="Any of (成员状态之一)"
    )
    role: MemberRole | None = strawberry.field(default=None, description="成员角色")


@strawberry.federation.type(
    keys=["id", "creditCode"], description="Volunteer team or organisation (志愿服务队伍)"
)
class Team(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name (队伍名称)")
    team_type: TeamType = strawberry.field(description="Kind of team (队伍类型)")
    credit_code: str | None = strawberry.field(description="Unified social credit code (统一社会信用代码)")
    verification_status: TeamVerification = strawberry.field(description="Review status (审核状态)")
    status: TeamStatus = strawberry.field(description="Lifecycle status (队伍状态)")
    legal_verification: LegalVerification = strawberry.field(
        description="Check against the legal-person database (法人库核验)"
    )
    review_reason: str = strawberry.field(description="Reviewer's reason (审核意见)")
    reviewed_at: datetime | None = strawberry.field(description="Reviewed at (审核时间)")
    person_in_charge: str = strawberry.field(description="Person in charge (负责人)")
    contact_name: str = strawberry.field(description="Contact person (联系人)")
    description: str = strawberry.field(description="Introduction (队伍简介)")
    created_at: datetime = strawberry.field(description="Created at (创建时间)")
    row: strawberry.Private[TeamRow]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Team | None:
        if "creditCode" in representation:
            return await reference(
                info, cls, TeamRow, "credit_code", str(representation["creditCode"]).upper()
            )
        return await reference(info, cls, TeamRow, "id", decode_int_id(representation.get("id", ""), "Team"))

    @strawberry.field(description="Region the team belongs to (所属区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(description="Contact team an unregistered group is attached to (联络团体)")
    async def contact_team(self, info: Info) -> Team | None:
        return await one(info, Team, TeamRow, self.row.contact_team_id)

    @strawberry.field(description="Groups attached to this team as their contact team (联络的队伍)")
    async def attached_groups(
        self, info: Info, first: int | None = None, after: str | None = None, filter: TeamFilter | None = None
    ) -> Connection[Team]:
        return await children(info, Team, TeamRow, "contact_team_id", self.id, first, after, filter)

    @strawberry.field(description="Members and applicants (队伍成员)")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: MembershipFilter | None = None,
    ) -> Connection[TeamMembership]:
        return await children(info, TeamMembership, MembershipRow, "team_id", self.id, first, after, filter)

    @strawberry.field(description="Projects the team organises (志愿服务项目)")
    async def projects(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ProjectFilter, strawberry.lazy(_PROJECT)] | None = None,
        order_by: list[Annotated[ProjectOrder, strawberry.lazy(_PROJECT)]] | None = None,
    ) -> Connection[Annotated[Project, strawberry.lazy(_PROJECT)]]:
        from schema.types.project import Project

        return await children(info, Project, ProjectRow, "team_id", self.id, first, after, filter, order_by)

    @strawberry.field(description="Service records the team made (队伍记录的服务记录)")
    async def service_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ServiceRecordFilter, strawberry.lazy(_RECORD)] | None = None,
    ) -> Connection[Annotated[ServiceRecord, strawberry.lazy(_RECORD)]]:
        from schema.types.record import ServiceRecord

        return await children(info, ServiceRecord, ServiceRecordRow, "team_id", self.id, first, after, filter)

    @strawberry.field(description="Certificates the team issued (队伍出具的证明)")
    async def certificates(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[CertificateFilter, strawberry.lazy(_RECORD)] | None = None,
    ) -> Connection[Annotated[Certificate, strawberry.lazy(_RECORD)]]:
        from schema.types.record import Certificate

        return await children(info, Certificate, CertificateRow, "team_id", self.id, first, after, filter)


@strawberry.type(description="A volunteer's membership of a team (队伍成员关系)")
class TeamMembership(relay.Node):
    id: relay.NodeID[int]
    status: MembershipStatus = strawberry.field(description="Membership status (成员状态)")
    role: MemberRole = strawberry.field(description="Role in the team (成员角色)")
    applied_at: datetime = strawberry.field(description="Applied or invited at (申请时间)")
    joined_at: datetime | None = strawberry.field(description="Joined at (加入时间)")
    left_at: datetime | None = strawberry.field(description="Left at (退出时间)")
    decision_reason: str = strawberry.field(description="Why an application was rejected (审核意见)")
    row: strawberry.Private[MembershipRow]

    @strawberry.field(description="The team (队伍)")
    async def team(self, info: Info) -> Team | None:
        return await one(info, Team, TeamRow, self.row.team_id)

    @strawberry.field(description="The volunteer; null when outside your scope (志愿者)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        return await one(info, Volunteer, VolunteerRow, self.row.volunteer_id)
