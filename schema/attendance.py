"""Check-in QR codes, check-in and check-out, and the organiser's corrections (签到签退): thin wrappers; the rules
and transactions are in resolvers/attendance.py and resolvers/checkin_presence.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

import models as m
from resolvers import attendance
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.permissions import requires
from schema.types.base import build
from schema.types.project import Attendance
from schema.types.registry import parse_global_id

AttendanceId = Annotated[
    strawberry.ID, strawberry.argument(description="The attendance's global ID (签到 ID)")
]
QrToken = Annotated[
    str | None, strawberry.argument(description="Token from the organiser's QR code (签到二维码内容)")
]
Latitude = Annotated[float | None, strawberry.argument(description="GPS latitude, WGS-84 (纬度)")]
Longitude = Annotated[float | None, strawberry.argument(description="GPS longitude, WGS-84 (经度)")]
IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Retry key: the same key returns the first answer (幂等键，最多 64 字符)"
    ),
]


def key_of(value: str, type_name: str, field: str) -> int:
    _, key = parse_global_id(value, expected=type_name, field=field)
    return int(key)


async def attendance_out(info: Info, attendance_id: int) -> Attendance:
    row = await info.context.loaders.by_key(m.Attendance).load(attendance_id)
    if row is None:
        raise AppError("NOT_FOUND", field="attendanceId")
    return build(Attendance, row)


@strawberry.type(description="Content of a check-in QR code, valid for a short while (签到二维码)")
class CheckInQrCode:
    token: str = strawberry.field(description="Encode this in the QR code (二维码内容)")
    expires_at: datetime = strawberry.field(description="Show a new code before this time (过期时间)")


@strawberry.type
class AttendanceMutation:
    @strawberry.mutation(
        description="Issue a short-lived check-in QR token for a published project of your team; a "
        "mutation so that it is never sent by GET or cached (生成签到二维码)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def attendance_qr_token(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project (项目 ID)")],
        sign_in_point_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The sign-in point shown at (签到点 ID)")
        ] = None,
    ) -> CheckInQrCode:
        ctx = info.context
        project_key = key_of(project_id, "Project", "projectId")
        point_key = key_of(sign_in_point_id, "SignInPoint", "signInPointId") if sign_in_point_id else None
        token, expires = await attendance.qr_token(ctx.services, ctx.viewer, project_key, point_key)
        return CheckInQrCode(token=token, expires_at=expires)

    @strawberry.mutation(
        description="Check in for your accepted sign-up with the organiser's QR code or your location (签到)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def check_in(
        self,
        info: Info,
        sign_up_id: Annotated[strawberry.ID, strawberry.argument(description="Your sign-up (报名 ID)")],
        qr_token: QrToken = None,
        latitude: Latitude = None,
        longitude: Longitude = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Attendance:
        ctx = info.context
        sign_up = key_of(sign_up_id, "SignUp", "signUpId")
        attendance_id = await attendance.check_in(
            ctx.services, ctx.viewer, sign_up, qr_token, latitude, longitude, idempotency_key
        )
        return await attendance_out(info, attendance_id)

    @strawberry.mutation(
        description="Check out; your actual service time becomes a pending service record (签退)",
        extensions=[requires(Requirement.VOLUNTEER)],
    )
    async def check_out(
        self,
        info: Info,
        attendance_id: AttendanceId,
        qr_token: QrToken = None,
        latitude: Latitude = None,
        longitude: Longitude = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Attendance:
        ctx = info.context
        key = key_of(attendance_id, "Attendance", "attendanceId")
        await attendance.check_out(
            ctx.services, ctx.viewer, key, qr_token, latitude, longitude, idempotency_key
        )
        return await attendance_out(info, key)

    @strawberry.mutation(
        description="Correct the times of an attendance of your team, with a reason; its pending record is "
        "voided and replaced (更正签到)",
        extensions=[requires(Requirement.TEAM_ADMIN)],
    )
    async def correct_attendance(
        self,
        info: Info,
        attendance_id: AttendanceId,
        check_in_at: Annotated[datetime, strawberry.argument(description="Actual check-in (实际签到时间)")],
        check_out_at: Annotated[datetime, strawberry.argument(description="Actual check-out (实际签退时间)")],
        reason: Annotated[str, strawberry.argument(description="Why (更正原因)")],
    ) -> Attendance:
        ctx = info.context
        row = await attendance.correct_attendance(
            ctx.services,
            ctx.viewer,
            key_of(attendance_id, "Attendance", "attendanceId"),
            check_in_at,
            check_out_at,
            reason,
            ctx.request_id,
        )
        return build(Attendance, row)
