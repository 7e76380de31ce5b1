"""Projects (志愿服务项目), their posts (岗位), sign-in points, sign-ups and attendance.

Rows below a project copy its ``team_id`` and ``region_code`` so that scoping is a condition on the row itself.
"""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import enum_field, id_field, ref_field, region_field, time_field
from models.enums import (
    AttendanceMethod,
    AttendanceStatus,
    ProjectCategory,
    ProjectStatus,
    SignUpScope,
    SignUpStatus,
)


class Project(SQLModel, table=True):
    id: int | None = id_field()
    team_id: int = ref_field("team.id")
    region_code: str = region_field()
    name: str = Field(max_length=200, index=True)
    category: ProjectCategory = enum_field(ProjectCategory.COMMUNITY, index=True)
    service_target: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_type=Text)
    starts_at: datetime = time_field(index=True)
    ends_at: datetime = time_field()
    min_age: int | None = None
    max_age: int | None = None
    insured: bool = False
    guarantees: str = Field(default="", max_length=500)
    signup_scope: SignUpScope = enum_field(SignUpScope.PUBLIC)
    signup_region_code: str | None = region_field(nullable=True, index=False)
    requires_approval: bool = False
    requires_attendance: bool = True
    status: ProjectStatus = enum_field(ProjectStatus.DRAFT, index=True)
    created_at: datetime = time_field(default_now=True)
    submitted_at: datetime | None = time_field(nullable=True)
    published_at: datetime | None = time_field(nullable=True)
    closed_at: datetime | None = time_field(nullable=True)
    status_reason: str = Field(default="", max_length=500)
    """The reviewer's or the team's reason for the last status change (rejection, cancellation)."""


class SignInPoint(SQLModel, table=True):
    __tablename__ = "sign_in_point"

    id: int | None = id_field()
    project_id: int = ref_field("project.id")
    team_id: int = ref_field("team.id", index=False)
    region_code: str = region_field(index=False)
    name: str = Field(default="", max_length=100)
    latitude: float
    longitude: float
    radius_m: int = 200


class Post(SQLModel, table=True):
    id: int | None = id_field()
    project_id: int = ref_field("project.id")
    team_id: int = ref_field("team.id")
    region_code: str = region_field()
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    quota: int
    taken: int = 0
    """Places held (PENDING + ACCEPTED sign-ups), advanced by one conditional UPDATE so the quota holds under
    concurrency."""
    starts_at: datetime | None = time_field(nullable=True)
    ends_at: datetime | None = time_field(nullable=True)


class SignUp(SQLModel, table=True):
    __tablename__ = "sign_up"
    __table_args__ = (UniqueConstraint("post_id", "volunteer_id"),)

    id: int | None = id_field()
    post_id: int = ref_field("post.id")
    project_id: int = ref_field("project.id")
    team_id: int = ref_field("team.id")
    volunteer_id: int = ref_field("volunteer.id")
    region_code: str = region_field()
    status: SignUpStatus = enum_field(SignUpStatus.PENDING, index=True)
    created_at: datetime = time_field(default_now=True)
    decided_at: datetime | None = time_field(nullable=True)
    cancelled_at: datetime | None = time_field(nullable=True)
    reason: str = Field(default="", max_length=500)


class Attendance(SQLModel, table=True):
    id: int | None = id_field()
    sign_up_id: int = ref_field("sign_up.id")
    volunteer_id: int = ref_field("volunteer.id")
    project_id: int = ref_field("project.id")
    team_id: int = ref_field("team.id")
    region_code: str = region_field()
    method: AttendanceMethod = enum_field(AttendanceMethod.QR)
    status: AttendanceStatus = enum_field(AttendanceStatus.OPEN, index=True)
    check_in_at: datetime = time_field(index=True)
    check_out_at: datetime | None = time_field(nullable=True)
    check_in_lat: float | None = None
    check_in_lng: float | None = None
    check_out_lat: float | None = None
    check_out_lng: float | None = None
    location_purged_at: datetime | None = time_field(nullable=True)
    """Coordinates are erased after the configured retention; this records when."""
    correction_reason: str | None = Field(default=None, max_length=500)
    corrected_by_id: int | None = ref_field("account.id", nullable=True, index=False)
