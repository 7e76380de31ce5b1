"""Correction requests (申诉): a volunteer asks the recording team to correct one of their records.

The volunteer asks about their own PENDING, CONFIRMED or DECLINED record, with a reason and optionally the
hours they think are right; one OPEN request per record. An admin of the recording team answers: accepting
corrects the record exactly like ``correctRecord`` (the old row is voided and replaced) with the given hours or
the requested ones; rejecting needs a response. Requests are never deleted.

``scope()`` has no rule of its own for requests yet, so a request is visible exactly when its record is (the
same volunteer, team and region): it is loaded by id and then its record through ``scope()``.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import CorrectionRequest, ServiceRecord
from models.columns import utcnow
from models.enums import CorrectionStatus, RecordStatus
from resolvers.record_rules import REASON_MAX, check_hours, check_reason
from resolvers.records import RecordEdit, audit, check_team, correct
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError

APPEALABLE = (RecordStatus.PENDING, RecordStatus.CONFIRMED, RecordStatus.DECLINED)


async def _visible_record(session: AsyncSession, viewer: Viewer, record_id: int, field: str) -> ServiceRecord:
    statement = scope(select(ServiceRecord).where(col(ServiceRecord.id) == record_id), ServiceRecord, viewer)
    record = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if record is None:
        raise AppError("NOT_FOUND", field=field)
    return record


async def request_correction(
    services: Services, viewer: Viewer, record_id: int, reason: str, requested_hours: Decimal | None
) -> CorrectionRequest:
    if viewer.volunteer_id is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    text = check_reason(reason)
    hours = None if requested_hours is None else check_hours(requested_hours, "requestedHours")
    async with services.writes() as session, session.begin():
        record = await _visible_record(session, viewer, record_id, "recordId")
        if record.volunteer_id != viewer.volunteer_id:
            raise AppError("FORBIDDEN", field="recordId")
        await ensure_live(session, record.region_code, services.settings.default_province_status, "recordId")
        if record.status not in APPEALABLE:
            raise AppError("INVALID_STATE", key="RECORD_NOT_CORRECTABLE", field="recordId")
        open_one = select(col(CorrectionRequest.id)).where(
            col(CorrectionRequest.record_id) == record_id,
            col(CorrectionRequest.status) == CorrectionStatus.OPEN,
        )
        if (await session.execute(open_one)).first() is not None:
            raise AppError("INVALID_STATE", key="CORRECTION_ALREADY_OPEN", field="recordId")
        row = CorrectionRequest(
            record_id=record_id,
            volunteer_id=record.volunteer_id,
            team_id=record.team_id,
            region_code=record.region_code,
            reason=text,
            requested_hours=hours,
        )
        session.add(row)
    return row


async def answer_correction(
    services: Services,
    viewer: Viewer,
    request_id_: int,
    accept: bool,
    response: str,
    hours: Decimal | None,
    request_id: str,
) -> tuple[CorrectionRequest, ServiceRecord | None]:
    """The answered request and, when accepted, the record that replaces the appealed one."""
    answer = response.strip()[:REASON_MAX]
    async with services.writes() as session, session.begin():
        row = await session.get(CorrectionRequest, request_id_, with_for_update=True)
        if row is None:
            raise AppError("NOT_FOUND", field="requestId")
        record = await _visible_record(session, viewer, row.record_id, "requestId")
        if row.team_id not in viewer.team_ids:
            raise AppError("FORBIDDEN", field="requestId")
        await check_team(session, services, row.team_id, row.region_code, "requestId")
        if row.status != CorrectionStatus.OPEN:
            raise AppError("INVALID_STATE", field="requestId")
        replacement = None
        if accept:
            chosen = hours if hours is not None else row.requested_hours
            if chosen is None:
                raise AppError("BAD_USER_INPUT", key="HOURS_REQUIRED", field="hours")
            edit = RecordEdit(hours=check_hours(chosen))
            replacement = await correct(session, viewer, record, edit, answer or row.reason, request_id)
        elif not answer:
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="response")
        row.status = CorrectionStatus.ACCEPTED if accept else CorrectionStatus.REJECTED
        row.response, row.answered_at = answer, utcnow()
        session.add(
            audit(
                viewer,
                f"CORRECTION_{row.status}",
                "CorrectionRequest",
                row,
                request_id,
                record=row.record_id,
                replacement=replacement.id if replacement else None,
                response=answer,
            )
        )
    return row, replacement
