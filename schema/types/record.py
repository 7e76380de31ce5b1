"""Service records (志愿服务记录) and certificates (志愿服务记录证明)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from models import Attendance as AttendanceRow
from models import Certificate as CertificateRow
from models import CorrectionRequest as CorrectionRequestRow
from models import Project as ProjectRow
from models import ServiceRecord as ServiceRecordRow
from models import Team as TeamRow
from models import Volunteer as VolunteerRow
from schema.context import Info
from schema.pagination import Connection
from schema.types.base import children, decode_int_id, one, reference
from schema.types.enums import (
    CertificateStatus,
    CorrectionStatus,
    ProjectCategory,
    RecordProvenance,
    RecordStatus,
)
from schema.types.project import Attendance, Project
from schema.types.record_inputs import ServiceRecordFilter as ServiceRecordFilter
from schema.types.record_inputs import ServiceRecordOrder as ServiceRecordOrder
from schema.types.record_inputs import ServiceRecordOrderField as ServiceRecordOrderField
from schema.types.team import Team
from schema.types.volunteer import Volunteer


@strawberry.input(description="Filter for correction requests (更正申请筛选)")
class CorrectionRequestFilter:
    status: CorrectionStatus | None = strawberry.field(default=None, description="处理状态")
    created_at_after: datetime | None = strawberry.field(default=None, description="Asked from (申请时间起)")
    created_at_before: datetime | None = strawberry.field(
        default=None, description="Asked before (申请时间止)"
    )


@strawberry.input(description="Filter for certificates (证明筛选)")
class CertificateFilter:
    status: CertificateStatus | None = strawberry.field(default=None, description="证明状态")
    issued_at_after: datetime | None = strawberry.field(default=None, description="Issued from (出具时间起)")
    issued_at_before: datetime | None = strawberry.field(
        default=None, description="Issued before (出具时间止)"
    )


@strawberry.federation.type(
    keys=["id"], description="Service record (志愿服务记录); corrections void and replace, never delete"
)
class ServiceRecord(relay.Node):
    id: relay.NodeID[int]
    category: ProjectCategory = strawberry.field(description="Service category (服务类别)")
    service_date: date = strawberry.field(description="Day of service (服务日期)")
    started_at: datetime | None = strawberry.field(description="Service start (开始时间)")
    ended_at: datetime | None = strawberry.field(description="Service end (结束时间)")
    hours: Decimal = strawberry.field(description="Service hours, two decimals (服务时长，小时)")
    content: str = strawberry.field(description="What was done (服务内容)")
    provenance: RecordProvenance = strawberry.field(description="Where the record came from (记录来源)")
    status: RecordStatus = strawberry.field(description="Record status (记录状态)")
    void_reason: str | None = strawberry.field(description="Why it was voided (作废原因)")
    decline_reason: str | None = strawberry.field(description="Why it was declined (不予确认原因)")
    created_at: datetime = strawberry.field(description="Recorded at (记录时间)")
    confirmed_at: datetime | None = strawberry.field(description="Confirmed at (确认时间)")
    row: strawberry.Private[ServiceRecordRow]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> ServiceRecord | None:
        return await reference(
            info,
            cls,
            ServiceRecordRow,
            "id",
            decode_int_id(str(representation.get("id", "")), "ServiceRecord"),
        )

    @strawberry.field(description="The volunteer (志愿者)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        return await one(info, Volunteer, VolunteerRow, self.row.volunteer_id)

    @strawberry.field(description="The recording team (记录队伍)")
    async def team(self, info: Info) -> Team | None:
        return await one(info, Team, TeamRow, self.row.team_id)

    @strawberry.field(description="The project (项目)")
    async def project(self, info: Info) -> Project | None:
        return await one(info, Project, ProjectRow, self.row.project_id)

    @strawberry.field(description="The record this one corrects (被更正的记录)")
    async def replaces(self, info: Info) -> ServiceRecord | None:
        return await one(info, ServiceRecord, ServiceRecordRow, self.row.replaces_id)

    @strawberry.field(description="Correction requests about this record (更正申请)")
    async def correction_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CorrectionRequestFilter | None = None,
    ) -> Connection[CorrectionRequest]:
        return await children(
            info, CorrectionRequest, CorrectionRequestRow, "record_id", self.id, first, after, filter
        )

    @strawberry.field(description="The record that corrects this one, if any (更正后的记录)")
    async def replaced_by(self, info: Info) -> ServiceRecord | None:
        return await one(info, ServiceRecord, ServiceRecordRow, self.row.id, "replaces_id")

    @strawberry.field(description="The check-in it was made from (签到记录)")
    async def attendance(self, info: Info) -> Attendance | None:
        return await one(info, Attendance, AttendanceRow, self.row.attendance_id)


@strawberry.federation.type(keys=["id"], description="Service-record certificate (志愿服务记录证明)")
class Certificate(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(
        description="Certificate number (证明编号); a request carries an SQ… reference until issued"
    )
    period_start: date = strawberry.field(description="Period from (起始日期)")
    period_end: date = strawberry.field(description="Period to (截止日期)")
    total_hours: Decimal = strawberry.field(description="Certified hours (服务时长)")
    content: str = strawberry.field(description="Service content (服务内容)")
    status: CertificateStatus = strawberry.field(description="Certificate status (证明状态)")
    person_in_charge: str = strawberry.field(description="Issuer's person in charge (负责人)")
    handler_name: str = strawberry.field(description="Handler (经办人)")
    contact: str = strawberry.field(description="Issuer contact (联系方式)")
    requested_at: datetime = strawberry.field(description="Requested at (申请时间)")
    issued_at: datetime | None = strawberry.field(description="Issued at (出具时间)")
    revoked_at: datetime | None = strawberry.field(description="Revoked at (撤销时间)")
    revoke_reason: str | None = strawberry.field(
        description="Why it was revoked or rejected (撤销/不予出具原因)"
    )
    row: strawberry.Private[CertificateRow]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Certificate | None:
        return await reference(
            info, cls, CertificateRow, "id", decode_int_id(str(representation.get("id", "")), "Certificate")
        )

    @strawberry.field(description="The volunteer (志愿者)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        return await one(info, Volunteer, VolunteerRow, self.row.volunteer_id)

    @strawberry.field(description="The issuing team (出具队伍)")
    async def team(self, info: Info) -> Team | None:
        return await one(info, Team, TeamRow, self.row.team_id)

    @strawberry.field(description="Verification code printed on the certificate; null until issued (验证码)")
    def verification_code(self) -> str | None:
        return self.row.verification_code or None

    @strawberry.field(
        description="Public verification link, the QR code's content; null until issued (核验链接)"
    )
    def verification_url(self, info: Info) -> str | None:
        from resolvers.certificate_pdf import verification_url

        code = self.row.verification_code
        base = info.context.services.settings.public_base_url
        return verification_url(base, self.row.number, code) if code else None

    @strawberry.field(description="The printable PDF; null unless issued and not revoked (证明 PDF 下载链接)")
    def pdf_url(self, info: Info) -> str | None:
        from resolvers.certificate_pdf import pdf_url

        code = self.row.verification_code
        base = info.context.services.settings.public_base_url
        return (
            pdf_url(base, self.row.number, code) if code and self.status == CertificateStatus.ISSUED else None
        )


@strawberry.type(description="A volunteer's request to correct a record (更正申请/申诉)")
class CorrectionRequest(relay.Node):
    id: relay.NodeID[int]
    reason: str = strawberry.field(description="The volunteer's reason (申诉理由)")
    requested_hours: Decimal | None = strawberry.field(description="Hours the volunteer asks for (申请时长)")
    status: CorrectionStatus = strawberry.field(description="OPEN, ACCEPTED or REJECTED (处理状态)")
    response: str = strawberry.field(description="The team's answer (答复)")
    created_at: datetime = strawberry.field(description="Asked at (申请时间)")
    answered_at: datetime | None = strawberry.field(description="Answered at (答复时间)")
    row: strawberry.Private[CorrectionRequestRow]

    @classmethod
    def from_row(cls, row: CorrectionRequestRow) -> CorrectionRequest:
        return cls(
            id=row.id or 0,
            reason=row.reason,
            requested_hours=row.requested_hours,
            status=CorrectionStatus(row.status),
            response=row.response,
            created_at=row.created_at,
            answered_at=row.answered_at,
            row=row,
        )

    @strawberry.field(description="The record asked about (被申诉的记录)")
    async def record(self, info: Info) -> ServiceRecord | None:
        return await one(info, ServiceRecord, ServiceRecordRow, self.row.record_id)
