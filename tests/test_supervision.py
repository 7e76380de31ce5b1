"""Supervision rules and alerts through the HTTP app: each rule on a situation made for it, reruns that never
duplicate, concurrent passes, jurisdiction, handling with a note, refusals, and the statements a pass costs.

The world lives in 南宁 (广西), which the demo data does not use: 兴宁区 (home team, county admin), 青秀区
(other team, its own county admin), and the city admin of 南宁 above both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

import models as m
from models.enums import TeamStatus
from models.kv import MemoryStore
from models.supervision import AlertRule, AlertStatus
from resolvers.supervision import LOCK_KEY, months_before, supervise_forever
from tests.conftest import Api
from tests.record_world import CHINA, World, code_of, make_world, region_grant
from tests.supervision_world import add_certificate, add_records, age_team, alerts, today
from tests.visibility import db_id, gid

XINGNING, QINGXIU, NANNING = "450102000000", "450103000000", "450100000000"

RUN = """
mutation($region: String, $rules: [SupervisionRule!]) {
  runSupervision(regionCode: $region, rules: $rules) {
    newAlerts rules { rule found new alreadyOpen alreadyHandled }
  }
}
"""
LIST = """
query($filter: SupervisionAlertFilter) {
  supervisionAlerts(first: 100, filter: $filter) {
    totalCount
    nodes { id rule severity regionCode subjectKind subjectId periodKey details status note handledAt
            subject { id } }
  }
}
"""
HANDLE = """
mutation($id: ID!, $note: String!) {
  handleAlert(alertId: $id, note: $note) { id status note handledAt }
}
"""


def counts(data: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["rule"]: (r["found"], r["new"], r["alreadyOpen"], r["alreadyHandled"])
        for r in data["runSupervision"]["rules"]
    }


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """China time ``hour:minute`` on today + ``day_offset``, as UTC."""
    day = today() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), CHINA).astimezone(UTC)


class Situation:
    """What the module fixture made, by name."""

    def __init__(self) -> None:
        self.records: dict[str, int] = {}
        self.teams: dict[str, int] = {}
        self.certificates: dict[str, int] = {}


@pytest.fixture(scope="module")
async def world(app: Starlette, api: Api, tokens: dict[str, str]) -> World:
    w = await make_world(app, api, tokens, XINGNING, QINGXIU)
    w.admins["qingxiu"] = await w.admin(region_grant(QINGXIU))
    w.admins["nanning"] = await w.admin(region_grant(NANNING))
    return w


@pytest.fixture(scope="module")
async def made(world: World) -> Situation:
    """One situation per rule in 兴宁 (and the 青秀 half of a cross-county day), and near misses."""
    w, s, d = world, Situation(), today()
    home, other = w.teams["home"], w.teams["other"]
    v_day, v_overlap, v_ok, v_cert = [await w.volunteer() for _ in range(4)]
    # more than 24 h in one day across two counties; a 24 h day is fine
    s.records["day_home"], s.records["day_other"], s.records["full_day"] = await add_records(
        w,
        [
            {
                "volunteer_id": v_day.volunteer_id,
                "team_id": home,
                "hours": 14,
                "service_date": d - timedelta(2),
            },
            {
                "volunteer_id": v_day.volunteer_id,
                "team_id": other,
                "hours": 12,
                "service_date": d - timedelta(2),
            },
            {
                "volunteer_id": v_ok.volunteer_id,
                "team_id": home,
                "hours": 24,
                "service_date": d - timedelta(3),
            },
        ],
    )
    # one long record and two short ones inside it: both short ones overlap it (LAG alone would miss one)
    long_, first, second, after = await add_records(
        w,
        [
            {"volunteer_id": v_overlap.volunteer_id, "team_id": home, "service_date": d - timedelta(4), **r}
            for r in (
                {"started_at": at(-4, 8), "ended_at": at(-4, 18), "hours": 10},
                {"started_at": at(-4, 9), "ended_at": at(-4, 10), "hours": 1},
                {"started_at": at(-4, 11), "ended_at": at(-4, 12), "hours": 1},
                {"started_at": at(-4, 18), "ended_at": at(-4, 19), "hours": 1},  # starts as the long one ends
            )
        ],
    )
    s.records.update(long=long_, inside_1=first, inside_2=second, adjacent=after)
    # a record without attendance on a project that requires it, and one on a project that does not
    required = await w.shift(home, at(-10, 8), at(-1, 18))
    optional = await w.shift(home, at(-10, 8), at(-1, 18))
    async with w.sessions() as session, session.begin():
        await session.execute(
            update(m.Project).where(m.Project.id == optional.project).values(requires_attendance=False)  # type: ignore[arg-type]
        )
    s.records["no_attendance"], s.records["not_required"] = await add_records(
        w,
        [
            {
                "volunteer_id": v_ok.volunteer_id,
                "team_id": home,
                "hours": 2,
                "service_date": d - timedelta(5),
                "project_id": required.project,
            },
            {
                "volunteer_id": v_ok.volunteer_id,
                "team_id": home,
                "hours": 2,
                "service_date": d - timedelta(6),
                "project_id": optional.project,
            },
        ],
    )
    # a team whose last 7 days (252 h) dwarf its 8 weeks before (10 h a week), and a steady busy one
    s.teams["spiky"], s.teams["steady"] = await w.team(XINGNING), await w.team(XINGNING)
    crew = [await w.volunteer() for _ in range(2)]
    rows: list[dict[str, Any]] = []
    for n in range(7):
        for v in crew:
            rows.append(
                {
                    "volunteer_id": v.volunteer_id,
                    "team_id": s.teams["spiky"],
                    "hours": 18,
                    "service_date": d - timedelta(n),
                }
            )
            rows.append(
                {
                    "volunteer_id": v.volunteer_id,
                    "team_id": s.teams["steady"],
                    "hours": 5,
                    "service_date": d - timedelta(n),
                }
            )
    for week in range(1, 9):
        rows.append(
            {
                "volunteer_id": crew[0].volunteer_id,
                "team_id": s.teams["spiky"],
                "hours": 10,
                "service_date": d - timedelta(days=7 * week),
            }
        )
        for v in crew:
            rows.append(
                {
                    "volunteer_id": v.volunteer_id,
                    "team_id": s.teams["steady"],
                    "hours": 20,
                    "service_date": d - timedelta(days=7 * week + 1),
                }
            )
    await add_records(w, rows)
    # certificates: one above the confirmed hours behind it (a PENDING record does not count), one matching
    cert_rows = await add_records(
        w,
        [
            {
                "volunteer_id": v_cert.volunteer_id,
                "team_id": home,
                "hours": 8,
                "service_date": d - timedelta(20),
            },
            {
                "volunteer_id": v_cert.volunteer_id,
                "team_id": home,
                "hours": 7.5,
                "service_date": d - timedelta(19),
            },
            {
                "volunteer_id": v_cert.volunteer_id,
                "team_id": home,
                "hours": 3,
                "service_date": d - timedelta(18),
                "status": "PENDING",
            },
        ],
    )
    assert len(cert_rows) == 3
    period = (d - timedelta(30), d - timedelta(1))
    s.certificates["inflated"] = await add_certificate(w, v_cert.volunteer_id or 0, home, "18.50", *period)
    s.certificates["honest"] = await add_certificate(w, v_cert.volunteer_id or 0, home, "15.50", *period)
    # teams: old and silent (never recorded), old with a recent record, and new and silent
    s.teams["silent"], s.teams["busy_old"], s.teams["new"] = [await w.team(XINGNING) for _ in range(3)]
    for team in ("silent", "busy_old"):
        await age_team(w, s.teams[team], 400)
    await add_records(
        w,
        [
            {
                "volunteer_id": v_ok.volunteer_id,
                "team_id": s.teams["busy_old"],
                "hours": 1,
                "service_date": d - timedelta(10),
            }
        ],
    )
    # and a dissolved old silent team, which is not supervised for inactivity
    s.teams["dissolved"] = await w.team(XINGNING, TeamStatus.DISSOLVED)
    await age_team(w, s.teams["dissolved"], 400)
    return s


def _subjects(found: list[m.SupervisionAlert], rule: AlertRule) -> set[int]:
    return {a.subject_id for a in found if a.rule == rule}


async def test_each_rule_finds_its_situation_and_nothing_else(world: World, made: Situation) -> None:
    county = world.as_(world.admins["county"])
    data = await county.data(RUN)
    got = counts(data)
    assert set(got) == {r.value for r in AlertRule}
    found = await alerts(world)
    assert {a.region_code for a in found} == {XINGNING}, "a county pass raises alerts in the county only"
    r, t, c = made.records, made.teams, made.certificates
    assert _subjects(found, AlertRule.DAILY_HOURS_EXCEEDED) == {r["day_home"]}
    assert _subjects(found, AlertRule.OVERLAPPING_RECORDS) == {r["inside_1"], r["inside_2"]}
    assert _subjects(found, AlertRule.MISSING_ATTENDANCE) == {r["no_attendance"]}
    assert _subjects(found, AlertRule.HOURS_SPIKE) == {t["spiky"]}
    assert _subjects(found, AlertRule.CERTIFICATE_HOURS_EXCEEDED) == {c["inflated"]}
    assert _subjects(found, AlertRule.TEAM_INACTIVE) == {t["silent"]}
    for rule in AlertRule:
        n = len(_subjects(found, rule))
        assert got[rule.value] == (n, n, 0, 0), rule
    assert data["runSupervision"]["newAlerts"] == len(found)
    by_rule = {a.rule: a for a in found}
    day = by_rule[AlertRule.DAILY_HOURS_EXCEEDED]
    assert (day.subject_kind, day.severity, day.status) == ("RECORD", "HIGH", "OPEN")
    assert day.details["dayTotal"] == "26.00" and day.details["dayRecords"] == 2  # the 青秀 record counts
    spike = by_rule[AlertRule.HOURS_SPIKE]
    year, week, _ = today().isocalendar()
    assert spike.period_key == f"{year}-W{week:02d}"
    assert (spike.details["recentHours"], spike.details["weeklyMean"]) == ("252.00", "10.00")
    cert = by_rule[AlertRule.CERTIFICATE_HOURS_EXCEEDED]
    assert (cert.details["certifiedHours"], cert.details["recordedHours"]) == ("18.50", "15.50")
    inactive = by_rule[AlertRule.TEAM_INACTIVE]
    assert inactive.period_key == "never" and inactive.severity == "LOW"
    assert inactive.details["inactiveSince"] == months_before(today(), 6).isoformat()


async def test_alerts_list_with_subjects_and_filters(world: World, made: Situation) -> None:
    county = world.as_(world.admins["county"])
    data = (await county.data(LIST, {"filter": {"rule": "OVERLAPPING_RECORDS"}}))["supervisionAlerts"]
    assert data["totalCount"] == 2
    subjects = {n["subjectId"] for n in data["nodes"]}
    assert subjects == {gid("ServiceRecord", made.records[k]) for k in ("inside_1", "inside_2")}
    assert all(n["subject"]["id"] == n["subjectId"] for n in data["nodes"])
    node = data["nodes"][0]
    assert (await county.data("query($id: ID!) { node(id: $id) { id } }", {"id": node["id"]}))["node"] == {
        "id": node["id"]
    }
    teams = (await county.data(LIST, {"filter": {"subjectKind": "TEAM", "status": "OPEN"}}))[
        "supervisionAlerts"
    ]
    assert {n["rule"] for n in teams["nodes"]} == {"HOURS_SPIKE", "TEAM_INACTIVE"}


async def test_rerun_never_duplicates(world: World, made: Situation) -> None:
    county = world.as_(world.admins["county"])
    before = await alerts(world)
    got = counts(await county.data(RUN))
    after = await alerts(world)
    assert sorted(a.id for a in after) == sorted(a.id for a in before)
    for rule in AlertRule:
        n = len(_subjects(after, rule))
        assert got[rule.value] == (n, 0, n, 0), rule
    assert all(
        a.last_seen >= b.last_seen
        for a, b in zip(sorted(after, key=lambda a: a.id), sorted(before, key=lambda a: a.id), strict=True)
    )


async def test_jurisdiction(world: World, made: Situation) -> None:
    """青秀's admin neither sees nor handles 兴宁's alerts; its own pass raises the 青秀 half of the long day;
    the city admin sees both."""
    qingxiu, county = world.as_(world.admins["qingxiu"]), world.as_(world.admins["county"])
    assert (await qingxiu.data(LIST))["supervisionAlerts"]["totalCount"] == 0
    xingning_alert = (await county.data(LIST))["supervisionAlerts"]["nodes"][0]["id"]
    body = await qingxiu.gql(HANDLE, {"id": xingning_alert, "note": "越权处理"})
    assert code_of(body) == ("NOT_FOUND", None)
    body = await qingxiu.gql("query($id: ID!) { node(id: $id) { id } }", {"id": xingning_alert})
    assert body["data"]["node"] is None
    body = await qingxiu.gql(RUN, {"region": XINGNING})
    assert code_of(body) == ("OUT_OF_JURISDICTION", None)
    got = counts(await qingxiu.data(RUN, {"rules": ["DAILY_HOURS_EXCEEDED"]}))
    assert got == {"DAILY_HOURS_EXCEEDED": (1, 1, 0, 0)}
    own = (await qingxiu.data(LIST))["supervisionAlerts"]["nodes"]
    assert [db_id(n["subjectId"]) for n in own] == [made.records["day_other"]]
    assert {n["regionCode"] for n in own} == {QINGXIU}
    city = (await world.as_(world.admins["nanning"]).data(LIST))["supervisionAlerts"]
    regions = {n["regionCode"] for n in city["nodes"]}
    assert regions == {XINGNING, QINGXIU}
    assert city["totalCount"] == len(await alerts(world))


async def test_city_admin_runs_one_county(world: World, made: Situation) -> None:
    city = world.as_(world.admins["nanning"])
    got = counts(await city.data(RUN, {"region": XINGNING, "rules": ["TEAM_INACTIVE", "TEAM_INACTIVE"]}))
    assert got == {"TEAM_INACTIVE": (1, 0, 1, 0)}


@pytest.mark.parametrize(
    ("who", "code"),
    [(None, "UNAUTHENTICATED"), ("home", "FORBIDDEN"), ("volunteer", "FORBIDDEN")],
)
async def test_only_region_admins(world: World, who: str | None, code: str) -> None:
    if who == "volunteer":
        client = world.as_(await world.volunteer())
    else:
        client = world.as_(world.admins[who] if who else None)
    for query in (RUN, LIST, "{ spotChecks(first: 1) { totalCount } }"):
        body = await client.gql(query)
        assert body["data"] is None and code_of(body)[0] == code
    body = await client.gql(HANDLE, {"id": gid("SupervisionAlert", 1), "note": "x"})
    assert code_of(body)[0] == code


async def test_handle_alert(world: World, made: Situation, app: Starlette) -> None:
    county = world.as_(world.admins["county"])
    nodes = (await county.data(LIST, {"filter": {"rule": "MISSING_ATTENDANCE"}}))["supervisionAlerts"][
        "nodes"
    ]
    alert_id = nodes[0]["id"]
    audits = await world.audit_count("SUPERVISION_ALERT_HANDLED")
    for note, reason in (("", "NOTE_REQUIRED"), ("   ", "NOTE_REQUIRED"), ("长" * 501, "NOTE_TOO_LONG")):
        body = await county.gql(HANDLE, {"id": alert_id, "note": note})
        assert code_of(body) == ("BAD_USER_INPUT", reason)
    assert code_of(await county.gql(HANDLE, {"id": "not-an-id", "note": "x"})) == ("BAD_USER_INPUT", "BAD_ID")
    row = await world.get(m.SupervisionAlert, db_id(alert_id))
    assert (row.status, row.note, row.handled_at) == (AlertStatus.OPEN, None, None), (
        "bad input writes nothing"
    )
    assert await world.audit_count("SUPERVISION_ALERT_HANDLED") == audits
    handled = (await county.data(HANDLE, {"id": alert_id, "note": "  已核实：补录，签到设备故障  "}))[
        "handleAlert"
    ]
    assert handled["status"] == "HANDLED" and handled["note"] == "已核实：补录，签到设备故障"
    assert handled["handledAt"] is not None
    assert await world.audit_count("SUPERVISION_ALERT_HANDLED") == audits + 1
    async with world.sessions() as session:
        event = (
            await session.execute(
                select(m.AuditEvent)
                .where(m.AuditEvent.action == "SUPERVISION_ALERT_HANDLED")
                .order_by(m.AuditEvent.id.desc())
                .limit(1)  # type: ignore[union-attr]
            )
        ).scalar_one()
    assert (event.actor_id, event.subject_type, event.subject_id, event.region_code) == (
        world.admins["county"].account_id,
        "SupervisionAlert",
        db_id(alert_id),
        XINGNING,
    )
    body = await county.gql(HANDLE, {"id": alert_id, "note": "再次处理"})
    assert code_of(body) == ("INVALID_STATE", "ALERT_ALREADY_HANDLED")
    # a rerun finds it again but leaves it handled
    got = counts(await county.data(RUN, {"rules": ["MISSING_ATTENDANCE"]}))
    assert got == {"MISSING_ATTENDANCE": (1, 0, 0, 1)}
    assert (await world.get(m.SupervisionAlert, db_id(alert_id))).status == AlertStatus.HANDLED


async def test_bad_run_input(world: World) -> None:
    county = world.as_(world.admins["county"])
    for variables, expected in (
        ({"rules": []}, ("BAD_USER_INPUT", "RULES_EMPTY")),
        ({"region": "4501"}, ("BAD_USER_INPUT", "REGION_UNKNOWN")),
        ({"region": QINGXIU}, ("OUT_OF_JURISDICTION", None)),
    ):
        assert code_of(await county.gql(RUN, variables)) == expected, variables
    assert code_of(await county.gql(RUN, {"rules": ["NO_SUCH_RULE"]}))[0] == "BAD_USER_INPUT"


async def test_concurrent_passes_raise_each_alert_once(world: World, made: Situation) -> None:
    v = await world.volunteer()
    day = today() - timedelta(days=1)
    fresh = await add_records(
        world,
        [
            {"volunteer_id": v.volunteer_id, "team_id": world.teams["home"], "hours": h, "service_date": day}
            for h in (13, 12)
        ],
    )
    county, city = world.as_(world.admins["county"]), world.as_(world.admins["nanning"])
    runs = await asyncio.gather(
        county.data(RUN, {"rules": ["DAILY_HOURS_EXCEEDED"]}),
        city.data(RUN, {"region": XINGNING, "rules": ["DAILY_HOURS_EXCEEDED"]}),
        county.data(RUN, {"rules": ["DAILY_HOURS_EXCEEDED"]}),
    )
    new = sum(counts(r)["DAILY_HOURS_EXCEEDED"][1] for r in runs)
    assert new == 2
    rows = await alerts(world, rule="DAILY_HOURS_EXCEEDED")
    assert sorted(a.subject_id for a in rows if a.subject_id in fresh) == sorted(fresh)


async def test_a_pass_costs_one_statement_per_rule(
    world: World, made: Situation, count_sql: Callable[[], Any]
) -> None:
    """Rerun over the county: per rule one read; per rule with findings one lookup of the known alerts and one
    UPDATE of their last_seen (no INSERT: nothing is new); then one audit INSERT (with whatever id allocation
    models/db.py does for audit rows)."""
    county = world.as_(world.admins["county"])
    await county.data(RUN)  # settle anything new
    with count_sql() as log:
        got = counts(await county.data(RUN))
    with_findings = sum(1 for found, *_ in got.values() if found)
    assert with_findings == 6
    audit = [s for s in log.statements if "audit_event" in s]
    rules = [s for s in log.statements if "audit_event" not in s]
    assert len(rules) == len(AlertRule) + 2 * with_findings, log.report()
    assert sum(s.startswith("INSERT INTO audit_event") for s in audit) == 1, log.report()
    assert sum("supervision_alert" in s and s.startswith("INSERT") for s in log.statements) == 0


async def test_national_pass_from_the_command_line(world: World, made: Situation, app: Starlette) -> None:
    """``cli.py supervise --region`` is the same pass: over 兴宁 it raises nothing new after the admins' runs."""
    from cli import supervise

    lines = await supervise(app.state.services.settings, XINGNING)
    assert len(lines) == len(AlertRule)
    assert all(", new 0," in line for line in lines), lines


async def test_inactive_key_follows_the_last_active_day(world: World, made: Situation) -> None:
    """A team that records again and falls silent again gets a new alert (its period key is its last day)."""
    team = await world.team(XINGNING)
    await age_team(world, team, 800)
    v = await world.volunteer()
    last = months_before(today(), 7)
    await add_records(
        world,
        [
            {
                "volunteer_id": v.volunteer_id,
                "team_id": team,
                "hours": 1,
                "service_date": last,
                "status": "CONFIRMED",
            }
        ],
    )
    county = world.as_(world.admins["county"])
    await county.data(RUN, {"rules": ["TEAM_INACTIVE"]})
    keys = [a.period_key for a in await alerts(world, rule="TEAM_INACTIVE", subject_id=team)]
    assert keys == [last.isoformat()]


def test_months_before() -> None:
    from datetime import date

    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 6) == date(2025, 7, 15)
    assert months_before(date(2026, 8, 31), 2) == date(2026, 6, 30)


async def test_in_process_scheduler_runs_one_pass_per_interval(
    app: Starlette, world: World, made: Situation, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers sharing one key-value store: the first takes the interval's lock and runs the national pass,
    the second skips it. (Last in this module: a national pass raises alerts everywhere.)"""
    services = app.state.services
    store = MemoryStore()
    caplog.set_level(logging.INFO, logger="zhiyuan.supervision")
    workers = [asyncio.create_task(supervise_forever(services, store, 60)) for _ in range(2)]
    try:
        for _ in range(600):
            if any("supervision pass:" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    passes = [r for r in caplog.records if "supervision pass:" in r.getMessage()]
    assert len(passes) == 1 and await store.get(LOCK_KEY) == "2"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with pytest.raises(ValueError):
        await supervise_forever(services, store, 0)
