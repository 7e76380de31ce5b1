"""Service records through HTTP: recording by the organising team (谁组织谁记录) and every refusal, overlaps and
the 24-hour day, idempotent retries, bulk confirmation, declines, corrections that keep the history, correction
requests (申诉), CSV import with a row-by-row report, totals and star levels, and the statements they cost.

Everything happens in 芙蓉区/天心区 (湖南, 43), a province the demo data does not use; refusals write nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

import models as m
from models.enums import (
    MembershipStatus,
    ProjectStatus,
    RecordProvenance,
    RecordStatus,
    SignUpStatus,
    TeamStatus,
)
from tests.conftest import Api
from tests.record_world import (
    CHINA,
    Shift,
    Who,
    World,
    aware,
    china_day,
    code_of,
    make_world,
    now,
    team_grant,
)
from tests.visibility import db_id, gid

FURONG, TIANXIN = "430102000000", "430103000000"

RECORD_FIELDS = """
fragment R on ServiceRecord {
  id hours status provenance serviceDate startedAt endedAt content voidReason declineReason confirmedAt
  replaces { id hours status } replacedBy { id } volunteer { volunteerNumber } project { id }
}
"""
RECORD = (
    "mutation($input: RecordServiceInput!, $k: String) { recordService(input: $input, idempotencyKey: $k) { ...R } }"
    + RECORD_FIELDS
)
CONFIRM = "mutation($ids: [ID!]!) { confirmRecords(recordIds: $ids) { ...R } }" + RECORD_FIELDS
DECLINE = (
    "mutation($id: ID!, $r: String!) { declineRecord(recordId: $id, reason: $r) { ...R } }" + RECORD_FIELDS
)
CORRECT = (
    "mutation($id: ID!, $r: String!, $h: Decimal, $s: DateTime, $e: DateTime, $c: String) {"
    " correctRecord(recordId: $id, reason: $r, hours: $h, startedAt: $s, endedAt: $e, content: $c) { ...R } }"
    + RECORD_FIELDS
)
REQUEST = """mutation($id: ID!, $r: String!, $h: Decimal) {
  requestCorrection(recordId: $id, reason: $r, requestedHours: $h) {
    id status reason requestedHours response answeredAt record { id } } }"""
ANSWER = (
    "mutation($id: ID!, $a: Boolean!, $r: String, $h: Decimal) {"
    " answerCorrection(requestId: $id, accept: $a, response: $r, hours: $h) {"
    " request { id status response answeredAt } record { ...R } } }" + RECORD_FIELDS
)
IMPORT = """mutation($p: ID!, $csv: String!) {
  importServiceRecords(projectId: $p, csv: $csv) { accepted rejected { line volunteerNumber code message } } }"""
TOTALS = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Volunteer {
  id totalHours recordCount starLevel hoursToNextStar serviceRecords(first: 50) { totalCount } } } }"""
NODE = "query($id: ID!) { node(id: $id) { ...R } }" + RECORD_FIELDS


@pytest.fixture(scope="module")
async def world(app: Starlette, api: Api, tokens: dict[str, str]) -> World:
    return await make_world(app, api, tokens, FURONG, TIANXIN)


@pytest.fixture(scope="module")
async def shift(world: World) -> Shift:
    """A project of ``home`` that ran from 10 days ago until tomorrow."""
    t = now()
    return await world.shift(world.teams["home"], t - timedelta(days=10), t + timedelta(days=1))


DAY = china_day(now() - timedelta(days=5))


def at(day: date, hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA).isoformat()


def entry(
    shift: Shift,
    who: Who,
    start: str = "08:00",
    end: str = "10:00",
    hours: str = "2",
    day: date = DAY,
    **kw: Any,
) -> dict[str, Any]:
    values = {
        "volunteerId": who.gid,
        "projectId": shift.project_gid,
        "serviceDate": day.isoformat(),
        "startedAt": at(day, start),
        "endedAt": at(day, end),
        "hours": hours,
        "content": "陪伴老人",
    }
    values.update(kw)
    return values


async def participant(w: World, shift: Shift) -> Who:
    who = await w.volunteer()
    await w.sign_up(shift, who)
    return who


async def refused(
    w: World,
    who: Who | str | None,
    query: str,
    variables: dict[str, Any],
    code: str,
    reason: str | None = None,
    about: Who | None = None,
) -> dict[str, Any]:
    subject = about or (who if isinstance(who, Who) else None)
    before = await w.state(subject) if subject else None
    body = await w.as_(who).gql(query, variables)
    assert body.get("data") is None or all(v is None for v in body["data"].values()), body
    assert code_of(body) == (code, reason), body
    if subject:
        assert await w.state(subject) == before
    return body


async def recorded(w: World, shift: Shift, who: Who, **kw: Any) -> dict[str, Any]:
    body = await w.as_(w.admins["home"]).gql(RECORD, {"input": entry(shift, who, **kw)})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordService"]
    return result


# --- recording ------------------------------------------------------------------------------------------


async def test_the_organising_team_records_a_pending_manual_record(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    audits = await w.audit_count("RECORD_CREATED")
    record = await recorded(w, shift, who, hours="1.75")
    assert record["status"] == "PENDING" and record["provenance"] == "MANUAL" and record["hours"] == "1.75"
    assert record["serviceDate"] == DAY.isoformat() and record["content"] == "陪伴老人"
    row = await w.get(m.ServiceRecord, db_id(record["id"]))
    assert row.recorder_id == w.admins["home"].account_id and row.region_code == FURONG
    assert await w.audit_count("RECORD_CREATED") == audits + 1
    # a JOINED member of the team may be recorded without a sign-up
    member = await w.volunteer()
    await w.member(w.teams["home"], member)
    assert (await recorded(w, shift, member, content=""))["content"].startswith("助老服务")


async def test_record_service_refusals(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    t = now()
    draft = await w.shift(
        w.teams["home"], t - timedelta(days=3), t + timedelta(days=1), status=ProjectStatus.DRAFT
    )
    await w.sign_up(draft, who)
    suspended = await w.team(FURONG, status=TeamStatus.SUSPENDED)
    suspended_admin = await w.admin(team_grant(suspended, FURONG))
    paused = await w.shift(suspended, t - timedelta(days=3), t + timedelta(days=1))
    await w.sign_up(paused, who)
    applicant = await w.volunteer()
    await w.member(w.teams["home"], applicant, MembershipStatus.APPLYING)
    pending = await w.volunteer()
    await w.sign_up(shift, pending, SignUpStatus.PENDING)
    stranger = await w.volunteer()
    home = w.admins["home"]
    ok = entry(shift, who)
    future_day = china_day(t + timedelta(hours=2))
    cases: list[tuple[Any, dict[str, Any], str, str | None]] = [
        (w.admins["other"], ok, "NOT_FOUND", None),
        (w.admins["mixed"], ok, "FORBIDDEN", None),
        (w.admins["county"], ok, "FORBIDDEN", None),
        (who, ok, "FORBIDDEN", None),
        (None, ok, "UNAUTHENTICATED", None),
        (home, entry(shift, stranger), "NOT_FOUND", None),
        (home, entry(shift, applicant), "BAD_USER_INPUT", "NOT_A_PARTICIPANT"),
        (home, entry(shift, pending), "BAD_USER_INPUT", "NOT_A_PARTICIPANT"),
        (home, entry(draft, who), "INVALID_STATE", "PROJECT_NOT_RECORDABLE"),
        (suspended_admin, entry(paused, who), "INVALID_STATE", "TEAM_NOT_ACTIVE"),
        (home, entry(shift, who, hours="0"), "BAD_USER_INPUT", "HOURS_RANGE"),
        (home, entry(shift, who, hours="24.01"), "BAD_USER_INPUT", "HOURS_RANGE"),
        (home, entry(shift, who, hours="-1"), "BAD_USER_INPUT", "HOURS_RANGE"),
        (home, entry(shift, who, hours="1.234"), "BAD_USER_INPUT", "HOURS_PRECISION"),
        (home, entry(shift, who, hours="NaN"), "BAD_USER_INPUT", "HOURS_FORMAT"),
        (home, entry(shift, who, hours="2.01"), "BAD_USER_INPUT", "HOURS_EXCEED_SPAN"),
        (home, entry(shift, who, start="10:00", end="08:00"), "BAD_USER_INPUT", "TIME_ORDER"),
        (home, entry(shift, who, day=DAY - timedelta(days=20)), "BAD_USER_INPUT", "OUTSIDE_PROJECT_WINDOW"),
        (
            home,
            entry(shift, who, serviceDate=(DAY - timedelta(days=1)).isoformat()),
            "BAD_USER_INPUT",
            "SERVICE_DATE_MISMATCH",
        ),
        (
            home,
            entry(
                shift,
                who,
                startedAt=(t + timedelta(hours=1)).isoformat(),
                endedAt=(t + timedelta(hours=2)).isoformat(),
                serviceDate=future_day.isoformat(),
                hours="1",
            ),
            "BAD_USER_INPUT",
            "FUTURE_TIME",
        ),
        (home, entry(shift, who, content="长" * 501), "BAD_USER_INPUT", "CONTENT_TOO_LONG"),
        (home, entry(shift, who, volunteerId=shift.project_gid), "BAD_USER_INPUT", "BAD_ID"),
    ]
    for caller, values, code, reason in cases:
        await refused(w, caller, RECORD, {"input": values}, code, reason, about=who)
        await refused(w, caller, RECORD, {"input": values}, code, reason, about=applicant)
    assert "errors" not in await w.as_(home).gql(RECORD, {"input": ok})


async def test_records_of_a_volunteer_never_overlap_nor_pass_24_hours_a_day(
    world: World, shift: Shift
) -> None:
    w = world
    who = await participant(w, shift)
    home = w.admins["home"]
    start, end = datetime.fromisoformat(at(DAY, "08:00")), datetime.fromisoformat(at(DAY, "10:00"))
    await w.record(who, w.teams["other"], "2.00", DAY, started=start, ended=end)  # another team's record
    await w.record(
        who, w.teams["other"], "1.00", DAY, RecordStatus.VOIDED, started=end, ended=end + timedelta(hours=1)
    )
    await w.record(
        who, w.teams["other"], "1.00", DAY, RecordStatus.DECLINED, started=end, ended=end + timedelta(hours=1)
    )
    overlapping = entry(shift, who, start="09:00", end="11:00")
    await refused(w, home, RECORD, {"input": overlapping}, "BAD_USER_INPUT", "OVERLAPPING_RECORD", about=who)
    await refused(
        w,
        home,
        RECORD,
        {"input": entry(shift, who, start="07:00", end="12:00", hours="1")},
        "BAD_USER_INPUT",
        "OVERLAPPING_RECORD",
        about=who,
    )
    assert (await recorded(w, shift, who, start="10:00", end="11:00", hours="1"))[
        "hours"
    ] == "1.00"  # touching is fine

    day = DAY - timedelta(days=1)
    await w.record(who, w.teams["other"], "20.00", day)  # a legacy record without times
    too_much = entry(shift, who, day=day, start="08:00", end="12:30", hours="4.01")
    await refused(w, home, RECORD, {"input": too_much}, "BAD_USER_INPUT", "DAILY_LIMIT_EXCEEDED", about=who)
    assert (await recorded(w, shift, who, day=day, start="08:00", end="12:30", hours="4"))["hours"] == "4.00"


async def test_a_retried_record_is_written_once(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    variables = {"input": entry(shift, who, start="13:00", end="15:00"), "k": "batch-7-row-3"}
    first = await w.as_(w.admins["home"]).data(RECORD, variables)
    again = await w.as_(w.admins["home"]).data(RECORD, variables)
    assert first["recordService"]["id"] == again["recordService"]["id"]
    assert len(await w.rows(m.ServiceRecord, volunteer_id=who.volunteer_id)) == 1
    changed = {"input": entry(shift, who, start="13:00", end="15:00", hours="1.5"), "k": "batch-7-row-3"}
    await refused(w, w.admins["home"], RECORD, changed, "BAD_USER_INPUT", "IDEMPOTENCY_KEY_REUSED", about=who)


# --- confirm and decline --------------------------------------------------------------------------------


async def test_confirm_all_or_nothing_and_decline_keeps_the_row(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    home = w.admins["home"]
    a = (await recorded(w, shift, who, start="08:00", end="09:00", hours="1"))["id"]
    b = (await recorded(w, shift, who, start="09:00", end="10:00", hours="1"))["id"]
    c = (await recorded(w, shift, who, start="10:00", end="11:00", hours="1"))["id"]
    theirs = gid("ServiceRecord", await w.record(who, w.teams["other"], "1.00", DAY, RecordStatus.PENDING))

    await refused(w, home, DECLINE, {"id": c, "r": " "}, "BAD_USER_INPUT", "REASON_REQUIRED", about=who)
    declined = (await w.as_(home).data(DECLINE, {"id": c, "r": "当日未到岗"}))["declineRecord"]
    assert declined["status"] == "DECLINED" and declined["declineReason"] == "当日未到岗"
    await refused(w, home, DECLINE, {"id": c, "r": "again"}, "INVALID_STATE", "RECORD_NOT_PENDING", about=who)

    await refused(w, home, CONFIRM, {"ids": [a, c]}, "INVALID_STATE", "RECORD_NOT_PENDING", about=who)
    await refused(w, home, CONFIRM, {"ids": [a, theirs]}, "NOT_FOUND", None, about=who)
    await refused(w, w.admins["mixed"], CONFIRM, {"ids": [a]}, "FORBIDDEN", None, about=who)
    await refused(w, w.admins["county"], CONFIRM, {"ids": [a]}, "FORBIDDEN", None, about=who)
    await refused(w, home, CONFIRM, {"ids": []}, "BAD_USER_INPUT", None, about=who)
    await refused(w, home, CONFIRM, {"ids": [a] * 501}, "BAD_USER_INPUT", "TOO_MANY_IDS", about=who)
    confirmed = (await w.as_(home).data(CONFIRM, {"ids": [b, a, b]}))["confirmRecords"]
    assert [r["id"] for r in confirmed] == [b, a]
    assert {r["status"] for r in confirmed} == {"CONFIRMED"} and all(r["confirmedAt"] for r in confirmed)
    again = (await w.as_(home).data(CONFIRM, {"ids": [a]}))["confirmRecords"]  # a retry changes nothing
    assert moment(again[0]["confirmedAt"]) == moment(confirmed[1]["confirmedAt"])
    await refused(w, home, DECLINE, {"id": a, "r": "x"}, "INVALID_STATE", "RECORD_NOT_PENDING", about=who)
    assert len(await w.rows(m.ServiceRecord, volunteer_id=who.volunteer_id)) == 4  # nothing deleted


# --- corrections ----------------------------------------------------------------------------------------


async def test_corrections_void_and_replace_keeping_the_chain(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    home = w.admins["home"]
    first = await recorded(w, shift, who, start="08:00", end="11:00", hours="3")
    neighbour = await recorded(w, shift, who, start="12:00", end="13:00", hours="1")
    await w.as_(home).data(CONFIRM, {"ids": [first["id"]]})
    audits = await w.audit_count("RECORD_CORRECTED")

    await refused(
        w,
        home,
        CORRECT,
        {"id": first["id"], "r": "", "h": "2"},
        "BAD_USER_INPUT",
        "REASON_REQUIRED",
        about=who,
    )
    await refused(
        w,
        home,
        CORRECT,
        {"id": first["id"], "r": "x", "h": "3"},
        "BAD_USER_INPUT",
        "NOTHING_TO_CORRECT",
        about=who,
    )
    await refused(
        w,
        home,
        CORRECT,
        {"id": first["id"], "r": "x", "h": "3.5"},
        "BAD_USER_INPUT",
        "HOURS_EXCEED_SPAN",
        about=who,
    )
    await refused(
        w,
        home,
        CORRECT,
        {"id": first["id"], "r": "x", "e": at(DAY, "12:30")},
        "BAD_USER_INPUT",
        "OVERLAPPING_RECORD",
        about=who,
    )
    await refused(
        w, w.admins["other"], CORRECT, {"id": first["id"], "r": "x", "h": "2"}, "NOT_FOUND", None, about=who
    )
    await refused(
        w, w.admins["mixed"], CORRECT, {"id": first["id"], "r": "x", "h": "2"}, "FORBIDDEN", None, about=who
    )

    second = (
        await w.as_(home).data(
            CORRECT, {"id": first["id"], "r": "少记了半小时", "s": at(DAY, "07:30"), "h": "3.5"}
        )
    )["correctRecord"]
    assert second["status"] == "CONFIRMED" and second["hours"] == "3.50"  # a confirmed record stays confirmed
    assert second["replaces"] == {"id": first["id"], "hours": "3.00", "status": "VOIDED"}
    old = (await w.as_(home).data(NODE, {"id": first["id"]}))["node"]
    assert old["voidReason"] == "少记了半小时" and old["replacedBy"] == {"id": second["id"]}
    assert old["hours"] == "3.00" and old["startedAt"] is not None  # the old row keeps its values
    await refused(
        w,
        home,
        CORRECT,
        {"id": first["id"], "r": "x", "h": "1"},
        "INVALID_STATE",
        "RECORD_NOT_CORRECTABLE",
        about=who,
    )

    third = (await w.as_(home).data(CORRECT, {"id": neighbour["id"], "r": "内容", "c": "陪同就医"}))[
        "correctRecord"
    ]
    assert third["status"] == "PENDING" and third["content"] == "陪同就医" and third["hours"] == "1.00"
    fourth = (await w.as_(home).data(CORRECT, {"id": second["id"], "r": "再次核对", "h": "3.25"}))[
        "correctRecord"
    ]
    chain = (await w.as_(who).data(NODE, {"id": fourth["id"]}))["node"]
    assert chain["replaces"]["id"] == second["id"]
    assert await w.audit_count("RECORD_CORRECTED") == audits + 3
    rows = await w.rows(m.ServiceRecord, volunteer_id=who.volunteer_id)
    assert [(r.status, r.hours) for r in rows] == [
        (RecordStatus.VOIDED, Decimal("3.00")),
        (RecordStatus.VOIDED, Decimal("1.00")),
        (RecordStatus.VOIDED, Decimal("3.50")),
        (RecordStatus.PENDING, Decimal("1.00")),
        (RecordStatus.CONFIRMED, Decimal("3.25")),
    ]


async def test_correction_requests_are_answered_by_the_recording_team(world: World, shift: Shift) -> None:
    w = world
    who = await participant(w, shift)
    other = await participant(w, shift)
    home = w.admins["home"]
    record = await recorded(w, shift, who, start="08:00", end="12:00", hours="2")
    await w.as_(home).data(CONFIRM, {"ids": [record["id"]]})

    await refused(w, who, REQUEST, {"id": record["id"], "r": " "}, "BAD_USER_INPUT", "REASON_REQUIRED")
    await refused(w, who, REQUEST, {"id": record["id"], "r": "x", "h": "25"}, "BAD_USER_INPUT", "HOURS_RANGE")
    await refused(w, other, REQUEST, {"id": record["id"], "r": "x"}, "NOT_FOUND", None, about=who)
    await refused(w, home, REQUEST, {"id": record["id"], "r": "x"}, "FORBIDDEN", None, about=who)
    asked = (await w.as_(who).data(REQUEST, {"id": record["id"], "r": "实际服务了四小时", "h": "4"}))[
        "requestCorrection"
    ]
    assert (
        asked["status"] == "OPEN"
        and asked["requestedHours"] == "4.00"
        and asked["record"] == {"id": record["id"]}
    )
    await refused(
        w, who, REQUEST, {"id": record["id"], "r": "again"}, "INVALID_STATE", "CORRECTION_ALREADY_OPEN"
    )

    await refused(
        w,
        home,
        ANSWER,
        {"id": asked["id"], "a": False, "r": ""},
        "BAD_USER_INPUT",
        "REASON_REQUIRED",
        about=who,
    )
    await refused(w, w.admins["other"], ANSWER, {"id": asked["id"], "a": True}, "NOT_FOUND", None, about=who)
    await refused(w, w.admins["mixed"], ANSWER, {"id": asked["id"], "a": True}, "FORBIDDEN", None, about=who)
    await refused(w, who, ANSWER, {"id": asked["id"], "a": True}, "FORBIDDEN", None)
    await refused(w, home, ANSWER, {"id": record["id"], "a": True}, "BAD_USER_INPUT", "BAD_ID", about=who)
    answered = (await w.as_(home).data(ANSWER, {"id": asked["id"], "a": True, "r": "已核实签到表"}))[
        "answerCorrection"
    ]
    assert answered["request"]["status"] == "ACCEPTED" and answered["request"]["answeredAt"]
    new = answered["record"]
    assert new["hours"] == "4.00" and new["status"] == "CONFIRMED" and new["replaces"]["id"] == record["id"]
    await refused(
        w, home, ANSWER, {"id": asked["id"], "a": False, "r": "no"}, "INVALID_STATE", None, about=who
    )

    rejected_ask = (await w.as_(who).data(REQUEST, {"id": new["id"], "r": "还少了"}))["requestCorrection"]
    await refused(
        w, home, ANSWER, {"id": rejected_ask["id"], "a": True}, "BAD_USER_INPUT", "HOURS_REQUIRED", about=who
    )
    rejected = (
        await w.as_(home).data(ANSWER, {"id": rejected_ask["id"], "a": False, "r": "与签到记录一致"})
    )["answerCorrection"]
    assert rejected["request"]["status"] == "REJECTED" and rejected["record"] is None

    # a declined record may be appealed; accepting adds a PENDING record and the declined one stays declined
    declined = await recorded(w, shift, who, start="14:00", end="16:00", hours="2")
    await w.as_(home).data(DECLINE, {"id": declined["id"], "r": "未签到"})
    appeal = (await w.as_(who).data(REQUEST, {"id": declined["id"], "r": "有现场照片", "h": "2"}))[
        "requestCorrection"
    ]
    accepted = (await w.as_(home).data(ANSWER, {"id": appeal["id"], "a": True, "h": "1.5"}))[
        "answerCorrection"
    ]
    assert accepted["record"]["status"] == "PENDING" and accepted["record"]["hours"] == "1.50"
    assert (await w.get(m.ServiceRecord, db_id(declined["id"]))).status == RecordStatus.DECLINED
    again = (await w.as_(who).data(REQUEST, {"id": declined["id"], "r": "再申诉", "h": "2"}))[
        "requestCorrection"
    ]
    await refused(
        w, home, ANSWER, {"id": again["id"], "a": True}, "INVALID_STATE", "RECORD_NOT_CORRECTABLE", about=who
    )


# --- CSV import -----------------------------------------------------------------------------------------


def moment(value: str) -> datetime | None:
    """A time from the API; SQLite hands stored times back without their offset (UTC)."""
    return aware(datetime.fromisoformat(value))


def csv_of(
    *rows: str, header: str = "volunteer_number,service_date,started_at,ended_at,hours,content"
) -> str:
    return "\n".join([header, *rows]) + "\n"


async def test_csv_import_writes_the_valid_rows_and_reports_the_others(world: World, shift: Shift) -> None:
    w = world
    a, b = await participant(w, shift), await participant(w, shift)
    member = await w.volunteer()
    await w.member(w.teams["home"], member)
    outsider = await w.volunteer()
    d, e = DAY.isoformat(), (DAY - timedelta(days=1)).isoformat()
    await w.record(
        b,
        w.teams["other"],
        "2.00",
        DAY,
        started=datetime.fromisoformat(at(DAY, "08:00")),
        ended=datetime.fromisoformat(at(DAY, "10:00")),
    )
    text = csv_of(
        f"{a.number},{d},08:00,10:00,2,清扫社区",  # 2 ok
        f"{a.number},{d},09:30,11:00,1.5,",  # 3 overlaps line 2
        f"{b.number},{d},09:00,09:30,0.5,",  # 4 overlaps b's record in the database
        f'{b.number},{d},{at(DAY, "12:00")},{at(DAY, "13:00")},1,"带逗号, 和引号""的内容"',  # 5 ok, ISO times
        f"{member.number},{e},08:00,12:00,4,",  # 6 ok: a member of the team
        f"{outsider.number},{d},08:00,10:00,2,",  # 7 not a participant
        f"99999999999999,{d},08:00,10:00,2,",  # 8 unknown number
        f"{a.number},2026-13-01,08:00,10:00,2,",  # 9 bad date
        f"{a.number},{e},8点,10:00,2,",  # 10 bad time
        f"{a.number},{e},08:00,10:00,2.5,",  # 11 more than the span
        f"{a.number},{e},08:00,10:00,abc,",  # 12 not a number
        "",  # 13 blank lines are skipped
        f"{a.number},{e},08:00",  # 14 missing cells
        f"{a.number},{(DAY - timedelta(days=30)).isoformat()},08:00,10:00,2,",  # 15 before the project
    )
    audits = await w.audit_count("RECORDS_IMPORTED")
    report = (await w.as_(w.admins["home"]).data(IMPORT, {"p": shift.project_gid, "csv": text}))[
        "importServiceRecords"
    ]
    assert report["accepted"] == 3
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [
        (3, "OVERLAPPING_RECORD"),
        (4, "OVERLAPPING_RECORD"),
        (7, "NOT_A_PARTICIPANT"),
        (8, "UNKNOWN_VOLUNTEER"),
        (9, "DATE_FORMAT"),
        (10, "TIME_FORMAT"),
        (11, "HOURS_EXCEED_SPAN"),
        (12, "HOURS_FORMAT"),
        (14, "CSV_COLUMN_COUNT"),
        (15, "OUTSIDE_PROJECT_WINDOW"),
    ]
    assert report["rejected"][0]["volunteerNumber"] == a.number and report["rejected"][0]["message"]
    imported = [
        r
        for r in await w.rows(m.ServiceRecord, project_id=shift.project)
        if r.provenance == RecordProvenance.BULK_IMPORT
    ]
    mine = {
        r.volunteer_id: r
        for r in imported
        if r.volunteer_id in (a.volunteer_id, b.volunteer_id, member.volunteer_id)
    }
    assert len(mine) == 3 and all(r.status == RecordStatus.PENDING for r in mine.values())
    assert mine[b.volunteer_id].content == '带逗号, 和引号"的内容'
    assert mine[member.volunteer_id].hours == Decimal("4.00")
    assert await w.audit_count("RECORDS_IMPORTED") == audits + 1

    # sending the same file again writes nothing twice
    again = (await w.as_(w.admins["home"]).data(IMPORT, {"p": shift.project_gid, "csv": text}))[
        "importServiceRecords"
    ]
    assert again["accepted"] == 0
    assert {r["line"] for r in again["rejected"] if r["code"] == "OVERLAPPING_RECORD"} == {2, 3, 4, 5, 6}


async def test_csv_import_refuses_bad_files_whole(world: World, shift: Shift) -> None:
    w = world
    a = await participant(w, shift)
    home = w.admins["home"]
    row = f"{a.number},{DAY.isoformat()},08:00,10:00,2,x"
    for text, reason in [
        ("", "CSV_HEADER"),
        (row + "\n", "CSV_HEADER"),
        (csv_of(row, header="volunteer_number,service_date,started_at,ended_at"), "CSV_HEADER"),
        (csv_of(*[row] * 5001), "CSV_TOO_MANY_ROWS"),
    ]:
        await refused(
            w, home, IMPORT, {"p": shift.project_gid, "csv": text}, "BAD_USER_INPUT", reason, about=a
        )
    await refused(
        w, w.admins["other"], IMPORT, {"p": shift.project_gid, "csv": csv_of(row)}, "NOT_FOUND", None, about=a
    )
    await refused(
        w, w.admins["mixed"], IMPORT, {"p": shift.project_gid, "csv": csv_of(row)}, "FORBIDDEN", None, about=a
    )
    await refused(w, a, IMPORT, {"p": shift.project_gid, "csv": csv_of(row)}, "FORBIDDEN", None)
    # columns in any order, upper case, a BOM, no content column
    text = (
        "\ufeffHOURS,Volunteer_Number,ended_at,started_at,service_date\n"
        + f"2,{a.number},10:00,08:00,{DAY.isoformat()}\n"
    )
    assert (await w.as_(home).data(IMPORT, {"p": shift.project_gid, "csv": text}))["importServiceRecords"][
        "accepted"
    ] == 1


# --- totals and stars -----------------------------------------------------------------------------------


async def test_star_levels_at_the_thresholds(world: World) -> None:
    w = world
    expected = {
        "0": (0, "100.00"),
        "99.99": (0, "0.01"),
        "100.00": (1, "200.00"),
        "299.99": (1, "0.01"),
        "300.00": (2, "300.00"),
        "600.00": (3, "400.00"),
        "999.99": (3, "0.01"),
        "1000.00": (4, "500.00"),
        "1499.99": (4, "0.01"),
        "1500.00": (5, None),
        "2000.50": (5, None),
    }
    people = {}
    for total in expected:
        who = await w.volunteer(account=False)
        people[total] = who
        if total != "0":  # split into two confirmed records, plus rows that do not count
            half = (Decimal(total) / 2).quantize(Decimal("0.01"))
            await w.record(who, w.teams["home"], str(half), DAY)
            await w.record(who, w.teams["other"], str(Decimal(total) - half), DAY - timedelta(days=1))
        for status in (RecordStatus.PENDING, RecordStatus.DECLINED, RecordStatus.VOIDED):
            await w.record(who, w.teams["home"], "50.00", DAY - timedelta(days=2), status)
    ids = [people[t].gid for t in expected]
    nodes = (await w.as_("demo_ministry").data(TOTALS, {"ids": ids}))["nodes"]
    for total, node in zip(expected, nodes, strict=True):
        level, to_next = expected[total]
        shown = "0.00" if total == "0" else total
        assert (node["totalHours"], node["starLevel"], node["hoursToNextStar"]) == (shown, level, to_next), (
            total
        )
        assert node["recordCount"] == (0 if total == "0" else 2)


async def test_totals_count_every_confirmed_record_whatever_the_viewer_sees(world: World) -> None:
    """The written rule (docs/permissions.md): totals are a property of the volunteer, not of the viewer's scope."""
    w = world
    who = await w.volunteer()
    await w.member(w.teams["home"], who)
    await w.record(who, w.teams["home"], "60.00", DAY)
    await w.record(
        who, w.teams["other"], "50.00", DAY - timedelta(days=1)
    )  # 天心区: outside the county admin's P
    for reader in (w.admins["county"], who, w.admins["home"], "demo_ministry"):
        [node] = (await w.as_(reader).data(TOTALS, {"ids": [who.gid]}))["nodes"]
        assert (node["totalHours"], node["recordCount"], node["starLevel"]) == ("110.00", 2, 1), reader
    [county] = (await w.as_(w.admins["county"]).data(TOTALS, {"ids": [who.gid]}))["nodes"]
    assert county["serviceRecords"]["totalCount"] == 1  # the records themselves stay scoped
    [outsider] = (await w.as_(w.admins["other"]).data(TOTALS, {"ids": [who.gid]}))["nodes"]
    assert outsider is None  # and the volunteer is still only seen by whoever may see them


async def test_totals_cost_one_statement_per_page(api: Api, tokens: dict[str, str], count_sql: Any) -> None:
    query = "query($n: Int!) { volunteers(first: $n) { nodes { totalHours starLevel recordCount hoursToNextStar } } }"
    client = api.as_(tokens["demo_ministry"])
    counts = []
    for first in (5, 50):
        with count_sql() as log:
            data = await client.data(query, {"n": first})
        assert len(data["volunteers"]["nodes"]) == first
        counts.append(len(log))
        assert len(log) == 2, log.report()  # the page, and one GROUP BY for the totals
    assert counts[0] == counts[1]


async def test_volunteers_by_key_carry_their_totals(world: World, count_sql: Any) -> None:
    """A volunteer loaded by key (``viewer``, ``node``, references) comes with its totals joined: the mobile
    profile is two statements (volunteer with totals, records), and its totals equal the batched loader's
    (the path of root lists)."""
    w = world
    who = await w.volunteer()
    await w.record(who, w.teams["home"], "120.50", DAY)
    await w.record(who, w.teams["other"], "30.00", DAY - timedelta(days=1))
    await w.record(who, w.teams["home"], "40.00", DAY - timedelta(days=2), RecordStatus.PENDING)
    fields = "volunteerNumber totalHours recordCount starLevel hoursToNextStar"
    mine = "{ viewer { volunteer { " + fields + " serviceRecords(first: 5) { nodes { hours } } } } }"
    with count_sql() as log:
        profile = (await w.as_(who).data(mine))["viewer"]["volunteer"]
    assert len(log) == 2, log.report()
    assert (profile["totalHours"], profile["recordCount"], profile["starLevel"]) == ("150.50", 2, 1)
    assert profile["hoursToNextStar"] == "149.50"
    listed = (
        "query($n: String!) { volunteers(first: 1, filter: {volunteerNumber: $n}) { nodes { "
        + fields
        + " } } }"
    )
    [row] = (await w.as_("demo_ministry").data(listed, {"n": profile["volunteerNumber"]}))["volunteers"][
        "nodes"
    ]
    assert row == {k: v for k, v in profile.items() if k != "serviceRecords"}
