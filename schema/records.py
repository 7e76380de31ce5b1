"""Service-record mutations (志愿服务记录): recording, confirming, declining, correcting, correction requests
and CSV import. Thin wrappers; the rules and transactions are in resolvers/records.py, resolvers/corrections.py
and resolvers/record_import.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

import models as m
from resolvers import corrections, record_import, records
from schema.attendance import IdempotencyKey, key_of
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.messages import message
from schema.permissions import requires
from schema.types.base import build, decode_int_id
from schema.types.record import CorrectionRequest, ServiceRecord

RecordId = Annotated[strawberry.ID, strawberry.argument(description="The record's global ID (服务记录 ID)")]
Reason = Annotated[str, strawberry.argument(description="Why; required (原因)")]


@strawberry.input(description="A service record entered by the organising team (补录服务记录)")
class RecordServiceInput:
    volunteer_id: strawberry.ID = strawberry.field(description="The volunteer (志愿者 ID)")
    project_id: strawberry.ID = strawberry.field(description="Your team's project (项目 ID)")
    service_date: date = strawberry.field(description="Day of service, China time (服务日期)")
    started_at: datetime = strawberry.field(description="Start; without offset China time (开始时间)")
    ended_at: datetime = strawberry.field(description="End (结束时间)")
    hours: Decimal = strawberry.field(description="Hours, two decimals, at most the span (服务时长)")
    content: str = strawberry.field(
        default="", description="What was done; default the project name (服务内容)"
    )


@strawberry.type(description="A CSV row that was not imported (未导入的行)")
class ImportRejection:
    line: int = strawberry.field(description="Line in the file, the header being line 1 (行号)")
    volunteer_number: str = strawberry.field(description="The row's volunteer number (志愿者编号)")
    code: str = strawberry.field(description="Why, as a stable code (原因代码)")
    message: str = strawberry.field(description="Why, in words (原因)")


@strawberry.type(description="Result of a CSV import: valid rows are written, the others listed (导入结果)")
class ImportReport:
    accepted: int = strawberry.field(description="Records written, PENDING (导入条数)")
    rejected: list[ImportRejection] = strawberry.field(description="Rows not written (未导入的行)")


def _request_key(value: str) -> int:
    try:
        return decode_int_id(value, "CorrectionRequest")
    except AppError:
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field="requestId") from None


async def _record_out(info: Info, record_id: int) -> ServiceRecord:
    row = await info.context.loaders.by_key(m.ServiceRecord).load(record_id)
    if row is None:
        raise AppError("NOT_FOUND", field="recordId")
    return build(ServiceRecord, row)


@strawberry.type(description="A correction request answered, and the record replacing the old one (答复结果)")
class AnswerCorrectionPayload:
    request: CorrectionRequest = strawberry.field(description="The answered request (更正申请)")
    record: ServiceRecord | None = strawberry.field(description="The new record when accepted (更正后的记录)")


@strawberry.type
class RecordMutation:
    @strawberry.mutation(
        description="Record a volunteer's service on your team's project; it starts PENDING (补录服务时长)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def record_service(
        self, info: Info, input: RecordServiceInput, idempotency_key: IdempotencyKey = None
    ) -> ServiceRecord:
        ctx = info.context
        new = records.NewRecord(
            volunteer_id=key_of(input.volunteer_id, "Volunteer", "volunteerId"),
            project_id=key_of(input.project_id, "Project", "projectId"),
            service_date=input.service_date,
            started_at=input.started_at,
            ended_at=input.ended_at,
            hours=input.hours,
            content=input.content,
        )
        record_id = await records.record_service(
            ctx.services, ctx.viewer, new, idempotency_key, ctx.request_id
        )
        return await _record_out(info, record_id)

    @strawberry.mutation(
        description="Confirm pending records of your team, all or none (确认服务记录)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def confirm_records(
        self,
        info: Info,
        record_ids: Annotated[list[strawberry.ID], strawberry.argument(description="At most 500 (记录 ID)")],
    ) -> list[ServiceRecord]:
        ctx = info.context
        keys = [key_of(r, "ServiceRecord", "recordIds") for r in record_ids]
        rows = await records.confirm_records(ctx.services, ctx.viewer, keys, ctx.request_id)
        return [build(ServiceRecord, row) for row in rows]

    @strawberry.mutation(
        description="Decline a pending record of your team with a reason; it is kept (不予确认)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def decline_record(self, info: Info, record_id: RecordId, reason: Reason) -> ServiceRecord:
        ctx = info.context
        row = await records.decline_record(
            ctx.services, ctx.viewer, key_of(record_id, "ServiceRecord", "recordId"), reason, ctx.request_id
        )
        return build(ServiceRecord, row)

    @strawberry.mutation(
        description="Correct a record of your team: the old one is voided and a new one replaces it (更正服务记录)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def correct_record(
        self,
        info: Info,
        record_id: RecordId,
        reason: Reason,
        hours: Annotated[Decimal | None, strawberry.argument(description="New hours (服务时长)")] = None,
        started_at: Annotated[
            datetime | None, strawberry.argument(description="New start (开始时间)")
        ] = None,
        ended_at: Annotated[datetime | None, strawberry.argument(description="New end (结束时间)")] = None,
        content: Annotated[str | None, strawberry.argument(description="New content (服务内容)")] = None,
    ) -> ServiceRecord:
        ctx = info.context
        edit = records.RecordEdit(hours, started_at, ended_at, content)
        row = await records.correct_record(
            ctx.services,
            ctx.viewer,
            key_of(record_id, "ServiceRecord", "recordId"),
            edit,
            reason,
            ctx.request_id,
        )
        return build(ServiceRecord, row)

    @strawberry.mutation(
        description="Ask the recording team to correct one of your records (申请更正/申诉)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def request_correction(
        self,
        info: Info,
        record_id: RecordId,
        reason: Reason,
        requested_hours: Annotated[
            Decimal | None, strawberry.argument(description="The hours you think are right (申请时长)")
        ] = None,
    ) -> CorrectionRequest:
        ctx = info.context
        row = await corrections.request_correction(
            ctx.services, ctx.viewer, key_of(record_id, "ServiceRecord", "recordId"), reason, requested_hours
        )
        return CorrectionRequest.from_row(row)

    @strawberry.mutation(
        description="Answer a correction request to your team; accepting corrects the record (答复更正申请)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def answer_correction(
        self,
        info: Info,
        request_id: Annotated[strawberry.ID, strawberry.argument(description="The request (更正申请 ID)")],
        accept: Annotated[bool, strawberry.argument(description="Accept, or reject (是否同意)")],
        response: Annotated[str, strawberry.argument(description="Answer; required to reject (答复)")] = "",
        hours: Annotated[
            Decimal | None,
            strawberry.argument(description="Corrected hours; default the requested (更正时长)"),
        ] = None,
    ) -> AnswerCorrectionPayload:
        ctx = info.context
        row, record = await corrections.answer_correction(
            ctx.services, ctx.viewer, _request_key(request_id), accept, response, hours, ctx.request_id
        )
        return AnswerCorrectionPayload(
            request=CorrectionRequest.from_row(row),
            record=build(ServiceRecord, record) if record is not None else None,
        )

    @strawberry.mutation(
        description="Import records of your team's project from CSV; valid rows are written, the others "
        "reported (批量导入服务记录)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def import_service_records(
        self,
        info: Info,
        project_id: Annotated[
            strawberry.ID, strawberry.argument(description="Your team's project (项目 ID)")
        ],
        csv: Annotated[
            str,
            strawberry.argument(
                description="Header volunteer_number,service_date,started_at,ended_at,hours,content; "
                "at most 5,000 rows (CSV 内容)"
            ),
        ],
    ) -> ImportReport:
        ctx = info.context
        report = await record_import.import_records(
            ctx.services, ctx.viewer, key_of(project_id, "Project", "projectId"), csv, ctx.request_id
        )
        return ImportReport(
            accepted=report.accepted,
            rejected=[
                ImportRejection(
                    line=r.line,
                    volunteer_number=r.volunteer_number,
                    code=r.code,
                    message=message(r.code, ctx.locale),
                )
                for r in report.rejected
            ],
        )
