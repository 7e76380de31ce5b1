"""Root queries. Every field declares who may use it; every list goes through ``scope()``."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry import relay

import models as m
from schema.certificates import CertificateQuery
from schema.changes import ChangeFeedQuery
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.pagination import Connection
from schema.permissions import in_jurisdiction, requires
from schema.projects import PublicProjectQuery
from schema.registration import RolloutQuery
from schema.statistics import StatisticsQuery
from schema.supervision import SupervisionQuery
from schema.trial_feedback import TrialFeedbackQuery
from schema.types.account import Viewer
from schema.types.audit import AuditEvent, AuditEventFilter
from schema.types.base import build, root_list
from schema.types.project import (
    Attendance,
    AttendanceFilter,
    Post,
    PostFilter,
    Project,
    ProjectFilter,
    ProjectOrder,
    SignUp,
    SignUpFilter,
)
from schema.types.record import (
    Certificate,
    CertificateFilter,
    CorrectionRequest,
    CorrectionRequestFilter,
    ServiceRecord,
    ServiceRecordFilter,
    ServiceRecordOrder,
)
from schema.types.region import Region, RegionFilter, RegionLevel, RegionOrder, region_by_code
from schema.types.registry import parse_global_id
from schema.types.team import MembershipFilter, Team, TeamFilter, TeamMembership, TeamOrder
from schema.types.volunteer import Volunteer, VolunteerFilter, VolunteerOrder
from schema.viewer_info import viewer_info

PUBLIC = requires(Requirement.PUBLIC)
SIGNED_IN = requires(Requirement.AUTHENTICATED)
MAX_NODES = 100


async def _node(info: Info, id: str) -> relay.Node | None:
    kind, key = parse_global_id(id)
    row = await info.context.loaders.by_key(kind.model, kind.key).load(key)
    return None if row is None else build(kind.cls, row)


@strawberry.type
class RegionQuery:
    @strawberry.field(description="A region by its 12-digit code (行政区划)", extensions=[PUBLIC])
    async def region(self, info: Info, code: str) -> Region | None:
        region = await region_by_code(info, code)
        if region is None:
            raise AppError("NOT_FOUND", field="code")
        return region

    @strawberry.field(
        description="Regions; provinces unless filtered by level (行政区划列表)", extensions=[PUBLIC]
    )
    async def regions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: RegionFilter | None = None,
        order_by: list[RegionOrder] | None = None,
    ) -> Connection[Region]:
        return await root_list(
            info, Region, m.Region, first, after, filter or RegionFilter(level=RegionLevel.PROVINCE), order_by
        )


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global ID; NOT_FOUND when absent or outside your scope (按全局 ID 查询)",
        extensions=[PUBLIC],
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        node = await _node(info, id)
        if node is None:
            raise AppError("NOT_FOUND", field="id")
        return node

    @strawberry.field(
        description="Objects by global IDs, null where absent or outside your scope (批量按 ID 查询)",
        extensions=[PUBLIC],
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise AppError("BAD_USER_INPUT", key="BAD_PAGE_SIZE", field="ids", max=MAX_NODES)
        return list(await asyncio.gather(*(_node(info, i) for i in ids)))

    @strawberry.field(description="The signed-in viewer; null when anonymous (当前用户)", extensions=[PUBLIC])
    def viewer(self, info: Info) -> Viewer | None:
        return viewer_info(info.context.viewer)


@strawberry.type
class ManagementQuery:
    @strawberry.field(
        description="Volunteers in your scope (志愿者列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def volunteers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: VolunteerFilter | None = None,
        order_by: list[VolunteerOrder] | None = None,
    ) -> Connection[Volunteer]:
        return await root_list(info, Volunteer, m.Volunteer, first, after, filter, order_by)

    @strawberry.field(description="Teams in your scope (队伍列表)", extensions=[SIGNED_IN, in_jurisdiction()])
    async def teams(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: TeamFilter | None = None,
        order_by: list[TeamOrder] | None = None,
    ) -> Connection[Team]:
        return await root_list(info, Team, m.Team, first, after, filter, order_by)

    @strawberry.field(
        description="Team memberships in your scope (成员关系)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def memberships(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: MembershipFilter | None = None,
    ) -> Connection[TeamMembership]:
        return await root_list(info, TeamMembership, m.TeamMembership, first, after, filter)

    @strawberry.field(
        description="Projects in your scope (项目列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def projects(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProjectFilter | None = None,
        order_by: list[ProjectOrder] | None = None,
    ) -> Connection[Project]:
        return await root_list(info, Project, m.Project, first, after, filter, order_by)

    @strawberry.field(description="Posts in your scope (岗位列表)", extensions=[SIGNED_IN, in_jurisdiction()])
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None, filter: PostFilter | None = None
    ) -> Connection[Post]:
        return await root_list(info, Post, m.Post, first, after, filter)

    @strawberry.field(
        description="Sign-ups in your scope (报名列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def sign_ups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: SignUpFilter | None = None,
    ) -> Connection[SignUp]:
        return await root_list(info, SignUp, m.SignUp, first, after, filter)

    @strawberry.field(
        description="Attendance in your scope (签到列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def attendances(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AttendanceFilter | None = None,
    ) -> Connection[Attendance]:
        return await root_list(info, Attendance, m.Attendance, first, after, filter)

    @strawberry.field(
        description="Service records in your scope (服务记录列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def service_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ServiceRecordFilter | None = None,
        order_by: list[ServiceRecordOrder] | None = None,
    ) -> Connection[ServiceRecord]:
        return await root_list(info, ServiceRecord, m.ServiceRecord, first, after, filter, order_by)

    @strawberry.field(
        description="Certificates in your scope (证明列表)", extensions=[SIGNED_IN, in_jurisdiction()]
    )
    async def certificates(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CertificateFilter | None = None,
    ) -> Connection[Certificate]:
        return await root_list(info, Certificate, m.Certificate, first, after, filter)

    @strawberry.field(
        description="Correction requests in your scope (更正申请列表)",
        extensions=[SIGNED_IN, in_jurisdiction()],
    )
    async def correction_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CorrectionRequestFilter | None = None,
    ) -> Connection[CorrectionRequest]:
        return await root_list(info, CorrectionRequest, m.CorrectionRequest, first, after, filter)

    @strawberry.field(
        description="Audit events in your jurisdiction (审计日志)",
        extensions=[requires(Requirement.REGION_ADMIN), in_jurisdiction()],
    )
    async def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent]:
        return await root_list(info, AuditEvent, m.AuditEvent, first, after, filter)

    @strawberry.field(description="A volunteer by public number (按志愿者编号查询)", extensions=[SIGNED_IN])
    async def volunteer_by_number(self, info: Info, number: str) -> Volunteer | None:
        row = await info.context.loaders.by_key(m.Volunteer, "volunteer_number").load(number)
        if row is None:
            raise AppError("NOT_FOUND", field="number")
        return build(Volunteer, row)

    @strawberry.field(description="A team by credit code (按统一社会信用代码查询)", extensions=[SIGNED_IN])
    async def team_by_credit_code(self, info: Info, credit_code: str) -> Team | None:
        row = await info.context.loaders.by_key(m.Team, "credit_code").load(credit_code.upper())
        if row is None:
            raise AppError("NOT_FOUND", field="creditCode")
        return build(Team, row)


@strawberry.type
class Query(
    RegionQuery,
    NodeQuery,
    ManagementQuery,
    RolloutQuery,
    CertificateQuery,
    PublicProjectQuery,
    StatisticsQuery,
    ChangeFeedQuery,
    TrialFeedbackQuery,
    SupervisionQuery,
):
    pass
