"""Projects (志愿服务项目), posts (岗位), sign-in points (签到点), sign-ups (报名) and attendance (签到)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models import Attendance as AttendanceRow
from models import Post as PostRow
from models import Project as ProjectRow
from models import ServiceRecord as ServiceRecordRow
from models import SignInPoint as SignInPointRow
from models import SignUp as SignUpRow
from models import Team as TeamRow
from models import Volunteer as VolunteerRow
from schema.context import Info
from schema.directives import SensitiveKind
from schema.pagination import Connection, OrderDirection
from schema.permissions import sensitive
from schema.types.base import children, decode_int_id, one, reference
from schema.types.enums import (
    AttendanceMethod,
    AttendanceStatus,
    ProjectCategory,
    ProjectStatus,
    SignUpScope,
    SignUpStatus,
)
from schema.types.region import Region, region_by_code
from schema.types.team import Team
from schema.types.volunteer import Volunteer

if TYPE_CHECKING:
    from schema.types.record import ServiceRecord, ServiceRecordFilter

_RECORD = "schema.types.record"


@strawberry.input(description="Filter for projects (项目筛选)")
class ProjectFilter:
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (项目区域)")
    category: ProjectCategory | None = strawberry.field(default=None, description="服务类别")
    status: ProjectStatus | None = strawberry.field(default=None, description="项目状态")
    name_contains: str | None = strawberry.field(default=None, description="Name contains (名称包含)")
    starts_at_after: datetime | None = strawberry.field(default=None, description="Starts from (开始时间起)")
    starts_at_before: datetime | None = strawberry.field(
        default=None, description="Starts before (开始时间止)"
    )


@strawberry.enum(description="Project sort keys (项目排序字段)")
class ProjectOrderField(Enum):
    STARTS_AT = "starts_at"
    CREATED_AT = "created_at"
    NAME = "name"


@strawberry.input(description="Project ordering (项目排序)")
class ProjectOrder:
    field: ProjectOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )


@strawberry.input(description="Filter for posts (岗位筛选)")
class PostFilter:
    name_contains: str | None = strawberry.field(default=None, description="Name contains (名称包含)")


@strawberry.input(description="Filter for sign-ups (报名筛选)")
class SignUpFilter:
    status: SignUpStatus | None = strawberry.field(default=None, description="报名状态")
    status_in: list[SignUpStatus] | None = strawberry.field(default=None, description="Any of (报名状态之一)")


@strawberry.input(description="Filter for attendance (签到筛选)")
class AttendanceFilter:
    status: AttendanceStatus | None = strawberry.field(default=None, description="签到状态")
    method: AttendanceMethod | None = strawberry.field(default=None, description="签到方式")
    check_in_at_after: datetime | None = strawberry.field(
        default=None, description="Checked in from (签到起)"
    )
    check_in_at_before: datetime | None = strawberry.field(
        default=None, description="Checked in before (签到止)"
    )


@strawberry.federation.type(keys=["id"], description="Volunteer service project (志愿服务项目)")
class Project(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name (项目名称)")
    category: ProjectCategory = strawberry.field(description="Service category (服务类别)")
    service_target: str = strawberry.field(description="Who is served (服务对象)")
    address: str = strawberry.field(description="Address (服务地址)")
    description: str = strawberry.field(description="Description (项目简介)")
    starts_at: datetime = strawberry.field(description="Starts at (开始时间)")
    ends_at: datetime = strawberry.field(description="Ends at (结束时间)")
    min_age: int | None = strawberry.field(description="Minimum age (最小年龄)")
    max_age: int | None = strawberry.field(description="Maximum age (最大年龄)")
    insured: bool = strawberry.field(description="Accident insurance provided (是否购买保险)")
    guarantees: str = strawberry.field(description="Guarantees for volunteers (保障措施)")
    signup_scope: SignUpScope = strawberry.field(description="Who may sign up (报名范围)")
    requires_approval: bool = strawberry.field(description="Sign-ups need approval (报名需审核)")
    requires_attendance: bool = strawberry.field(description="Hours need attendance (需签到)")
    status: ProjectStatus = strawberry.field(description="Lifecycle status (项目状态)")
    created_at: datetime = strawberry.field(description="Created at (创建时间)")
    published_at: datetime | None = strawberry.field(description="Published at (发布时间)")
    submitted_at: datetime | None = strawberry.field(description="Submitted at (提交时间)")
    closed_at: datetime | None = strawberry.field(description="Closed at (结束招募时间)")
    status_reason: str = strawberry.field(
        description="Reason of the last status change: review note, return or cancellation (状态说明)"
    )
    row: strawberry.Private[ProjectRow]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Project | None:
        return await reference(
            info, cls, ProjectRow, "id", decode_int_id(str(representation.get("id", "")), "Project")
        )

    @strawberry.field(description="Organising team (组织队伍)")
    async def team(self, info: Info) -> Team | None:
        return await one(info, Team, TeamRow, self.row.team_id)

    @strawberry.field(description="Project region (项目区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(description="Region whose volunteers may sign up, when the scope is REGION (报名区域)")
    async def signup_region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.signup_region_code)

    @strawberry.field(description="Posts with quotas (岗位)")
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None, filter: PostFilter | None = None
    ) -> Connection[Post]:
        return await children(info, Post, PostRow, "project_id", self.id, first, after, filter)

    @strawberry.field(description="Sign-in points (签到点)")
    async def sign_in_points(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SignInPoint]:
        return await children(info, SignInPoint, SignInPointRow, "project_id", self.id, first, after)

    @strawberry.field(description="Sign-ups for all posts (报名)")
    async def sign_ups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: SignUpFilter | None = None,
    ) -> Connection[SignUp]:
        return await children(info, SignUp, SignUpRow, "project_id", self.id, first, after, filter)

    @strawberry.field(description="Service records of this project (项目服务记录)")
    async def service_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ServiceRecordFilter, strawberry.lazy(_RECORD)] | None = None,
    ) -> Connection[Annotated[ServiceRecord, strawberry.lazy(_RECORD)]]:
        from schema.types.record import ServiceRecord

        return await children(
            info, ServiceRecord, ServiceRecordRow, "project_id", self.id, first, after, filter
        )


@strawberry.type(description="Post of a project, with a quota (岗位)")
class Post(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name (岗位名称)")
    description: str = strawberry.field(description="Duties (岗位职责)")
    quota: int = strawberry.field(description="Places (招募人数)")
    taken: int = strawberry.field(description="Places held by pending and accepted sign-ups (已报名人数)")
    starts_at: datetime | None = strawberry.field(description="Shift start (班次开始)")
    ends_at: datetime | None = strawberry.field(description="Shift end (班次结束)")
    row: strawberry.Private[PostRow]

    @strawberry.field(description="Places still free (剩余名额)")
    def available(self) -> int:
        return max(self.quota - self.taken, 0)

    @strawberry.field(description="The project (所属项目)")
    async def project(self, info: Info) -> Project | None:
        return await one(info, Project, ProjectRow, self.row.project_id)

    @strawberry.field(description="Sign-ups for this post (岗位报名)")
    async def sign_ups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: SignUpFilter | None = None,
    ) -> Connection[SignUp]:
        return await children(info, SignUp, SignUpRow, "post_id", self.id, first, after, filter)


@strawberry.type(description="Sign-in point: coordinates and a radius (签到点)")
class SignInPoint(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name (名称)")
    latitude: float = strawberry.field(description="Latitude (纬度)")
    longitude: float = strawberry.field(description="Longitude (经度)")
    radius_m: int = strawberry.field(description="Radius in metres (半径，米)")
    row: strawberry.Private[SignInPointRow]


@strawberry.type(description="A volunteer's sign-up for a post (报名)")
class SignUp(relay.Node):
    id: relay.NodeID[int]
    status: SignUpStatus = strawberry.field(description="Sign-up status (报名状态)")
    created_at: datetime = strawberry.field(description="Signed up at (报名时间)")
    decided_at: datetime | None = strawberry.field(description="Accepted or rejected at (审核时间)")
    cancelled_at: datetime | None = strawberry.field(description="Cancelled at (取消时间)")
    reason: str = strawberry.field(description="Why it was rejected or cancelled (原因)")
    row: strawberry.Private[SignUpRow]

    @strawberry.field(description="The post (岗位)")
    async def post(self, info: Info) -> Post | None:
        return await one(info, Post, PostRow, self.row.post_id)

    @strawberry.field(description="The project (项目)")
    async def project(self, info: Info) -> Project | None:
        return await one(info, Project, ProjectRow, self.row.project_id)

    @strawberry.field(description="The volunteer (志愿者)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        return await one(info, Volunteer, VolunteerRow, self.row.volunteer_id)

    @strawberry.field(description="Check-ins for this sign-up (签到记录)")
    async def attendances(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AttendanceFilter | None = None,
    ) -> Connection[Attendance]:
        return await children(info, Attendance, AttendanceRow, "sign_up_id", self.id, first, after, filter)


@strawberry.type(description="Check-in and check-out (签到签退)")
class Attendance(relay.Node):
    id: relay.NodeID[int]
    method: AttendanceMethod = strawberry.field(description="How the volunteer checked in (签到方式)")
    status: AttendanceStatus = strawberry.field(description="Attendance status (签到状态)")
    check_in_at: datetime = strawberry.field(description="Checked in at (签到时间)")
    check_out_at: datetime | None = strawberry.field(description="Checked out at (签退时间)")
    correction_reason: str | None = strawberry.field(description="Why an organiser corrected it (更正原因)")
    row: strawberry.Private[AttendanceRow]

    def owner_volunteer_id(self) -> int | None:
        return self.row.volunteer_id

    def owner_region_code(self) -> str | None:
        return self.row.region_code

    @strawberry.field(
        description="Check-in latitude; location data (签到纬度)",
        extensions=[sensitive(SensitiveKind.LOCATION)],
    )
    def check_in_latitude(self) -> float | None:
        return self.row.check_in_lat

    @strawberry.field(
        description="Check-in longitude; location data (签到经度)",
        extensions=[sensitive(SensitiveKind.LOCATION)],
    )
    def check_in_longitude(self) -> float | None:
        return self.row.check_in_lng

    @strawberry.field(description="The sign-up (报名)")
    async def sign_up(self, info: Info) -> SignUp | None:
        return await one(info, SignUp, SignUpRow, self.row.sign_up_id)

    @strawberry.field(description="The volunteer (志愿者)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        return await one(info, Volunteer, VolunteerRow, self.row.volunteer_id)

    @strawberry.field(
        description="Check-out latitude; location data (签退纬度)",
        extensions=[sensitive(SensitiveKind.LOCATION)],
    )
    def check_out_latitude(self) -> float | None:
        return self.row.check_out_lat

    @strawberry.field(
        description="Check-out longitude; location data (签退经度)",
        extensions=[sensitive(SensitiveKind.LOCATION)],
    )
    def check_out_longitude(self) -> float | None:
        return self.row.check_out_lng

    @strawberry.field(
        description="When its coordinates were erased, after the retention period (定位删除时间)"
    )
    def location_purged_at(self) -> datetime | None:
        return self.row.location_purged_at

    @strawberry.field(description="The project (项目)")
    async def project(self, info: Info) -> Project | None:
        return await one(info, Project, ProjectRow, self.row.project_id)

    @strawberry.field(description="Records made from this attendance, voided ones included (服务记录)")
    async def service_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[ServiceRecordFilter, strawberry.lazy(_RECORD)] | None = None,
    ) -> Connection[Annotated[ServiceRecord, strawberry.lazy(_RECORD)]]:
        from schema.types.record import ServiceRecord

        return await children(
            info, ServiceRecord, ServiceRecordRow, "attendance_id", self.id, first, after, filter
        )
