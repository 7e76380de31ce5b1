"""Check-in and check-out through HTTP: GPS inside and outside the radius, QR tokens (valid, expired, another
project's, tampered), one open check-in at a time, the time window, idempotent retries, hours from the actual
time (clipped, capped), the organiser's corrections, stale check-ins force-closed and locations purged.

Everything happens on teams, projects and volunteers made here in 江岸区/江汉区 (湖北, 42), a province the demo
data does not use; refusals are checked to write nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import jwt
import pytest
from sqlalchemy import delete, update
from starlette.applications import Starlette

import models as m
from models.enums import AttendanceStatus, ProjectStatus, ProvinceStatus, RecordStatus, SignUpStatus
from resolvers.attendance import close_stale_attendance, purge_locations
from settings import Settings
from tests.conftest import Api
from tests.record_world import POINT, Shift, Who, World, aware, china_day, code_of, make_world, now
from tests.visibility import db_id, gid

JIANGAN, JIANGHAN = "420102000000", "420103000000"
INSIDE = (POINT[0] + 0.0004, POINT[1])  # about 45 m north of the sign-in point
OUTSIDE = (POINT[0] + 0.01, POINT[1])  # about 1.1 km north

FIELDS = """
fragment A on Attendance {
  id method status checkInAt checkOutAt checkInLatitude checkInLongitude correctionReason locationPurgedAt
  serviceRecords(first: 10) {
    nodes { id hours status provenance category startedAt endedAt serviceDate voidReason replaces { id } }
  }
}
"""
CHECK_IN = (
    "mutation($s: ID!, $qr: String, $lat: Float, $lng: Float, $k: String) {"
    " checkIn(signUpId: $s, qrToken: $qr, latitude: $lat, longitude: $lng, idempotencyKey: $k) { ...A } }"
    + FIELDS
)
CHECK_OUT = (
    "mutation($a: ID!, $qr: String, $lat: Float, $lng: Float, $k: String) {"
    " checkOut(attendanceId: $a, qrToken: $qr, latitude: $lat, longitude: $lng, idempotencyKey: $k) { ...A } }"
    + FIELDS
)
QR = "mutation($p: ID!, $pt: ID) { attendanceQrToken(projectId: $p, signInPointId: $pt) { token expiresAt } }"
CORRECT = (
    "mutation($a: ID!, $i: DateTime!, $o: DateTime!, $r: String!) {"
    " correctAttendance(attendanceId: $a, checkInAt: $i, checkOutAt: $o, reason: $r) { ...A } }" + FIELDS
)
ATTENDANCE = "query($id: ID!) { node(id: $id) { ...A } }" + FIELDS


@pytest.fixture(scope="module")
async def world(app: Starlette, api: Api, tokens: dict[str, str]) -> World:
    return await make_world(app, api, tokens, JIANGAN, JIANGHAN)


async def enrolled(
    w: World, started: timedelta = timedelta(hours=-6), ends: timedelta = timedelta(hours=5), **kw: Any
) -> tuple[Shift, Who, str]:
    """A published shift of ``home`` (starting ``started`` from now) and a volunteer accepted for it."""
    t = now()
    shift = await w.shift(w.teams["home"], t + started, t + ends, **kw)
    who = await w.volunteer()
    return shift, who, await w.sign_up(shift, who)


async def check_in(
    w: World, who: Who, sign_up: str, at: tuple[float, float] = INSIDE, **kw: Any
) -> dict[str, Any]:
    variables = {"s": sign_up, "lat": at[0], "lng": at[1], **kw}
    return await w.as_(who).gql(CHECK_IN, variables)


async def checked_in(w: World, who: Who, sign_up: str, back: timedelta = timedelta(0)) -> str:
    """Checked in by GPS, the check-in then moved ``back`` into the past; the attendance's global ID."""
    body = await check_in(w, who, sign_up)
    assert "errors" not in body, body
    attendance = body["data"]["checkIn"]["id"]
    if back:
        async with w.sessions() as session, session.begin():
            row = await session.get(m.Attendance, db_id(attendance))
            assert row is not None
            row.check_in_at = aware(row.check_in_at) - back  # type: ignore[operator]
    return str(attendance)


async def check_out(
    w: World, who: Who, attendance: str, at: tuple[float, float] = INSIDE, **kw: Any
) -> dict[str, Any]:
    return await w.as_(who).gql(CHECK_OUT, {"a": attendance, "lat": at[0], "lng": at[1], **kw})


async def refused(
    w: World,
    who: Who | str | None,
    query: str,
    variables: dict[str, Any],
    code: str,
    reason: str | None = None,
    about: Who | None = None,
) -> dict[str, Any]:
    """The call fails with ``code`` (and ``reason``) and changes nothing about ``about`` (default ``who``)."""
    subject = about or (who if isinstance(who, Who) else None)
    before = await w.state(subject) if subject else None
    body = await w.as_(who).gql(query, variables)
    assert body.get("data") is None or all(v is None for v in body["data"].values()), body
    assert code_of(body) == (code, reason), body
    if subject:
        assert await w.state(subject) == before
    return body


def hours_between(start: str, end: str) -> Decimal:
    seconds = Decimal(str((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()))
    return (seconds / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- GPS ------------------------------------------------------------------------------------------------


async def test_gps_inside_the_radius_then_check_out_records_the_actual_time(world: World) -> None:
    w = world
    shift, who, sign_up = await enrolled(w)
    body = await check_in(w, who, sign_up)
    attendance = body["data"]["checkIn"]
    assert attendance["method"] == "GPS" and attendance["status"] == "OPEN"
    assert attendance["checkInLatitude"] == pytest.approx(INSIDE[0])
    assert attendance["serviceRecords"]["nodes"] == []
    async with w.sessions() as session, session.begin():
        row = await session.get(m.Attendance, db_id(attendance["id"]))
        assert row is not None
        row.check_in_at = aware(row.check_in_at) - timedelta(hours=2, minutes=30, seconds=18)  # type: ignore[operator]

    out = (await check_out(w, who, attendance["id"]))["data"]["checkOut"]
    assert out["status"] == "CLOSED" and out["checkOutAt"]
    [record] = out["serviceRecords"]["nodes"]
    assert record["status"] == "PENDING" and record["provenance"] == "ATTENDANCE"
    assert record["category"] == "ELDERLY_DISABLED"
    assert (
        Decimal(record["hours"]) == hours_between(record["startedAt"], record["endedAt"]) == Decimal("2.51")
    )
    row = await w.get(m.ServiceRecord, db_id(record["id"]))
    assert row.recorder_id is None and row.attendance_id == db_id(attendance["id"])
    assert (row.team_id, row.project_id, row.region_code) == (shift.team, shift.project, shift.region)
    assert row.service_date == china_day(row.started_at)

    # coordinates are the volunteer's own; the organiser and a county admin without the reveal right read null
    for reader in (w.admins["home"], w.admins["county"]):
        seen = (await w.as_(reader).data(ATTENDANCE, {"id": attendance["id"]}))["node"]
        assert seen["checkInLatitude"] is None and seen["checkInLongitude"] is None


async def test_gps_outside_the_radius_is_refused_with_the_distance(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    body = await refused(
        w,
        who,
        CHECK_IN,
        {"s": sign_up, "lat": OUTSIDE[0], "lng": OUTSIDE[1]},
        "BAD_USER_INPUT",
        "OUT_OF_RANGE",
    )
    ext = body["errors"][0]["extensions"]
    assert 1050 <= ext["distanceM"] <= 1180 and ext["radiusM"] == 200
    assert "1" in body["errors"][0]["message"]
    await refused(w, who, CHECK_IN, {"s": sign_up}, "BAD_USER_INPUT", "LOCATION_REQUIRED")
    await refused(
        w, who, CHECK_IN, {"s": sign_up, "lat": 91.0, "lng": 114.0}, "BAD_USER_INPUT", "COORDINATES_FORMAT"
    )
    # a project without sign-in points takes QR codes only
    _, who2, sign_up2 = await enrolled(w, point=None)
    await refused(
        w,
        who2,
        CHECK_IN,
        {"s": sign_up2, "lat": INSIDE[0], "lng": INSIDE[1]},
        "INVALID_STATE",
        "NO_SIGN_IN_POINT",
    )
    # a wider radius lets the same place in
    _, who3, sign_up3 = await enrolled(w, radius=1500)
    assert "errors" not in await check_in(w, who3, sign_up3, OUTSIDE)


# --- QR codes -------------------------------------------------------------------------------------------


async def qr(w: World, who: Who | str, shift: Shift, point: int | None = None) -> dict[str, Any]:
    variables = {"p": shift.project_gid, "pt": gid("SignInPoint", point) if point else None}
    return await w.as_(who).gql(QR, variables)


def forged(settings: Settings, **claims: Any) -> str:
    t = int(datetime.now(UTC).timestamp())
    payload = {"aud": "checkin", "iss": "zhiyuan", "iat": t - 300, "exp": t + 60, **claims}
    kid = settings.jwt_active_kid
    return jwt.encode(payload, settings.jwt_keys[kid], algorithm="HS256", headers={"kid": kid})


async def test_qr_tokens_valid_expired_other_project_and_tampered(world: World, settings: Settings) -> None:
    w = world
    shift, who, sign_up = await enrolled(w)
    other_shift, *_ = await enrolled(w)
    issued = await w.as_(w.admins["home"]).data(
        QR, {"p": shift.project_gid, "pt": gid("SignInPoint", shift.point)}
    )
    token = issued["attendanceQrToken"]["token"]
    expires = aware(datetime.fromisoformat(issued["attendanceQrToken"]["expiresAt"]))
    assert expires is not None
    assert timedelta(seconds=100) < expires - datetime.now(UTC) <= timedelta(seconds=121)

    other = (await qr(w, w.admins["home"], other_shift))["data"]["attendanceQrToken"]["token"]
    expired = forged(settings, prj=shift.project, exp=int(datetime.now(UTC).timestamp()) - 5)
    head, payload, signature = token.split(".")
    tampered_payload = forged(settings, prj=other_shift.project).split(".")[1]
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    cases = [
        (expired, "QR_EXPIRED"),
        (other, "QR_WRONG_PROJECT"),
        (f"{head}.{tampered_payload}.{signature}", "QR_INVALID"),
        (f"{head}.{payload}.{flipped}", "QR_INVALID"),
        (w.tokens["demo_volunteer"], "QR_INVALID"),  # an access token is not a QR token
        (forged(settings, prj=shift.project, aud="login"), "QR_INVALID"),
        ("not-a-token", "QR_INVALID"),
    ]
    for bad, reason in cases:
        await refused(w, who, CHECK_IN, {"s": sign_up, "qr": bad}, "BAD_USER_INPUT", reason)

    # a QR token is not an access token either
    rejected = await w.api.as_(token).post("{ viewer { username } }")
    assert rejected.status_code == 401

    ok = await w.as_(who).data(CHECK_IN, {"s": sign_up, "qr": token, "lat": OUTSIDE[0], "lng": OUTSIDE[1]})
    assert ok["checkIn"]["method"] == "QR"
    row = await w.get(m.Attendance, db_id(ok["checkIn"]["id"]))
    assert row.check_in_lat is None and row.check_in_lng is None  # a QR check-in keeps no location
    out = (await w.as_(who).data(CHECK_OUT, {"a": ok["checkIn"]["id"], "qr": token}))["checkOut"]
    assert out["status"] == "CLOSED"


async def test_who_may_get_a_qr_token(world: World) -> None:
    w = world
    shift, *_ = await enrolled(w)
    draft, *_ = await enrolled(w, status=ProjectStatus.DRAFT)
    stranger, *_ = await enrolled(w)
    assert code_of(await qr(w, w.admins["other"], shift)) == ("NOT_FOUND", None)
    assert code_of(await qr(w, w.admins["mixed"], shift)) == ("FORBIDDEN", None)
    assert code_of(await qr(w, w.admins["county"], shift)) == ("FORBIDDEN", None)
    assert code_of(await qr(w, "demo_volunteer", shift)) == ("FORBIDDEN", None)
    assert code_of(await w.api.gql(QR, {"p": shift.project_gid})) == ("UNAUTHENTICATED", None)
    assert code_of(await qr(w, w.admins["home"], draft)) == ("INVALID_STATE", "PROJECT_NOT_PUBLISHED")
    assert code_of(await qr(w, w.admins["home"], shift, stranger.point)) == ("NOT_FOUND", None)
    assert "errors" not in await qr(w, w.admins["home"], shift)


# --- the check-in rules ---------------------------------------------------------------------------------


async def test_one_open_check_in_at_a_time(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    second = await w.shift(w.teams["home"], now() - timedelta(hours=1), now() + timedelta(hours=3))
    other_sign_up = await w.sign_up(second, who)
    attendance = await checked_in(w, who, sign_up)
    await refused(
        w,
        who,
        CHECK_IN,
        {"s": other_sign_up, "lat": INSIDE[0], "lng": INSIDE[1]},
        "INVALID_STATE",
        "ALREADY_CHECKED_IN",
    )
    await refused(
        w,
        who,
        CHECK_IN,
        {"s": sign_up, "lat": INSIDE[0], "lng": INSIDE[1]},
        "INVALID_STATE",
        "ALREADY_CHECKED_IN",
    )
    assert "errors" not in await check_out(w, who, attendance)
    assert (await check_in(w, who, other_sign_up))["data"]["checkIn"]["status"] == "OPEN"
    assert len(await w.rows(m.Attendance, volunteer_id=who.volunteer_id, status=AttendanceStatus.OPEN)) == 1


async def test_concurrent_check_ins_open_one_attendance(world: World) -> None:
    w = world
    shift, who, sign_up = await enrolled(w)
    other = await w.sign_up(
        await w.shift(shift.team, now() - timedelta(hours=1), now() + timedelta(hours=3)), who
    )
    bodies = await asyncio.gather(*(check_in(w, who, s) for s in (sign_up, other, sign_up, other)))
    assert sorted(code_of(b)[1] if b.get("errors") else "OK" for b in bodies) == [
        "ALREADY_CHECKED_IN",
        "ALREADY_CHECKED_IN",
        "ALREADY_CHECKED_IN",
        "OK",
    ]
    assert len(await w.rows(m.Attendance, volunteer_id=who.volunteer_id)) == 1


async def test_check_in_refusals(world: World) -> None:
    w = world
    gps = {"lat": INSIDE[0], "lng": INSIDE[1]}
    shift, who, sign_up = await enrolled(w)
    pending = await w.sign_up(
        await w.shift(w.teams["home"], now() - timedelta(hours=1), now() + timedelta(hours=2)),
        who,
        SignUpStatus.PENDING,
    )
    await refused(w, who, CHECK_IN, {"s": pending, **gps}, "INVALID_STATE", "SIGN_UP_NOT_ACCEPTED")
    _, who2, draft = await enrolled(w, status=ProjectStatus.DRAFT)
    await refused(w, who2, CHECK_IN, {"s": draft, **gps}, "INVALID_STATE", "PROJECT_NOT_PUBLISHED")
    _, who3, early = await enrolled(w, started=timedelta(hours=2))
    await refused(w, who3, CHECK_IN, {"s": early, **gps}, "INVALID_STATE", "CHECK_IN_TOO_EARLY")
    _, who4, soon = await enrolled(w, started=timedelta(minutes=30))
    assert "errors" not in await check_in(w, who4, soon)  # checkin_early_minutes = 60
    _, who5, ended = await enrolled(w, started=timedelta(hours=-5), ends=timedelta(minutes=-1))
    await refused(w, who5, CHECK_IN, {"s": ended, **gps}, "INVALID_STATE", "SHIFT_ENDED")
    t = now()
    _, who6, later = await enrolled(w, post_starts=t + timedelta(hours=3), post_ends=t + timedelta(hours=4))
    await refused(w, who6, CHECK_IN, {"s": later, **gps}, "INVALID_STATE", "CHECK_IN_TOO_EARLY")
    # someone else's sign-up: invisible to another volunteer, visible but not theirs to a team admin-volunteer
    await refused(w, who2, CHECK_IN, {"s": sign_up, **gps}, "NOT_FOUND", None, about=who)
    await refused(
        w, w.admins["volunteer_admin"], CHECK_IN, {"s": sign_up, **gps}, "FORBIDDEN", None, about=who
    )
    await refused(w, w.admins["home"], CHECK_IN, {"s": sign_up, **gps}, "FORBIDDEN", None, about=who)
    await refused(w, None, CHECK_IN, {"s": sign_up, **gps}, "UNAUTHENTICATED", None, about=who)
    await refused(w, who, CHECK_IN, {"s": gid("Post", shift.post), **gps}, "BAD_USER_INPUT", "BAD_ID")


async def test_legacy_provinces_refuse_check_in(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    async with w.sessions() as session, session.begin():
        session.add(m.ProvinceRollout(province_code="420000000000", status=ProvinceStatus.LEGACY))
    try:
        await refused(
            w, who, CHECK_IN, {"s": sign_up, "lat": INSIDE[0], "lng": INSIDE[1]}, "PROVINCE_NOT_LIVE"
        )
    finally:
        async with w.sessions() as session, session.begin():
            await session.execute(
                delete(m.ProvinceRollout).where(m.ProvinceRollout.province_code == "420000000000")
            )  # type: ignore[arg-type]


async def test_retries_with_the_same_key_check_in_and_out_once(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    first = await check_in(w, who, sign_up, k="phone-retry-1")
    again = await check_in(w, who, sign_up, k="phone-retry-1")
    assert "errors" not in again and again["data"]["checkIn"]["id"] == first["data"]["checkIn"]["id"]
    assert len(await w.rows(m.Attendance, volunteer_id=who.volunteer_id)) == 1
    await refused(
        w,
        who,
        CHECK_IN,
        {"s": sign_up, "lat": INSIDE[0] + 0.0001, "lng": INSIDE[1], "k": "phone-retry-1"},
        "BAD_USER_INPUT",
        "IDEMPOTENCY_KEY_REUSED",
    )
    attendance = first["data"]["checkIn"]["id"]
    async with w.sessions() as session, session.begin():
        await session.execute(
            update(m.Attendance)
            .where(m.Attendance.id == db_id(attendance))  # type: ignore[arg-type]
            .values(check_in_at=now() - timedelta(hours=1))
        )
    out = await check_out(w, who, attendance, k="phone-retry-2")
    out_again = await check_out(w, who, attendance, k="phone-retry-2")
    assert out["data"] == out_again["data"]
    assert len(await w.rows(m.ServiceRecord, volunteer_id=who.volunteer_id)) == 1


# --- hours from the actual time -------------------------------------------------------------------------


async def test_hours_are_clipped_to_the_shift(world: World) -> None:
    w = world
    shift, who, sign_up = await enrolled(w, started=timedelta(hours=-1))
    attendance = await checked_in(w, who, sign_up, back=timedelta(hours=3))
    [record] = (await check_out(w, who, attendance))["data"]["checkOut"]["serviceRecords"]["nodes"]
    project = await w.get(m.Project, shift.project)
    assert aware(datetime.fromisoformat(record["startedAt"])) == aware(project.starts_at)
    assert Decimal(record["hours"]) == hours_between(record["startedAt"], record["endedAt"])
    assert Decimal("0.99") <= Decimal(record["hours"]) <= Decimal("1.02")


async def test_hours_are_capped_per_check_out_and_per_day(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w, started=timedelta(hours=-20))
    attendance = await checked_in(w, who, sign_up, back=timedelta(hours=14))
    [record] = (await check_out(w, who, attendance))["data"]["checkOut"]["serviceRecords"]["nodes"]
    assert record["hours"] == "12.00"  # max_hours_per_day

    _, who2, sign_up2 = await enrolled(w)
    attendance2 = await checked_in(w, who2, sign_up2, back=timedelta(hours=5))
    day = china_day((await w.get(m.Attendance, db_id(attendance2))).check_in_at)
    await w.record(who2, w.teams["other"], "20.00", day)  # another team's record on that day, without times
    await w.record(who2, w.teams["other"], "3.00", day, RecordStatus.DECLINED)  # declined rows do not count
    [record2] = (await check_out(w, who2, attendance2))["data"]["checkOut"]["serviceRecords"]["nodes"]
    assert record2["hours"] == "4.00"  # 24 h per day across all records


async def test_no_record_when_the_time_overlaps_another_record(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    attendance = await checked_in(w, who, sign_up, back=timedelta(hours=2))
    begun = aware((await w.get(m.Attendance, db_id(attendance))).check_in_at)
    assert begun is not None
    await w.record(
        who,
        w.teams["other"],
        "1.00",
        china_day(begun),
        started=begun + timedelta(minutes=30),
        ended=begun + timedelta(minutes=90),
    )
    out = (await check_out(w, who, attendance))["data"]["checkOut"]
    assert out["status"] == "CLOSED" and out["serviceRecords"]["nodes"] == []


async def test_check_out_refusals(world: World) -> None:
    w = world
    _, who, sign_up = await enrolled(w)
    _, stranger, _ = await enrolled(w)
    attendance = await checked_in(w, who, sign_up, back=timedelta(hours=1))
    await refused(
        w,
        stranger,
        CHECK_OUT,
        {"a": attendance, "lat": INSIDE[0], "lng": INSIDE[1]},
        "NOT_FOUND",
        None,
        about=who,
    )
    await refused(
        w,
        w.admins["home"],
        CHECK_OUT,
        {"a": attendance, "lat": INSIDE[0], "lng": INSIDE[1]},
        "FORBIDDEN",
        None,
        about=who,
    )
    await refused(
        w,
        who,
        CHECK_OUT,
        {"a": attendance, "lat": OUTSIDE[0], "lng": OUTSIDE[1]},
        "BAD_USER_INPUT",
        "OUT_OF_RANGE",
    )
    assert (await w.get(m.Attendance, db_id(attendance))).status == AttendanceStatus.OPEN
    assert "errors" not in await check_out(w, who, attendance)
    await refused(
        w,
        who,
        CHECK_OUT,
        {"a": attendance, "lat": INSIDE[0], "lng": INSIDE[1]},
        "INVALID_STATE",
        "NOT_CHECKED_IN",
    )


# --- the organiser's corrections ------------------------------------------------------------------------


async def test_correct_attendance_voids_and_replaces_the_pending_record(world: World) -> None:
    w = world
    shift, who, sign_up = await enrolled(w)
    attendance = await checked_in(w, who, sign_up, back=timedelta(hours=2))
    [old] = (await check_out(w, who, attendance))["data"]["checkOut"]["serviceRecords"]["nodes"]
    start = aware((await w.get(m.Project, shift.project)).starts_at)
    assert start is not None
    times = {
        "a": attendance,
        "i": (start + timedelta(minutes=10)).isoformat(),
        "o": (start + timedelta(minutes=70)).isoformat(),
    }
    ok = {**times, "r": "忘记签退，按现场登记更正"}
    await refused(
        w, w.admins["home"], CORRECT, {**times, "r": "  "}, "BAD_USER_INPUT", "REASON_REQUIRED", about=who
    )
    await refused(
        w, w.admins["home"], CORRECT, {**ok, "o": times["i"]}, "BAD_USER_INPUT", "TIME_ORDER", about=who
    )
    future = (now() + timedelta(hours=1)).isoformat()
    await refused(
        w, w.admins["home"], CORRECT, {**ok, "o": future}, "BAD_USER_INPUT", "FUTURE_TIME", about=who
    )
    await refused(w, w.admins["other"], CORRECT, ok, "NOT_FOUND", None, about=who)
    await refused(w, w.admins["mixed"], CORRECT, ok, "FORBIDDEN", None, about=who)
    await refused(w, w.admins["county"], CORRECT, ok, "FORBIDDEN", None, about=who)
    await refused(w, who, CORRECT, ok, "FORBIDDEN", None)
    audits = await w.audit_count("ATTENDANCE_CORRECTED")

    corrected = (await w.as_(w.admins["home"]).data(CORRECT, ok))["correctAttendance"]
    assert corrected["status"] == "CLOSED" and corrected["correctionReason"] == ok["r"]
    by_id = {r["id"]: r for r in corrected["serviceRecords"]["nodes"]}
    assert by_id[old["id"]]["status"] == "VOIDED" and by_id[old["id"]]["voidReason"] == ok["r"]
    [new] = [r for r in by_id.values() if r["id"] != old["id"]]
    assert new["status"] == "PENDING" and new["hours"] == "1.00" and new["replaces"] == {"id": old["id"]}
    row = await w.get(m.Attendance, db_id(attendance))
    assert row.corrected_by_id == w.admins["home"].account_id
    assert await w.audit_count("ATTENDANCE_CORRECTED") == audits + 1

    async with w.sessions() as session, session.begin():
        record = await session.get(m.ServiceRecord, db_id(new["id"]))
        assert record is not None
        record.status = RecordStatus.CONFIRMED
    await refused(w, w.admins["home"], CORRECT, ok, "INVALID_STATE", "RECORD_CONFIRMED", about=who)


async def test_a_force_closed_attendance_is_corrected_into_a_record(world: World) -> None:
    w = world
    shift, who, sign_up = await enrolled(w)
    t = now()
    async with w.sessions() as session, session.begin():
        row = m.Attendance(
            sign_up_id=db_id(sign_up),
            volunteer_id=who.volunteer_id,
            project_id=shift.project,
            team_id=shift.team,
            region_code=shift.region,
            status=AttendanceStatus.FORCE_CLOSED,
            check_in_at=t - timedelta(hours=4),
        )
        session.add(row)
        await session.flush()
        attendance = gid("Attendance", row.id)
    variables = {
        "a": attendance,
        "i": (t - timedelta(hours=4)).isoformat(),
        "o": (t - timedelta(hours=1)).isoformat(),
        "r": "签退遗漏",
    }
    corrected = (await w.as_(w.admins["home"]).data(CORRECT, variables))["correctAttendance"]
    [record] = corrected["serviceRecords"]["nodes"]
    assert record["hours"] == "3.00" and record["replaces"] is None and record["status"] == "PENDING"


# --- upkeep ---------------------------------------------------------------------------------------------


async def _open(w: World, shift: Shift, who: Who, sign_up: str, checked_in: datetime, **extra: Any) -> int:
    async with w.sessions() as session, session.begin():
        row = m.Attendance(
            sign_up_id=db_id(sign_up),
            volunteer_id=who.volunteer_id,
            project_id=shift.project,
            team_id=shift.team,
            region_code=shift.region,
            check_in_at=checked_in,
            **extra,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def test_stale_check_ins_are_force_closed(world: World, app: Starlette) -> None:
    w = world
    t = now()
    running, who, sign_up = await enrolled(w, started=timedelta(hours=-20), ends=timedelta(hours=10))
    finished, who2, sign_up2 = await enrolled(w, started=timedelta(hours=-6), ends=timedelta(hours=-3))
    just_finished, who3, sign_up3 = await enrolled(w, started=timedelta(hours=-6), ends=timedelta(hours=-1))
    _, who4, sign_up4 = await enrolled(w, started=timedelta(hours=-20), ends=timedelta(hours=10))
    stale = await _open(w, running, who, sign_up, t - timedelta(hours=13))
    ended = await _open(w, finished, who2, sign_up2, t - timedelta(hours=5))
    recent = await _open(w, just_finished, who3, sign_up3, t - timedelta(hours=5))
    fresh = await _open(w, running, who4, sign_up4, t - timedelta(hours=11))

    assert await close_stale_attendance(app.state.services) >= 2
    status = {i: (await w.get(m.Attendance, i)).status for i in (stale, ended, recent, fresh)}
    assert status == {
        stale: AttendanceStatus.FORCE_CLOSED,  # older than stale_checkin_hours (12)
        ended: AttendanceStatus.FORCE_CLOSED,  # its project ended more than 2 h ago
        recent: AttendanceStatus.OPEN,
        fresh: AttendanceStatus.OPEN,
    }
    assert (await w.get(m.Attendance, stale)).check_out_at is None
    assert await w.rows(m.ServiceRecord, attendance_id=stale) == []  # the organiser corrects
    # the volunteer may check in again
    assert "errors" not in await check_in(
        w,
        who,
        await w.sign_up(await w.shift(running.team, t - timedelta(hours=1), t + timedelta(hours=1)), who),
    )


async def test_locations_are_purged_after_the_retention(world: World, app: Starlette) -> None:
    """Run as of a day in the year 2000, so that only these rows are old enough (the demo data is newer)."""
    w = world
    shift, who, sign_up = await enrolled(w)
    coordinates = {
        "check_in_lat": INSIDE[0],
        "check_in_lng": INSIDE[1],
        "check_out_lat": INSIDE[0],
        "check_out_lng": INSIDE[1],
    }
    rows = {}
    for day in (1, 4, 31):  # 2000-01-01 and -04 are past the 30 days on 2000-02-03; -31 is not
        checked_in = datetime(2000, 1, day, 8, tzinfo=UTC)
        extra = {"status": AttendanceStatus.CLOSED, "check_out_at": checked_in + timedelta(hours=2)}
        rows[day] = await _open(w, shift, who, sign_up, checked_in, **extra, **coordinates)
    as_of = datetime(2000, 2, 3, 12, tzinfo=UTC)

    assert await purge_locations(app.state.services, as_of) == 2
    old, kept = await w.get(m.Attendance, rows[1]), await w.get(m.Attendance, rows[31])
    assert (old.check_in_lat, old.check_in_lng, old.check_out_lat, old.check_out_lng) == (
        None,
        None,
        None,
        None,
    )
    assert aware(old.location_purged_at) == as_of
    assert kept.check_in_lat == pytest.approx(INSIDE[0]) and kept.location_purged_at is None
    mine = (await w.as_(who).data(ATTENDANCE, {"id": gid("Attendance", rows[1])}))["node"]
    assert mine["checkInLatitude"] is None and mine["locationPurgedAt"] is not None
    assert await purge_locations(app.state.services, as_of) == 0  # purged once


async def test_the_command_line_closes_stale_check_ins(world: World, settings: Settings) -> None:
    from cli import attendance_upkeep

    w = world
    shift, who, sign_up = await enrolled(w, started=timedelta(hours=-30), ends=timedelta(hours=10))
    stale = await _open(w, shift, who, sign_up, now() - timedelta(hours=25))
    assert await attendance_upkeep(settings, "close-stale") >= 1
    assert (await w.get(m.Attendance, stale)).status == AttendanceStatus.FORCE_CLOSED
