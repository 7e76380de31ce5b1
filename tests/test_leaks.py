"""The 历下区 admin probes its neighbours — 西湖区 and another county with data — through every door: filters,
search, ordering, counts, node/nodes, lookups by key, nested paths. Nothing foreign may come back, and every
count counts visible rows only.

A module fixture lays a foreign footprint across the border (and removes it afterwards): a 历下区 volunteer
who joined a 西湖区 team there signed up, checked in, served and got a certificate, and a 西湖区 volunteer who
applied to a 历下区 team. So the 历下区 volunteer's nested lists hold rows 历下区 must not see, and a 历下区
membership points at a volunteer 历下区 must not see.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlmodel import SQLModel
from starlette.applications import Starlette

import models as m
from models.db import SessionFactory
from models.enums import (
    AttendanceMethod,
    AttendanceStatus,
    CertificateStatus,
    MembershipStatus,
    RecordStatus,
    SignUpStatus,
)
from tests.conftest import Api
from tests.visibility import ROOT_LISTS, Person, codes, col, db_id, gid, person, visible_ids, walk

LIXIA, XIHU = "370102", "330106"
REGION_FILTERED = ("volunteers", "teams", "projects", "serviceRecords", "auditEvents")
"""Root lists whose filter takes a region."""


@dataclass
class Footprint:
    """Rows of the probe; ids by name."""

    other: str
    """A third county with data, outside 历下区 (in 济南 or 山东 when there is one)."""
    lixia_team: int
    lixia_volunteer: int
    xihu_team: int
    xihu_project: int
    xihu_post: int
    xihu_sign_in_point: int
    xihu_volunteer: int
    rows: dict[str, tuple[type[SQLModel], int]]


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def _scalar(sessions: SessionFactory, statement: Any) -> Any:
    async with sessions() as session:
        return (await session.execute(statement)).scalar_one()


async def _other_county(sessions: SessionFactory) -> str:
    """A county outside 历下区 and 西湖区 with volunteers, teams, projects and records: in 济南 if one has them,
    else in 山东, else anywhere."""
    counties: set[str] | None = None
    async with sessions() as session:
        for model in (m.Volunteer, m.Team, m.Project, m.ServiceRecord):
            found = {
                code[:6] for code in (await session.execute(select(col(model, "region_code")))).scalars()
            }
            counties = found if counties is None else counties & found
    candidates = sorted(c for c in counties or () if not c.startswith((LIXIA, XIHU)))
    for preferred in ("3701", "37", ""):
        if near := [c for c in candidates if c.startswith(preferred)]:
            return near[0]
    raise AssertionError("no third county with data")


@pytest.fixture(scope="module")
def sessions(app: Starlette) -> SessionFactory:
    factory: SessionFactory = app.state.services.sessions
    return factory


@pytest.fixture(scope="module")
async def lixia(sessions: SessionFactory) -> Person:
    return await person(sessions, "demo_lixia")


@pytest.fixture(scope="module")
async def footprint(sessions: SessionFactory, lixia: Person) -> AsyncIterator[Footprint]:
    team = await person(sessions, "demo_team")
    lixia_team = team.team_ids[0]
    tm, su = m.TeamMembership, m.SignUp
    async with sessions() as session:
        lixia_region = (
            await session.execute(select(m.Team.region_code).where(col(m.Team, "id") == lixia_team))
        ).scalar_one()
        post = (
            await session.execute(
                select(m.Post)
                .where(col(m.Post, "region_code").like(f"{XIHU}%"))
                .order_by(col(m.Post, "id"))
                .limit(1)
            )
        ).scalar_one()
    assert lixia_region.startswith(LIXIA)
    lixia_volunteer = await _scalar(
        sessions,
        select(col(m.Volunteer, "id"))
        .where(col(m.Volunteer, "region_code").like(f"{LIXIA}%"), col(m.Volunteer, "account_id").is_(None))
        .where(col(m.Volunteer, "id").not_in(select(tm.volunteer_id).where(tm.team_id == post.team_id)))
        .where(col(m.Volunteer, "id").not_in(select(su.volunteer_id).where(su.post_id == post.id)))
        .order_by(col(m.Volunteer, "id"))
        .limit(1),
    )
    seen_by_lixia = await visible_ids(sessions, m.Volunteer, lixia)
    xihu_volunteer = await _scalar(
        sessions,
        select(col(m.Volunteer, "id"))
        .where(col(m.Volunteer, "region_code").like(f"{XIHU}%"), col(m.Volunteer, "id").not_in(seen_by_lixia))
        .where(col(m.Volunteer, "id").not_in(select(tm.volunteer_id).where(tm.team_id == lixia_team)))
        .order_by(col(m.Volunteer, "id"))
        .limit(1),
    )
    day = date(2026, 6, 6)
    rows: dict[str, SQLModel] = {}
    async with sessions() as session, session.begin():

        async def add(name: str, row: SQLModel) -> Any:
            session.add(row)
            await session.flush()
            rows[name] = row
            return row.id

        xihu = {"team_id": post.team_id, "region_code": post.region_code}
        await add(
            "membership",
            m.TeamMembership(
                volunteer_id=lixia_volunteer, status=MembershipStatus.JOINED, joined_at=_at(day, 0), **xihu
            ),
        )
        sign_up = await add(
            "sign_up",
            m.SignUp(
                post_id=post.id,
                project_id=post.project_id,
                volunteer_id=lixia_volunteer,
                status=SignUpStatus.ACCEPTED,
                **xihu,
            ),
        )
        attendance = await add(
            "attendance",
            m.Attendance(
                sign_up_id=sign_up,
                volunteer_id=lixia_volunteer,
                project_id=post.project_id,
                method=AttendanceMethod.GPS,
                status=AttendanceStatus.CLOSED,
                check_in_at=_at(day, 1),
                check_out_at=_at(day, 3),
                check_in_lat=30.25,
                check_in_lng=120.1,
                **xihu,
            ),
        )
        await add(
            "record",
            m.ServiceRecord(
                volunteer_id=lixia_volunteer,
                project_id=post.project_id,
                attendance_id=attendance,
                service_date=day,
                hours=Decimal("2.00"),
                status=RecordStatus.CONFIRMED,
                **xihu,
            ),
        )
        await add(
            "certificate",
            m.Certificate(
                number="ZY-LEAK-PROBE-0001",
                volunteer_id=lixia_volunteer,
                period_start=day,
                period_end=day,
                total_hours=Decimal("2.00"),
                status=CertificateStatus.ISSUED,
                **xihu,
            ),
        )
        await add(
            "applicant",
            m.TeamMembership(
                team_id=lixia_team,
                volunteer_id=xihu_volunteer,
                region_code=lixia_region,
                status=MembershipStatus.APPLYING,
            ),
        )
        await add(
            "xihu_event",
            m.AuditEvent(
                action="LEAK_PROBE",
                subject_type="Volunteer",
                subject_id=xihu_volunteer,
                region_code=post.region_code,
            ),
        )
        await add(
            "lixia_event",
            m.AuditEvent(
                action="LEAK_PROBE",
                subject_type="Volunteer",
                subject_id=lixia_volunteer,
                region_code=lixia_region,
            ),
        )
    yield Footprint(
        other=await _other_county(sessions),
        lixia_team=lixia_team,
        lixia_volunteer=lixia_volunteer,
        xihu_team=post.team_id,
        xihu_project=post.project_id,
        xihu_post=int(post.id or 0),
        xihu_sign_in_point=await _scalar(
            sessions,
            select(col(m.SignInPoint, "id"))
            .where(col(m.SignInPoint, "project_id") == post.project_id)
            .limit(1),
        ),
        xihu_volunteer=xihu_volunteer,
        rows={name: (type(row), int(row.id)) for name, row in rows.items()},
    )
    async with sessions() as session, session.begin():
        for row in reversed(rows.values()):
            await session.execute(delete(type(row)).where(col(type(row), "id") == row.id))


@pytest.fixture(scope="module")
def as_lixia(api: Api, tokens: dict[str, str]) -> Api:
    return api.as_(tokens["demo_lixia"])


FOREIGN = ("membership", "sign_up", "attendance", "record", "certificate", "xihu_event")
"""Footprint rows outside 历下区."""


def type_name(global_id: str) -> str:
    return base64.b64decode(global_id).decode().partition(":")[0]


# --- filters, search, ordering, counts ----------------------------------------------------------------------


@pytest.mark.parametrize("field", REGION_FILTERED)
@pytest.mark.parametrize("county", ["xihu", "other"])
async def test_region_filter_shows_only_visible_rows(
    as_lixia: Api,
    api: Api,
    tokens: dict[str, str],
    sessions: SessionFactory,
    lixia: Person,
    footprint: Footprint,
    field: str,
    county: str,
) -> None:
    prefix = XIHU if county == "xihu" else footprint.other
    model, code = ROOT_LISTS[field], prefix.ljust(12, "0")
    args = f'filter: {{region: "{code}"}},'
    expected = await visible_ids(sessions, model, lixia, col(model, "region_code").like(f"{prefix}%"))
    got, total = await walk(as_lixia, field, args)
    assert got == expected and total == len(expected)
    if model is not m.Volunteer:  # volunteers registered there may have joined a 历下区 team; nothing else
        assert not expected
    foreign, _ = await walk(api.as_(tokens["demo_ministry"]), field, args)
    assert foreign or (field == "auditEvents" and county == "other"), "the probe found nothing to hide"


async def test_search_does_not_reach_across(
    as_lixia: Api,
    api: Api,
    tokens: dict[str, str],
    sessions: SessionFactory,
    lixia: Person,
    footprint: Footprint,
) -> None:
    async with sessions() as session:
        volunteer = await session.get(m.Volunteer, footprint.xihu_volunteer)
        team = await session.get(m.Team, footprint.xihu_team)
        project = await session.get(m.Project, footprint.xihu_project)
        post = await session.get(m.Post, footprint.xihu_post)
    assert volunteer and team and project and post
    # (list, table, filter field, column, a value only 西湖区 rows have, the 西湖区 row's id)
    probes: list[tuple[str, type[SQLModel], str, str, Any, Any]] = [
        ("volunteers", m.Volunteer, "nameContains", "name", volunteer.name, volunteer.id),
        (
            "volunteers",
            m.Volunteer,
            "volunteerNumber",
            "volunteer_number",
            volunteer.volunteer_number,
            volunteer.id,
        ),
        ("teams", m.Team, "nameContains", "name", team.name, team.id),
        ("teams", m.Team, "creditCode", "credit_code", team.credit_code, team.id),
        ("projects", m.Project, "nameContains", "name", project.name, project.id),
        ("posts", m.Post, "nameContains", "name", post.name, post.id),
        ("auditEvents", m.AuditEvent, "action", "action", "LEAK_PROBE", footprint.rows["xihu_event"][1]),
    ]
    ministry = api.as_(tokens["demo_ministry"])
    for field, model, argument, column, value, foreign_id in probes:
        if value is None:
            continue
        filter_ = f'{argument}: "{value}"'
        where = (
            col(model, column).contains(value)
            if argument.endswith("Contains")
            else col(model, column) == value
        )
        args = f"filter: {{{filter_}}},"
        got, total = await walk(as_lixia, field, args)
        assert foreign_id not in got, (field, filter_)
        assert got == await visible_ids(sessions, model, lixia, where) and total == len(got), (field, filter_)
        assert foreign_id in (await walk(ministry, field, args))[0], (field, filter_)
    events, _ = await walk(as_lixia, "auditEvents", 'filter: {action: "LEAK_PROBE"},')
    assert events == {footprint.rows["lixia_event"][1]}


def _orderings() -> list[tuple[str, str]]:
    from graphql import GraphQLEnumType, GraphQLInputObjectType, get_named_type

    from schema import schema

    found: list[tuple[str, str]] = []
    for name in ROOT_LISTS:
        field = schema._schema.query_type.fields[name]
        if "orderBy" not in field.args:
            continue
        order = get_named_type(field.args["orderBy"].type)
        assert isinstance(order, GraphQLInputObjectType)
        keys = get_named_type(order.fields["field"].type)
        assert isinstance(keys, GraphQLEnumType)
        found += [(name, key) for key in keys.values]
    return found


@pytest.mark.parametrize(("field", "key"), _orderings())
async def test_ordering_brings_no_foreign_rows(
    as_lixia: Api, sessions: SessionFactory, lixia: Person, footprint: Footprint, field: str, key: str
) -> None:
    expected = await visible_ids(sessions, ROOT_LISTS[field], lixia)
    for direction in ("ASC", "DESC"):
        got, total = await walk(as_lixia, field, f"orderBy: [{{field: {key}, direction: {direction}}}],")
        assert got == expected and total == len(expected)


@pytest.mark.parametrize("field", list(ROOT_LISTS))
async def test_counts_count_visible_rows(
    as_lixia: Api, sessions: SessionFactory, lixia: Person, footprint: Footprint, field: str
) -> None:
    model = ROOT_LISTS[field]
    expected = await visible_ids(sessions, model, lixia)
    for first in (0, 1, 100):  # count alone; with a page; (past the end is covered by test_impossible_scope)
        data = await as_lixia.data(f"{{ {field}(first: {first}) {{ totalCount nodes {{ id }} }} }}")
        assert data[field]["totalCount"] == len(expected)
        assert {db_id(n["id"]) for n in data[field]["nodes"]} <= expected
    assert not {footprint.rows[n][1] for n in FOREIGN if footprint.rows[n][0] is model} & expected


# --- direct lookups ---------------------------------------------------------------------------------------------

NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


def _foreign_ids(footprint: Footprint) -> list[str]:
    return [
        gid("Volunteer", footprint.xihu_volunteer),
        gid("Team", footprint.xihu_team),
        gid("Project", footprint.xihu_project),
        gid("Post", footprint.xihu_post),
        gid("SignInPoint", footprint.xihu_sign_in_point),
        *(gid(footprint.rows[n][0].__name__, footprint.rows[n][1]) for n in FOREIGN),
    ]


async def test_node_of_a_foreign_id_is_a_missing_id(
    as_lixia: Api, api: Api, tokens: dict[str, str], footprint: Footprint
) -> None:
    foreign = _foreign_ids(footprint)
    for global_id in foreign:
        answer = await as_lixia.gql(NODE, {"id": global_id})
        missing = await as_lixia.gql(NODE, {"id": gid(type_name(global_id), 2**40)})
        assert answer == missing, global_id
        assert answer["data"] == {"node": None} and codes(answer) == ["NOT_FOUND"]
    body = await as_lixia.gql(NODES, {"ids": foreign})
    assert "errors" not in body and body["data"] == {"nodes": [None] * len(foreign)}
    seen = (await api.as_(tokens["demo_xihu"]).data(NODES, {"ids": foreign}))["nodes"]
    assert all(n is not None for n in seen), "demo_xihu should see every probe row"


async def test_lookups_by_key_of_foreign_rows_are_missing(
    as_lixia: Api, sessions: SessionFactory, footprint: Footprint
) -> None:
    async with sessions() as session:
        volunteer = await session.get(m.Volunteer, footprint.xihu_volunteer)
        credit_code = (
            await session.execute(
                select(m.Team.credit_code)
                .where(col(m.Team, "region_code").like(f"{XIHU}%"), col(m.Team, "credit_code").is_not(None))
                .limit(1)
            )
        ).scalar_one()
    assert volunteer is not None
    by_number = "query($n: String!) { volunteerByNumber(number: $n) { id } }"
    answer = await as_lixia.gql(by_number, {"n": volunteer.volunteer_number})
    assert answer == await as_lixia.gql(by_number, {"n": "V000000000000000"})
    assert answer["data"] == {"volunteerByNumber": None} and codes(answer) == ["NOT_FOUND"]
    by_code = "query($c: String!) { teamByCreditCode(creditCode: $c) { id } }"
    answer = await as_lixia.gql(by_code, {"c": credit_code.lower()})
    assert answer == await as_lixia.gql(by_code, {"c": "91110000000000000X"})
    assert answer["data"] == {"teamByCreditCode": None} and codes(answer) == ["NOT_FOUND"]


# --- nested paths ---------------------------------------------------------------------------------------------

VOLUNTEER_PATHS = """
query($id: ID!) { node(id: $id) { ... on Volunteer {
  memberships(first: 100) { totalCount nodes { id team { id } } }
  signUps(first: 100) { totalCount nodes { id team: project { id } } }
  serviceRecords(first: 100) { totalCount nodes { id team { id } } }
  certificates(first: 100) { totalCount nodes { id team { id } } }
} } }
"""
VOLUNTEER_LISTS = {
    "memberships": (m.TeamMembership, m.Team, "team_id"),
    "signUps": (m.SignUp, m.Project, "project_id"),
    "serviceRecords": (m.ServiceRecord, m.Team, "team_id"),
    "certificates": (m.Certificate, m.Team, "team_id"),
}
"""Nested list → (its table, the table of the to-one reference checked on each row, the reference column)."""


async def _references(
    sessions: SessionFactory, model: type[SQLModel], ids: set[int], column: str
) -> dict[int, int | None]:
    async with sessions() as session:
        rows = await session.execute(
            select(col(model, "id"), col(model, column)).where(col(model, "id").in_(ids))
        )
        return {int(key): value for key, value in rows.all()}


async def _check_list(
    sessions: SessionFactory,
    who: Person,
    connection: dict[str, Any],
    model: type[SQLModel],
    where: Any,
    reference: tuple[str, type[SQLModel], str] | None = None,
) -> set[int]:
    """The nested list holds exactly the visible rows; each to-one reference is null exactly when hidden."""
    expected = await visible_ids(sessions, model, who, where)
    got = {db_id(n["id"]) for n in connection["nodes"]}
    assert connection["totalCount"] == len(expected), (who.username, model.__name__)
    assert got <= expected and len(got) == min(len(expected), 100), (who.username, model.__name__)
    if reference is not None:
        name, target, column = reference
        visible = await visible_ids(sessions, target, who)
        keys = await _references(sessions, model, got, column)
        for node in connection["nodes"]:
            key = keys[db_id(node["id"])]
            shown = db_id(node[name]["id"]) if node[name] else None
            assert shown == (key if key in visible else None), (who.username, model.__name__, node)
    return got


async def test_own_volunteer_lists_exclude_foreign_rows(
    as_lixia: Api,
    api: Api,
    tokens: dict[str, str],
    sessions: SessionFactory,
    lixia: Person,
    footprint: Footprint,
) -> None:
    """The 历下区 volunteer's lists hold its 历下区 rows only; 西湖区, where the volunteer also joined a team,
    sees the same volunteer with only its 西湖区 rows."""
    volunteer = footprint.lixia_volunteer
    xihu = await person(sessions, "demo_xihu")
    shown: dict[str, set[tuple[str, int]]] = {}
    for viewer, who in ((as_lixia, lixia), (api.as_(tokens["demo_xihu"]), xihu)):
        node = (await viewer.data(VOLUNTEER_PATHS, {"id": gid("Volunteer", volunteer)}))["node"]
        shown[who.username] = set()
        for field, (model, target, column) in VOLUNTEER_LISTS.items():
            where = col(model, "volunteer_id") == volunteer
            got = await _check_list(sessions, who, node[field], model, where, ("team", target, column))
            shown[who.username] |= {(model.__name__, i) for i in got}
    probe = {
        (footprint.rows[n][0].__name__, footprint.rows[n][1])
        for n in ("membership", "sign_up", "record", "certificate")
    }
    assert not shown["demo_lixia"] & probe
    assert shown["demo_xihu"] == probe


TEAM_PATHS = """
query($id: ID!) { node(id: $id) { ... on Team {
  members(first: 100) { totalCount nodes { id volunteer { id } } }
  serviceRecords(first: 100) { totalCount nodes { id volunteer { id } } }
  certificates(first: 100) { totalCount nodes { id volunteer { id } } }
  attachedGroups(first: 100) { totalCount nodes { id } }
  projects(first: 100) { totalCount nodes {
    id
    posts(first: 100) { totalCount nodes { id } }
    signInPoints(first: 100) { totalCount nodes { id } }
    signUps(first: 100) { totalCount nodes { id volunteer { id } } }
    serviceRecords(first: 100) { totalCount nodes { id volunteer { id } } }
  } }
} } }
"""


async def test_own_team_paths_hold_no_hidden_people(
    as_lixia: Api, sessions: SessionFactory, lixia: Person, footprint: Footprint
) -> None:
    """Every row under a 历下区 team is 历下区's; the people they point at resolve only when visible, so the
    西湖区 applicant's membership shows with a null volunteer."""
    team = footprint.lixia_team
    node = (await as_lixia.data(TEAM_PATHS, {"id": gid("Team", team)}))["node"]
    person_ref = ("volunteer", m.Volunteer, "volunteer_id")
    members = await _check_list(
        sessions,
        lixia,
        node["members"],
        m.TeamMembership,
        col(m.TeamMembership, "team_id") == team,
        person_ref,
    )
    applicant = footprint.rows["applicant"][1]
    assert applicant in members
    assert next(n for n in node["members"]["nodes"] if db_id(n["id"]) == applicant)["volunteer"] is None
    for field, model in (("serviceRecords", m.ServiceRecord), ("certificates", m.Certificate)):
        await _check_list(sessions, lixia, node[field], model, col(model, "team_id") == team, person_ref)
    await _check_list(sessions, lixia, node["attachedGroups"], m.Team, col(m.Team, "contact_team_id") == team)
    await _check_list(sessions, lixia, node["projects"], m.Project, col(m.Project, "team_id") == team)
    for project in node["projects"]["nodes"]:
        key = db_id(project["id"])
        for field, model, ref in (
            ("posts", m.Post, None),
            ("signInPoints", m.SignInPoint, None),
            ("signUps", m.SignUp, person_ref),
            ("serviceRecords", m.ServiceRecord, person_ref),
        ):
            await _check_list(sessions, lixia, project[field], model, col(model, "project_id") == key, ref)


async def test_foreign_reference_from_a_visible_row_is_null(
    api: Api, tokens: dict[str, str], footprint: Footprint
) -> None:
    """西湖区 sees the probe's record; the 历下区 volunteer it belongs to is visible there only as a member of the
    西湖区 team, and the record's team and project are 西湖区's own."""
    record = gid("ServiceRecord", footprint.rows["record"][1])
    query = "query($id: ID!) { node(id: $id) { ... on ServiceRecord { volunteer { id } team { id } project { id } } } }"
    node = (await api.as_(tokens["demo_xihu"]).data(query, {"id": record}))["node"]
    assert node == {
        "volunteer": {"id": gid("Volunteer", footprint.lixia_volunteer)},
        "team": {"id": gid("Team", footprint.xihu_team)},
        "project": {"id": gid("Project", footprint.xihu_project)},
    }
    membership = gid("TeamMembership", footprint.rows["applicant"][1])
    query = "query($id: ID!) { node(id: $id) { ... on TeamMembership { volunteer { id } team { id } } } }"
    node = (await api.as_(tokens["demo_lixia"]).data(query, {"id": membership}))["node"]
    assert node == {"volunteer": None, "team": {"id": gid("Team", footprint.lixia_team)}}
