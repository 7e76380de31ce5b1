"""Check-in and check-out (签到签退), the organiser's corrections, and the upkeep jobs.

* ``checkIn``: the volunteer of an ACCEPTED sign-up of a PUBLISHED project, from ``checkin_early_minutes``
  before the shift (the post's times, else the project's) until its end, with a QR token or GPS inside a sign-in
  point (resolvers/checkin_presence.py). One OPEN attendance per volunteer at a time (ALREADY_CHECKED_IN).
* ``checkOut``: the same proof again; the attendance is CLOSED and a PENDING record (provenance ATTENDANCE, no
  recorder: the system) gets the actual time, clipped to the shift and capped at ``max_hours_per_day`` and at
  what the day's 24 hours leave. No record when nothing is left or it would overlap another live record: the
  organiser corrects.
* ``correctAttendance``: an admin of the organising team sets both times with a reason; the attendance's
  PENDING record is voided and replaced (a CONFIRMED one is corrected with ``correctRecord`` instead).
* ``close_stale_attendance``: OPEN attendance older than ``stale_checkin_hours``, or past its project's end by
  2 hours, becomes FORCE_CLOSED without a record (the organiser corrects).
* ``purge_locations``: coordinates older than ``location_retention_days`` are erased (PIPL: limited retention).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import Attendance, Post, Project, ServiceRecord, SignInPoint, SignUp
from models.columns import utcnow
from models.db import SessionFactory
from models.enums import AttendanceStatus, ProjectStatus, RecordProvenance, RecordStatus, SignUpStatus
from resolvers.checkin_presence import issue_qr, presence
from resolvers.idempotency import once
from resolvers.record_rules import (
    LIVE,
    Entry,
    Ledger,
    check_reason,
    china_day,
    from_client,
    from_db,
    lock_volunteers,
    service_window,
    span_hours,
)
from resolvers.records import audit, check_team, new_row
from resolvers.rollout import ensure_live
from schema.context import Services
from schema.errors import AppError
from settings import Settings

log = logging.getLogger("zhiyuan.attendance")
STALE_AFTER_END = timedelta(hours=2)
PURGE_EVERY = timedelta(days=1)
"""Retention is counted in days; the purge scans attendance by time, so the sweeper runs it daily."""


def _volunteer_id(viewer: Viewer) -> int:
    if viewer.volunteer_id is None:
        raise AppError("FORBIDDEN", key="NOT_A_VOLUNTEER")
    return viewer.volunteer_id


async def _project_and_post(session: AsyncSession, sign_up_id: int) -> tuple[Project, Post | None]:
    sign_up = await session.get(SignUp, sign_up_id)
    assert sign_up is not None
    project = await session.get(Project, sign_up.project_id)
    assert project is not None
    return project, await session.get(Post, sign_up.post_id)


async def qr_token(
    services: Services, viewer: Viewer, project_id: int, point_id: int | None
) -> tuple[str, datetime]:
    """A check-in QR token for a PUBLISHED project of one of the viewer's teams, and when it expires."""
    async with services.sessions() as session:
        statement = scope(select(Project).where(col(Project.id) == project_id), Project, viewer)
        project = (await session.execute(statement)).scalar_one_or_none()
        if project is None:
            raise AppError("NOT_FOUND", field="projectId")
        if project.team_id not in viewer.team_ids:
            raise AppError("FORBIDDEN", field="projectId")
        if project.status != ProjectStatus.PUBLISHED:
            raise AppError("INVALID_STATE", key="PROJECT_NOT_PUBLISHED", field="projectId")
        if point_id is not None:
            point = await session.get(SignInPoint, point_id)
            if point is None or point.project_id != project_id:
                raise AppError("NOT_FOUND", field="signInPointId")
    return issue_qr(services.settings, project_id, point_id)


async def _own_open_attendance(session: AsyncSession, volunteer_id: int) -> bool:
    statement = select(col(Attendance.id)).where(
        col(Attendance.volunteer_id) == volunteer_id, col(Attendance.status) == AttendanceStatus.OPEN
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def check_in(
    services: Services,
    viewer: Viewer,
    sign_up_id: int,
    qr_token: str | None,
    latitude: float | None,
    longitude: float | None,
    key: str | None,
) -> int:
    volunteer_id = _volunteer_id(viewer)
    settings = services.settings

    async def work(session: AsyncSession) -> dict[str, object]:
        statement = scope(select(SignUp).where(col(SignUp.id) == sign_up_id), SignUp, viewer)
        sign_up = (await session.execute(statement)).scalar_one_or_none()
        if sign_up is None:
            raise AppError("NOT_FOUND", field="signUpId")
        if sign_up.volunteer_id != volunteer_id:
            raise AppError("FORBIDDEN", field="signUpId")
        await ensure_live(session, sign_up.region_code, settings.default_province_status, "signUpId")
        if sign_up.status != SignUpStatus.ACCEPTED:
            raise AppError("INVALID_STATE", key="SIGN_UP_NOT_ACCEPTED", field="signUpId")
        project, post = await _project_and_post(session, sign_up_id)
        if project.status != ProjectStatus.PUBLISHED:
            raise AppError("INVALID_STATE", key="PROJECT_NOT_PUBLISHED", field="signUpId")
        start, end = service_window(project, post)
        now = utcnow()
        if now < start - timedelta(minutes=settings.checkin_early_minutes):
            raise AppError("INVALID_STATE", key="CHECK_IN_TOO_EARLY", field="signUpId")
        if now >= end:
            raise AppError("INVALID_STATE", key="SHIFT_ENDED", field="signUpId")
        proof = await presence(session, settings, project.id or 0, qr_token, latitude, longitude)
        await lock_volunteers(session, {volunteer_id})
        if await _own_open_attendance(session, volunteer_id):
            raise AppError("INVALID_STATE", key="ALREADY_CHECKED_IN", field="signUpId")
        row = Attendance(
            sign_up_id=sign_up_id,
            volunteer_id=volunteer_id,
            project_id=sign_up.project_id,
            team_id=sign_up.team_id,
            region_code=sign_up.region_code,
            method=proof.method,
            status=AttendanceStatus.OPEN,
            check_in_at=now,
            check_in_lat=proof.latitude,
            check_in_lng=proof.longitude,
        )
        session.add(row)
        await session.flush()
        return {"attendanceId": row.id}

    arguments = {"signUpId": sign_up_id, "qr": qr_token, "lat": latitude, "lng": longitude}
    result = await once(services, viewer, key, "checkIn", arguments, work)
    return int(str(result["attendanceId"]))


async def _record_for(
    session: AsyncSession,
    services: Services,
    row: Attendance,
    recorder_id: int | None,
    replaces: ServiceRecord | None = None,
) -> ServiceRecord | None:
    """The PENDING record of a closed attendance, or None when no time is left to count (see the module doc);
    with ``recorder_id`` (an organiser's correction) the reasons for None are errors instead."""
    assert row.check_out_at is not None and row.id is not None
    project, post = await _project_and_post(session, row.sign_up_id)
    start, end = service_window(project, post)
    began, ended = max(from_db(row.check_in_at), start), min(from_db(row.check_out_at), end)
    strict = recorder_id is not None
    if ended <= began:
        if strict:
            raise AppError("BAD_USER_INPUT", key="OUTSIDE_PROJECT_WINDOW", field="checkInAt")
        return None
    day = china_day(began)
    await lock_volunteers(session, {row.volunteer_id})
    ledger = await Ledger.load(session, {row.volunteer_id}, day, day)
    if ledger.overlaps(row.volunteer_id, began, ended):
        if strict:
            raise AppError("BAD_USER_INPUT", key="OVERLAPPING_RECORD", field="checkInAt")
        return None
    cap = min(Decimal(services.settings.max_hours_per_day), ledger.room(row.volunteer_id, day))
    hours = min(span_hours(began, ended), cap)
    if hours <= 0:
        if strict:
            raise AppError("BAD_USER_INPUT", key="DAILY_LIMIT_EXCEEDED", field="checkOutAt")
        return None
    entry = Entry(row.volunteer_id, day, began, ended, hours)
    content = f"{project.name} · {post.name}" if post is not None else project.name
    record = new_row(
        project,
        entry,
        content[:500],
        RecordProvenance.ATTENDANCE,
        attendance_id=row.id,
        recorder_id=recorder_id,
        replaces_id=replaces.id if replaces is not None else None,
    )
    session.add(record)
    return record


async def check_out(
    services: Services,
    viewer: Viewer,
    attendance_id: int,
    qr_token: str | None,
    latitude: float | None,
    longitude: float | None,
    key: str | None,
) -> int:
    volunteer_id = _volunteer_id(viewer)
    settings = services.settings

    async def work(session: AsyncSession) -> dict[str, object]:
        statement = scope(select(Attendance).where(col(Attendance.id) == attendance_id), Attendance, viewer)
        row = (await session.execute(statement.with_for_update())).scalar_one_or_none()
        if row is None:
            raise AppError("NOT_FOUND", field="attendanceId")
        if row.volunteer_id != volunteer_id:
            raise AppError("FORBIDDEN", field="attendanceId")
        await ensure_live(session, row.region_code, settings.default_province_status, "attendanceId")
        if row.status != AttendanceStatus.OPEN:
            raise AppError("INVALID_STATE", key="NOT_CHECKED_IN", field="attendanceId")
        proof = await presence(session, settings, row.project_id, qr_token, latitude, longitude)
        row.status, row.check_out_at = AttendanceStatus.CLOSED, utcnow()
        row.check_out_lat, row.check_out_lng = proof.latitude, proof.longitude
        record = await _record_for(session, services, row, None)
        await session.flush()
        return {"attendanceId": row.id, "recordId": record.id if record is not None else None}

    arguments = {"attendanceId": attendance_id, "qr": qr_token, "lat": latitude, "lng": longitude}
    result = await once(services, viewer, key, "checkOut", arguments, work)
    return int(str(result["attendanceId"]))


async def correct_attendance(
    services: Services,
    viewer: Viewer,
    attendance_id: int,
    check_in_at: datetime,
    check_out_at: datetime,
    reason: str,
    request_id: str,
) -> Attendance:
    text = check_reason(reason)
    began, ended = from_client(check_in_at), from_client(check_out_at)
    if ended <= began:
        raise AppError("BAD_USER_INPUT", key="TIME_ORDER", field="checkOutAt")
    if ended > utcnow():
        raise AppError("BAD_USER_INPUT", key="FUTURE_TIME", field="checkOutAt")
    async with services.writes() as session, session.begin():
        statement = scope(select(Attendance).where(col(Attendance.id) == attendance_id), Attendance, viewer)
        row = (await session.execute(statement.with_for_update())).scalar_one_or_none()
        if row is None:
            raise AppError("NOT_FOUND", field="attendanceId")
        if row.team_id not in viewer.team_ids:
            raise AppError("FORBIDDEN", field="attendanceId")
        await check_team(session, services, row.team_id, row.region_code, "attendanceId")
        records = select(ServiceRecord).where(  # volunteer_id is indexed, attendance_id is not
            col(ServiceRecord.volunteer_id) == row.volunteer_id,
            col(ServiceRecord.attendance_id) == row.id,
            col(ServiceRecord.status).in_(LIVE),
        )
        live = list((await session.execute(records.with_for_update())).scalars())
        if any(r.status == RecordStatus.CONFIRMED for r in live):
            raise AppError("INVALID_STATE", key="RECORD_CONFIRMED", field="attendanceId")
        for record in live:
            record.status, record.void_reason = RecordStatus.VOIDED, text
        await session.flush()
        before = {"checkInAt": row.check_in_at, "checkOutAt": row.check_out_at, "status": str(row.status)}
        row.check_in_at, row.check_out_at, row.status = began, ended, AttendanceStatus.CLOSED
        row.correction_reason, row.corrected_by_id = text, viewer.account_id
        new = await _record_for(session, services, row, viewer.account_id, live[0] if live else None)
        await session.flush()
        session.add(
            audit(
                viewer,
                "ATTENDANCE_CORRECTED",
                "Attendance",
                row,
                request_id,
                reason=text,
                before={k: str(v) for k, v in before.items()},
                checkInAt=began,
                checkOutAt=ended,
                voided=[r.id for r in live],
                record=new and new.id,
            )
        )
    return row


# --- upkeep ---------------------------------------------------------------------------------------------


class Upkeep(Protocol):
    """What the upkeep jobs need: the app's ``Services``, or ``Jobs`` for the command line."""

    settings: Settings
    writes: SessionFactory


@dataclass
class Jobs:
    settings: Settings
    writes: SessionFactory


async def close_stale_attendance(services: Upkeep, now: datetime | None = None) -> int:
    """Force-close OPEN attendance that is too old or whose project ended 2 h ago; how many were closed."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=services.settings.stale_checkin_hours)
    ended = exists().where(
        col(Project.id) == col(Attendance.project_id), col(Project.ends_at) < now - STALE_AFTER_END
    )
    statement = (
        update(Attendance)
        .where(
            col(Attendance.status) == AttendanceStatus.OPEN, or_(col(Attendance.check_in_at) < cutoff, ended)
        )
        .values(status=AttendanceStatus.FORCE_CLOSED)
        .execution_options(synchronize_session=False)
    )
    async with services.writes() as session, session.begin():
        result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_locations(services: Upkeep, now: datetime | None = None) -> int:
    """Erase check-in and check-out coordinates older than the retention; how many attendances were purged."""
    now = now or utcnow()
    cutoff = now - timedelta(days=services.settings.location_retention_days)
    a = Attendance
    statement = (
        update(a)
        .where(
            col(a.location_purged_at).is_(None),
            col(a.check_in_at) < cutoff,
            or_(col(a.check_in_lat).is_not(None), col(a.check_out_lat).is_not(None)),
        )
        .values(check_in_lat=None, check_in_lng=None, check_out_lat=None, check_out_lng=None)
        .values(location_purged_at=now)
        .execution_options(synchronize_session=False)
    )
    async with services.writes() as session, session.begin():
        result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def sweep_forever(services: Upkeep, interval: float) -> None:
    """Close stale check-ins every ``interval`` seconds and purge locations once a day, until cancelled;
    errors are logged, never fatal."""
    if interval <= 0:
        raise ValueError("interval must be positive (0 means: do not start the sweeper)")
    purged_at: datetime | None = None
    while True:
        try:
            closed = await close_stale_attendance(services)
            purged = 0
            if purged_at is None or utcnow() - purged_at >= PURGE_EVERY:
                purged, purged_at = await purge_locations(services), utcnow()
            if closed or purged:
                log.info("attendance upkeep: %d force-closed, %d locations purged", closed, purged)
        except Exception:
            log.exception("attendance upkeep failed")
        await asyncio.sleep(interval)
