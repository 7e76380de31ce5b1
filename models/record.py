"""Service records (志愿服务记录) and certificates (志愿服务记录证明).

Records are never deleted: a correction voids the old row and adds a new one pointing back at it.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Index, LargeBinary, Numeric, Text
from sqlmodel import Field, SQLModel

from models.columns import enum_field, id_field, ref_field, region_field, time_field
from models.enums import CertificateStatus, CorrectionStatus, ProjectCategory, RecordProvenance, RecordStatus


class ServiceRecord(SQLModel, table=True):
    __tablename__ = "service_record"
    __table_args__ = (Index("ix_service_record_status_region", "status", "region_code"),)

    id: int | None = id_field()
    volunteer_id: int = ref_field("volunteer.id")
    team_id: int = ref_field("team.id")
    project_id: int | None = ref_field("project.id", nullable=True)
    attendance_id: int | None = ref_field("attendance.id", nullable=True)
    region_code: str = region_field()
    """The organising team's region: the records' jurisdiction."""
    category: ProjectCategory = enum_field(ProjectCategory.COMMUNITY)
    service_date: date = Field(index=True)
    started_at: datetime | None = time_field(nullable=True)
    ended_at: datetime | None = time_field(nullable=True)
    hours: Decimal = Field(sa_type=Numeric(8, 2))
    content: str = Field(default="", max_length=500)
    provenance: RecordProvenance = enum_field(RecordProvenance.ATTENDANCE)
    status: RecordStatus = enum_field(RecordStatus.PENDING, index=True)
    recorder_id: int | None = ref_field("account.id", nullable=True, index=False)
    replaces_id: int | None = ref_field("service_record.id", nullable=True)
    void_reason: str | None = Field(default=None, max_length=500)
    decline_reason: str | None = Field(default=None, max_length=500)
    legacy_id: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = time_field(default_now=True)
    confirmed_at: datetime | None = time_field(nullable=True)


class CorrectionRequest(SQLModel, table=True):
    """A volunteer's request to correct a record (申诉), answered by the recording team."""

    __tablename__ = "correction_request"

    id: int | None = id_field()
    record_id: int = ref_field("service_record.id")
    volunteer_id: int = ref_field("volunteer.id")
    team_id: int = ref_field("team.id")
    region_code: str = region_field()
    reason: str = Field(max_length=500)
    requested_hours: Decimal | None = Field(default=None, sa_type=Numeric(8, 2))
    status: CorrectionStatus = enum_field(CorrectionStatus.OPEN, index=True)
    response: str = Field(default="", max_length=500)
    created_at: datetime = time_field(default_now=True)
    answered_at: datetime | None = time_field(nullable=True)


class Certificate(SQLModel, table=True):
    id: int | None = id_field()
    number: str = Field(max_length=32, unique=True)
    volunteer_id: int = ref_field("volunteer.id")
    team_id: int = ref_field("team.id")
    region_code: str = region_field()
    period_start: date
    period_end: date
    total_hours: Decimal = Field(sa_type=Numeric(10, 2))
    content: str = Field(default="", sa_type=Text)
    status: CertificateStatus = enum_field(CertificateStatus.REQUESTED, index=True)
    person_in_charge: str = Field(default="", max_length=100)
    handler_name: str = Field(default="", max_length=100)
    contact: str = Field(default="", max_length=100)
    verification_code: str = Field(default="", max_length=16)
    signature: bytes | None = Field(default=None, sa_type=LargeBinary)
    printed: dict[str, str] | None = Field(default=None, sa_type=JSON)
    """The printed (and signed) fields frozen at issue, so later renames or corrections never change an issued
    certificate; the ID number is kept only in its printed, masked form."""
    requested_at: datetime = time_field(default_now=True)
    issued_at: datetime | None = time_field(nullable=True)
    revoked_at: datetime | None = time_field(nullable=True)
    revoke_reason: str | None = Field(default=None, max_length=500)
