"""``createExport``: a scoped list or a statistics report as a CSV or XLSX download (导出).

The mutation runs the chosen list field's own permission extensions (``@auth``, ``@inJurisdiction``) before
anything else, so an export is allowed exactly when the list is; rows then come through the same ``scope()``.
The work is in resolvers/exports.py; docs/exports.md is the readable form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from functools import partial
from types import SimpleNamespace
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from auth.viewer import Viewer
from resolvers import exports
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.pagination import filter_items
from schema.permissions import InJurisdiction, requires
from schema.statistics import StatisticsInput
from schema.statistics import to_request as statistics_request
from schema.types.audit import AuditEventFilter
from schema.types.project import AttendanceFilter, PostFilter, ProjectFilter, SignUpFilter
from schema.types.record import CertificateFilter, CorrectionRequestFilter, ServiceRecordFilter
from schema.types.region import RegionFilter
from schema.types.team import MembershipFilter, TeamFilter
from schema.types.volunteer import VolunteerFilter


@strawberry.enum(description="File format of an export (导出格式)")
class ExportFormat(Enum):
    CSV = "CSV"
    XLSX = "XLSX"


@strawberry.input(
    description="What to export: exactly one list with its filter (`{}` for every row in your scope), "
    "or a statistics report (导出内容)"
)
class ExportSource:
    volunteers: VolunteerFilter | None = strawberry.field(
        default=None, description="Volunteers (with the list's filter) (志愿者)"
    )
    teams: TeamFilter | None = strawberry.field(
        default=None, description="Teams (with the list's filter) (队伍)"
    )
    memberships: MembershipFilter | None = strawberry.field(
        default=None, description="Team memberships (with the list's filter) (成员关系)"
    )
    projects: ProjectFilter | None = strawberry.field(
        default=None, description="Projects (with the list's filter) (项目)"
    )
    posts: PostFilter | None = strawberry.field(
        default=None, description="Posts (with the list's filter) (岗位)"
    )
    sign_ups: SignUpFilter | None = strawberry.field(
        default=None, description="Sign-ups (with the list's filter) (报名)"
    )
    attendances: AttendanceFilter | None = strawberry.field(
        default=None, description="Attendance (with the list's filter) (签到)"
    )
    service_records: ServiceRecordFilter | None = strawberry.field(
        default=None, description="Service records (with the list's filter) (服务记录)"
    )
    certificates: CertificateFilter | None = strawberry.field(
        default=None, description="Certificates (with the list's filter) (证明)"
    )
    correction_requests: CorrectionRequestFilter | None = strawberry.field(
        default=None, description="Correction requests (with the list's filter) (更正申请)"
    )
    audit_events: AuditEventFilter | None = strawberry.field(
        default=None, description="Audit events (with the list's filter) (审计日志)"
    )
    regions: RegionFilter | None = strawberry.field(
        default=None, description="Regions (with the list's filter) (行政区划)"
    )
    statistics: StatisticsInput | None = strawberry.field(
        default=None, description="A statistics report (统计报表)"
    )


@strawberry.input(description="An export to prepare (创建导出)")
class CreateExportInput:
    source: ExportSource = strawberry.field(description="The list or report (导出内容)")
    format: ExportFormat = strawberry.field(default=ExportFormat.CSV, description="CSV or XLSX (文件格式)")
    columns: list[str] | None = strawberry.field(
        default=None,
        description="Field names of the list's type, in order; the usual columns when absent (导出列)",
    )
    reveal: bool = strawberry.field(
        default=False,
        description="Unmask personal data where you may reveal it; audited (导出未脱敏的个人信息)",
    )


@strawberry.type(description="An export ready to download (导出文件)")
class ExportPayload:
    url: str = strawberry.field(description="Signed download link, valid until `expiresAt` (下载链接)")
    expires_at: datetime = strawberry.field(description="When the link stops working (链接失效时间)")
    row_count: int = strawberry.field(description="Rows counted when the export was made (行数)")
    filename: str = strawberry.field(description="File name (文件名)")
    columns: list[str] = strawberry.field(description="Column headers, in your language (列标题)")


Check = Callable[..., Awaitable[Any]]


async def check_field(source: str, info: Any) -> None:
    """Run the permission extensions of the root field ``source`` (python name) as resolving it would."""
    from schema.query import Query

    field: StrawberryField | None = Query.__strawberry_definition__.get_field(source)  # type: ignore[attr-defined]
    assert field is not None, source

    async def granted(_source: Any, _info: Any, **_: Any) -> bool:
        return True

    chain: Check = granted
    for extension in reversed(field.extensions):
        if isinstance(extension, PermissionExtension | InJurisdiction):
            chain = partial(extension.resolve_async, chain)
    await chain(None, info)


async def field_permitted(source: str, viewer: Viewer) -> bool:
    """The same check for a viewer outside a GraphQL request (the download route)."""
    try:
        await check_field(source, SimpleNamespace(context=SimpleNamespace(viewer=viewer)))
    except AppError:
        return False
    return True


def _spec(info: Info, input: CreateExportInput) -> exports.ExportSpec:
    chosen = [(name, value) for name, value in vars(input.source).items() if value is not None]
    if len(chosen) != 1:
        raise AppError("BAD_USER_INPUT", key="EXPORT_SOURCE", field="input.source")
    ((source, value),) = chosen
    common: dict[str, Any] = {
        "source": source,
        "format": input.format.value,
        "locale": info.context.locale,
        "columns": tuple(input.columns or ()),
        "reveal": input.reveal,
    }
    if isinstance(value, StatisticsInput):
        return exports.ExportSpec(**common, report=statistics_request(value))
    return exports.ExportSpec(**common, where=filter_items(value))


@strawberry.type
class ExportMutation:
    @strawberry.mutation(
        description="Prepare a CSV or XLSX file of a list or report in your scope; audited (导出)",
        extensions=[requires(Requirement.AUTHENTICATED)],
    )
    async def create_export(self, info: Info, input: CreateExportInput) -> ExportPayload:
        ctx = info.context
        spec = _spec(info, input)
        await check_field(spec.source, info)
        ticket = await exports.create_export(
            ctx.services, ctx.viewer, spec, ctx.request_id, ctx.services.settings.public_base_url
        )
        return ExportPayload(
            url=ticket.url,
            expires_at=ticket.expires_at,
            row_count=ticket.rows,
            filename=ticket.filename,
            columns=ticket.columns,
        )
