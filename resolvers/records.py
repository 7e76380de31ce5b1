"""Service records (志愿服务记录): recorded, confirmed, declined and corrected by the organising team.

谁组织谁记录，谁记录谁证明: only an admin of the team that organises the project (``viewer.team_ids``) writes its
records; region admins and the ministry supervise but do not write. Targets are loaded through ``scope()``:
NOT_FOUND when invisible, FORBIDDEN when visible but another team's. Every write is refused in a LEGACY
province, and by a team that is not active (TEAM_NOT_ACTIVE).

    recordService / importServiceRecords / checkOut  -->  PENDING  --confirm-->  CONFIRMED
    PENDING  --decline(reason)-->  DECLINED                    (kept, never deleted)
    PENDING · CONFIRMED  --correct(reason)-->  VOIDED + a new row (replaces_id = old id), CONFIRMED if the old
                                                one was, else PENDING
    DECLINED  --correct(reason)-->  stays DECLINED + a new PENDING row replacing it (once)

Corrections keep the whole history: the old row keeps its values with ``void_reason``, the chain runs through
``replaces_id``, and a RECORD_CORRECTED audit event names both rows. The record rules themselves are in
resolvers/record_rules.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import AuditEvent, Project, ServiceRecord, Team, Volunteer
from models.columns import utcnow
from models.enums import ProjectStatus, RecordProvenance, RecordStatus, TeamStatus
from resolvers.audit import audit_event
from resolvers.idempotency import once
from resolvers.record_rules import (
    Entry,
    Ledger,
    check_content,
    check_hours,
    check_reason,
    check_times,
    from_client,
    from_db,
    lock_volunteers,
    participants,
)
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError

RECORDABLE = (ProjectStatus.PUBLISHED, ProjectStatus.CLOSED)
"""Projects whose hours may be recorded: running or finished (not drafts, not cancelled)."""
MAX_CONFIRM = 500


@dataclass(frozen=True)
class NewRecord:
    volunteer_id: int
    project_id: int
    service_date: date
    started_at: datetime
    ended_at: datetime
    hours: Decimal
    content: str = ""


@dataclass(frozen=True)
class RecordEdit:
    hours: Decimal | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    content: str | None = None


def audit(
    viewer: Viewer, action: str, subject: str, row: object, request_id: str, **detail: object
) -> AuditEvent:
    return audit_event(viewer, action, row, request_id, detail, subject=subject)


async def check_team(
    session: AsyncSession, services: Services, team_id: int, region_code: str, field: str
) -> None:
    """The acting team is active and its province is live."""
    team = await session.get(Team, team_id)
    if team is None or team.status != TeamStatus.ACTIVE:
        raise AppError("INVALID_STATE", key="TEAM_NOT_ACTIVE", field=field)
    await ensure_live(session, region_code, services.settings.default_province_status, field)


async def organised_project(
    session: AsyncSession, services: Services, viewer: Viewer, project_id: int, field: str = "projectId"
) -> Project:
    """A project of one of the viewer's teams, open for recording."""
    statement = scope(select(Project).where(col(Project.id) == project_id), Project, viewer)
    project = (await session.execute(statement)).scalar_one_or_none()
    if project is None:
        raise AppError("NOT_FOUND", field=field)
    if project.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field=field)
    await check_team(session, services, project.team_id, project.region_code, field)
    if project.status not in RECORDABLE:
        raise AppError("INVALID_STATE", key="PROJECT_NOT_RECORDABLE", field=field)
    return project


async def team_record(
    session: AsyncSession, services: Services, viewer: Viewer, record_id: int, field: str = "recordId"
) -> ServiceRecord:
    """A record of one of the viewer's teams, locked for the transaction."""
    statement = scope(select(ServiceRecord).where(col(ServiceRecord.id) == record_id), ServiceRecord, viewer)
    record = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if record is None:
        raise AppError("NOT_FOUND", field=field)
    if record.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field=field)
    await check_team(session, services, record.team_id, record.region_code, field)
    return record


def new_row(
    project: Project,
    entry: Entry,
    content: str,
    provenance: RecordProvenance,
    *,
    recorder_id: int | None,
    attendance_id: int | None = None,
    replaces_id: int | None = None,
) -> ServiceRecord:
    assert project.id is not None
    return ServiceRecord(
        volunteer_id=entry.volunteer_id,
        team_id=project.team_id,
        project_id=project.id,
        region_code=project.region_code,
        category=project.category,
        service_date=entry.service_date,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        hours=entry.hours,
        content=content,
        provenance=provenance,
        status=RecordStatus.PENDING,
        recorder_id=recorder_id,
        attendance_id=attendance_id,
        replaces_id=replaces_id,
    )


# --- recording ------------------------------------------------------------------------------------------


async def record_service(
    services: Services, viewer: Viewer, new: NewRecord, key: str | None, request_id: str
) -> int:
    """补录: a PENDING record (provenance MANUAL) by an admin of the organising team; the new record's id."""
    hours = check_hours(new.hours)
    started, ended = from_client(new.started_at), from_client(new.ended_at)

    async def work(session: AsyncSession) -> dict[str, object]:
        project = await organised_project(session, services, viewer, new.project_id)
        volunteer = (
            await session.execute(
                scope(select(Volunteer).where(col(Volunteer.id) == new.volunteer_id), Volunteer, viewer)
            )
        ).scalar_one_or_none()
        if volunteer is None or volunteer.id is None:
            raise AppError("NOT_FOUND", field="volunteerId")
        if volunteer.id not in await participants(session, project, {volunteer.id}):
            raise AppError("BAD_USER_INPUT", key="NOT_A_PARTICIPANT", field="volunteerId")
        day = check_times(project, new.service_date, started, ended, hours, utcnow())
        content = check_content(new.content, project.name)
        await lock_volunteers(session, {volunteer.id})
        entry = Entry(volunteer.id, day, started, ended, hours)
        (await Ledger.load(session, {volunteer.id}, day, day)).check(entry)
        row = new_row(project, entry, content, RecordProvenance.MANUAL, recorder_id=viewer.account_id)
        session.add(row)
        await session.flush()
        session.add(audit(viewer, "RECORD_CREATED", "ServiceRecord", row, request_id, hours=hours))
        return {"recordId": row.id}

    result = await once(services, viewer, key, "recordService", asdict(new), work)
    return int(str(result["recordId"]))


async def confirm_records(
    services: Services, viewer: Viewer, record_ids: list[int], request_id: str
) -> list[ServiceRecord]:
    """All or nothing: every id must be a PENDING (or already CONFIRMED) record of the viewer's teams."""
    if not record_ids:
        raise AppError("BAD_USER_INPUT", field="recordIds")
    if len(record_ids) > MAX_CONFIRM:
        raise AppError("BAD_USER_INPUT", key="TOO_MANY_IDS", field="recordIds", max=MAX_CONFIRM)
    unique = list(dict.fromkeys(record_ids))
    now = utcnow()
    async with services.writes() as session, session.begin():
        statement = scope(
            select(ServiceRecord).where(col(ServiceRecord.id).in_(unique)), ServiceRecord, viewer
        ).order_by(col(ServiceRecord.id))
        found = {r.id: r for r in (await session.execute(statement.with_for_update())).scalars()}
        if len(found) < len(unique):
            raise AppError("NOT_FOUND", field="recordIds")
        rows = [found[i] for i in unique]
        if any(r.team_id not in viewer.team_ids for r in rows):
            raise AppError("FORBIDDEN", field="recordIds")
        for team_id, region_code in sorted({(r.team_id, r.region_code) for r in rows}):
            await check_team(session, services, team_id, region_code, "recordIds")
        if any(r.status not in (RecordStatus.PENDING, RecordStatus.CONFIRMED) for r in rows):
            raise AppError("INVALID_STATE", key="RECORD_NOT_PENDING", field="recordIds")
        for row in rows:
            if row.status == RecordStatus.PENDING:
                row.status, row.confirmed_at = RecordStatus.CONFIRMED, now
                session.add(
                    audit(viewer, "RECORD_CONFIRMED", "ServiceRecord", row, request_id, hours=row.hours)
                )
    return rows


async def decline_record(
    services: Services, viewer: Viewer, record_id: int, reason: str, request_id: str
) -> ServiceRecord:
    text = check_reason(reason)
    async with services.writes() as session, session.begin():
        row = await team_record(session, services, viewer, record_id)
        if row.status != RecordStatus.PENDING:
            raise AppError("INVALID_STATE", key="RECORD_NOT_PENDING", field="recordId")
        row.status, row.decline_reason = RecordStatus.DECLINED, text
        session.add(audit(viewer, "RECORD_DECLINED", "ServiceRecord", row, request_id, reason=text))
    return row


# --- corrections ----------------------------------------------------------------------------------------


async def _replaced(session: AsyncSession, record: ServiceRecord) -> bool:
    statement = select(col(ServiceRecord.id)).where(  # volunteer_id is indexed, replaces_id is not
        col(ServiceRecord.volunteer_id) == record.volunteer_id, col(ServiceRecord.replaces_id) == record.id
    )
    statement = statement.limit(1)
    return (await session.execute(statement)).first() is not None


async def correct(
    session: AsyncSession, viewer: Viewer, old: ServiceRecord, edit: RecordEdit, reason: str, request_id: str
) -> ServiceRecord:
    """Void ``old`` (a DECLINED one stays DECLINED) and add its corrected successor; the caller checked who."""
    if old.status not in (RecordStatus.PENDING, RecordStatus.CONFIRMED, RecordStatus.DECLINED):
        raise AppError("INVALID_STATE", key="RECORD_NOT_CORRECTABLE", field="recordId")
    assert old.id is not None
    if old.status == RecordStatus.DECLINED and await _replaced(session, old):
        raise AppError("INVALID_STATE", key="RECORD_NOT_CORRECTABLE", field="recordId")
    hours = old.hours if edit.hours is None else check_hours(edit.hours)
    started = (
        from_client(edit.started_at) if edit.started_at else (old.started_at and from_db(old.started_at))
    )
    ended = from_client(edit.ended_at) if edit.ended_at else (old.ended_at and from_db(old.ended_at))
    content = old.content if edit.content is None else check_content(edit.content, old.content)
    day = old.service_date
    if started is not None and ended is not None:
        project = await session.get(Project, old.project_id) if old.project_id else None
        moved = edit.started_at is not None or edit.ended_at is not None
        day = check_times(project if moved else None, None, started, ended, hours, utcnow())
    elif edit.started_at or edit.ended_at:
        raise AppError("BAD_USER_INPUT", key="TIME_ORDER", field="endedAt")
    if old.status != RecordStatus.DECLINED and (hours, started, ended, content) == (
        old.hours,
        old.started_at and from_db(old.started_at),
        old.ended_at and from_db(old.ended_at),
        old.content,
    ):
        raise AppError("BAD_USER_INPUT", key="NOTHING_TO_CORRECT")
    await lock_volunteers(session, {old.volunteer_id})
    entry = Entry(old.volunteer_id, day, started, ended, hours)
    (await Ledger.load(session, {old.volunteer_id}, day, day, exclude={old.id})).check(entry)
    confirmed = old.status == RecordStatus.CONFIRMED
    if old.status != RecordStatus.DECLINED:
        old.status, old.void_reason = RecordStatus.VOIDED, reason
    new = ServiceRecord(
        volunteer_id=old.volunteer_id,
        team_id=old.team_id,
        project_id=old.project_id,
        attendance_id=old.attendance_id,
        region_code=old.region_code,
        category=old.category,
        service_date=day,
        started_at=started,
        ended_at=ended,
        hours=hours,
        content=content,
        provenance=old.provenance,
        status=RecordStatus.CONFIRMED if confirmed else RecordStatus.PENDING,
        confirmed_at=utcnow() if confirmed else None,
        recorder_id=viewer.account_id,
        replaces_id=old.id,
    )
    session.add(new)
    await session.flush()
    session.add(
        audit(
            viewer,
            "RECORD_CORRECTED",
            "ServiceRecord",
            new,
            request_id,
            replaces=old.id,
            reason=reason,
            oldHours=old.hours,
            hours=hours,
        )
    )
    return new


async def correct_record(
    services: Services, viewer: Viewer, record_id: int, edit: RecordEdit, reason: str, request_id: str
) -> ServiceRecord:
    text = check_reason(reason)
    async with services.writes() as session, session.begin():
        old = await team_record(session, services, viewer, record_id)
        return await correct(session, viewer, old, edit, text, request_id)
