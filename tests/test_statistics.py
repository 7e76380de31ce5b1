"""``statistics``: figures checked against an independent grouping of the base tables.

The expectation reads the rows with the plain WHERE conditions of tests/visibility.py (``rule()``, not
``scope()``) and groups them here, in Python or in a GROUP BY of its own; a leak or a lost row in the
resolver's single statement shows up as a difference.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

import models as m
from resolvers import statistics as stats
from tests.conftest import Api, login
from tests.test_statistics_rollups import viewer_of
from tests.visibility import add_account, codes, col, count, gid, person, remove_account, rule, under

QUERY = """
query Stats($input: StatisticsInput!) {
  statistics(input: $input) { total rows { value keys { dimension value label } } }
}
"""
TODAY = date.today()
MEASURES = [
    "CONFIRMED_HOURS",
    "RECORDS",
    "VOLUNTEERS",
    "NEW_VOLUNTEERS",
    "VERIFIED_VOLUNTEERS",
    "TEAMS",
    "PROJECTS",
    "SIGN_UPS",
    "CERTIFICATES",
]
CENT = Decimal("0.01")


async def _stats(api: Api, token: str, **input: Any) -> dict[str, Any]:
    body = await api.as_(token).gql(QUERY, {"input": input})
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["statistics"]
    return result


def _as_dict(result: dict[str, Any]) -> dict[tuple[str, ...], Decimal]:
    return {
        tuple(k["value"] for k in row["keys"]): Decimal(str(row["value"])).quantize(CENT)
        for row in result["rows"]
    }


def _age_band(birth: date | None) -> str:
    """By age reached this year (birth year), the statistics' convention."""
    if birth is None:
        return "UNKNOWN"
    age = TODAY.year - birth.year
    return "0-17" if age < 18 else "18-34" if age < 35 else "35-59" if age < 60 else "60+"


def _key(dimension: str, row: Any, child_length: int, dated: date | datetime | None) -> str:
    if dimension == "CHILD_REGION":
        return str(row.region_code[:child_length].ljust(12, "0"))
    if dimension in ("DAY", "WEEK", "MONTH", "YEAR"):
        assert dated is not None
        if isinstance(dated, datetime):
            dated = (dated if dated.tzinfo else dated.replace(tzinfo=UTC)).astimezone(UTC).date()
        text = dated.isoformat()
        monday = (dated - timedelta(days=dated.weekday())).isoformat()
        return {"DAY": text, "WEEK": monday, "MONTH": text[:7], "YEAR": text[:4]}[dimension]
    if dimension == "TEAM":
        return gid("Team", row.team_id)
    if dimension == "AGE_BAND":
        return _age_band(row.birth_date)
    column = {"CATEGORY": "category", "TEAM_TYPE": "team_type", "SEX": "sex"}[dimension]
    return str(getattr(row, column))


async def _expected(
    app: Starlette,
    username: str,
    model: type[Any],
    date_column: str,
    group_by: list[str],
    *where: Any,
    hours: bool = False,
    child_length: int = 2,
) -> dict[tuple[str, ...], Decimal]:
    sessions = app.state.services.sessions
    who = await person(sessions, username)
    visible = rule(model, who)
    statement = select(model).where(*where)
    if visible is not None:
        statement = statement.where(visible)
    if model is m.Volunteer and who.prefixes and not who.ministry and not who.team_ids:
        # figures count volunteers where they are registered, not members from elsewhere
        statement = statement.where(under(m.Volunteer.region_code, who.prefixes))
    async with sessions() as session:
        rows = (await session.execute(statement)).scalars().all()
    groups: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        key = tuple(_key(d, row, child_length, getattr(row, date_column)) for d in group_by)
        groups[key] += Decimal(str(row.hours)) if hours else Decimal(1)
    return {k: v.quantize(CENT) for k, v in groups.items()}


def _total(groups: dict[tuple[str, ...], Decimal]) -> Decimal:
    return sum(groups.values(), Decimal(0)).quantize(CENT)


async def test_hours_by_city_for_a_province(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    result = await _stats(api, tokens["demo_shandong"], measure="CONFIRMED_HOURS", groupBy=["CHILD_REGION"])
    city = func.substr(m.ServiceRecord.region_code, 1, 4)
    independent = (
        select(city, func.sum(m.ServiceRecord.hours))
        .where(m.ServiceRecord.region_code.like("37%"), m.ServiceRecord.status == "CONFIRMED")
        .group_by(city)
    )
    async with app.state.services.sessions() as session:
        expected = {
            (code.ljust(12, "0"),): Decimal(str(hours)).quantize(CENT)
            for code, hours in (await session.execute(independent)).all()
        }
    assert expected and _as_dict(result) == expected
    assert Decimal(str(result["total"])).quantize(CENT) == _total(expected)
    assert all(r["keys"][0]["label"] for r in result["rows"]), "cities carry their names"


@pytest.mark.parametrize(
    ("username", "measure", "group_by"),
    [
        ("demo_lixia", "RECORDS", ["MONTH", "CATEGORY"]),
        ("demo_shandong", "CONFIRMED_HOURS", ["CHILD_REGION", "YEAR", "TEAM"]),
        ("demo_team", "CONFIRMED_HOURS", ["TEAM", "DAY"]),
        ("demo_jinan", "CONFIRMED_HOURS", ["WEEK", "CATEGORY"]),
        ("demo_volunteer", "RECORDS", ["YEAR"]),
    ],
)
async def test_records(
    app: Starlette, api: Api, tokens: dict[str, str], username: str, measure: str, group_by: list[str]
) -> None:
    nine_years_ago = TODAY.replace(year=TODAY.year - 9, day=min(TODAY.day, 28))
    daily = {"DAY", "WEEK"} & set(group_by)
    window = {"from": nine_years_ago.isoformat(), "to": TODAY.isoformat()} if daily else {}
    result = await _stats(api, tokens[username], measure=measure, groupBy=group_by, **window)
    where = [m.ServiceRecord.status == "CONFIRMED"]
    if window:
        where += [
            col(m.ServiceRecord, "service_date") >= date.fromisoformat(window["from"]),
            col(m.ServiceRecord, "service_date") < date.fromisoformat(window["to"]),
        ]
    expected = await _expected(
        app,
        username,
        m.ServiceRecord,
        "service_date",
        group_by,
        *where,
        hours=measure == "CONFIRMED_HOURS",
        child_length=4,
    )
    assert expected, "the demo data has rows for this account"
    assert _as_dict(result) == expected
    assert Decimal(str(result["total"])).quantize(CENT) == _total(expected)


async def test_team_type_active_and_star_volunteers(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    """Measures new with the rollups, each against a GROUP BY of its own over the base tables."""
    r, t, v = m.ServiceRecord, m.Team, m.Volunteer
    confirmed = [r.status == "CONFIRMED", r.region_code.like("3701%")]
    by_type = (
        select(t.team_type, func.sum(r.hours))
        .join(t, t.id == r.team_id)
        .where(*confirmed)
        .group_by(t.team_type)
    )
    month = func.substr(func.cast(r.service_date, m.Region.name.type), 1, 7)  # type: ignore[attr-defined]
    active = select(month, func.count(func.distinct(r.volunteer_id))).where(*confirmed).group_by(month)
    totals = (
        select(r.volunteer_id, func.sum(r.hours).label("h"))
        .where(r.status == "CONFIRMED")
        .group_by(r.volunteer_id)
    )
    hours = totals.subquery()
    province = func.substr(v.region_code, 1, 2)
    stars = (
        select(province, func.count())
        .join(hours, hours.c.volunteer_id == v.id)
        .where(func.round(hours.c.h, 2) >= 10)
        .group_by(province)
    )
    async with app.state.services.sessions() as session:
        expected_types = {
            (str(k),): Decimal(str(h)).quantize(CENT) for k, h in (await session.execute(by_type)).all()
        }
        expected_active = {(k,): Decimal(n).quantize(CENT) for k, n in (await session.execute(active)).all()}
        expected_stars = {
            (p.ljust(12, "0"),): Decimal(n).quantize(CENT) for p, n in (await session.execute(stars)).all()
        }
    jinan = tokens["demo_jinan"]
    by_team_type = await _stats(api, jinan, measure="CONFIRMED_HOURS", groupBy=["TEAM_TYPE"])
    assert expected_types and _as_dict(by_team_type) == expected_types
    by_month = await _stats(api, jinan, measure="ACTIVE_VOLUNTEERS", groupBy=["MONTH"])
    assert expected_active and _as_dict(by_month) == expected_active
    # the demo data is too small for 100 hours: the first star threshold is 10 here
    ministry = await viewer_of(app, "demo_ministry")
    request = stats.Request(stats.Measure.STAR_VOLUNTEERS, (stats.Dimension.CHILD_REGION,))
    star = await stats.statistics(
        app.state.services.sessions, ministry, request, gid, star_thresholds=(10, 30)
    )
    found = {tuple(k.value for k in row.keys): row.value.quantize(CENT) for row in star.rows}
    assert expected_stars and found == expected_stars


@pytest.mark.parametrize(
    ("username", "measure", "model", "date_column", "group_by", "extra"),
    [
        ("demo_ministry", "VOLUNTEERS", m.Volunteer, "created_at", ["SEX", "AGE_BAND"], ()),
        ("demo_shandong", "VOLUNTEERS", m.Volunteer, "created_at", ["CHILD_REGION", "SEX"], ()),
        ("demo_lixia", "VERIFIED_VOLUNTEERS", m.Volunteer, "created_at", ["AGE_BAND"], ("PASSED",)),
        ("demo_ministry", "TEAMS", m.Team, "created_at", ["TEAM_TYPE", "YEAR"], ()),
        ("demo_shandong", "PROJECTS", m.Project, "created_at", ["CATEGORY", "MONTH"], ()),
        ("demo_team", "SIGN_UPS", m.SignUp, "created_at", ["TEAM", "MONTH"], ()),
        ("demo_ministry", "CERTIFICATES", m.Certificate, "issued_at", ["CHILD_REGION", "YEAR"], ("ISSUED",)),
    ],
)
async def test_other_measures(
    app: Starlette,
    api: Api,
    tokens: dict[str, str],
    username: str,
    measure: str,
    model: type[Any],
    date_column: str,
    group_by: list[str],
    extra: tuple[str, ...],
) -> None:
    result = await _stats(api, tokens[username], measure=measure, groupBy=group_by)
    where = []
    if "PASSED" in extra:
        where.append(m.Volunteer.real_name_status == "PASSED")
    if "ISSUED" in extra:
        where.append(m.Certificate.status == "ISSUED")
    length = 4 if username == "demo_shandong" else 2
    expected = await _expected(app, username, model, date_column, group_by, *where, child_length=length)
    assert expected, "the demo data has rows for this account"
    assert _as_dict(result) == expected
    assert Decimal(str(result["total"])).quantize(CENT) == _total(expected)


async def test_filters_order_limit_having(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    token = tokens["demo_ministry"]
    full = await _stats(
        api, token, measure="CONFIRMED_HOURS", groupBy=["TEAM"], region="370000000000", category="COMMUNITY"
    )
    expected = await _expected(
        app,
        "demo_ministry",
        m.ServiceRecord,
        "service_date",
        ["TEAM"],
        m.ServiceRecord.status == "CONFIRMED",
        m.ServiceRecord.region_code.like("37%"),
        m.ServiceRecord.category == "COMMUNITY",
        hours=True,
    )
    assert _as_dict(full) == expected and expected
    assert all(r["keys"][0]["label"] for r in full["rows"]), "teams carry their names"
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    top = await _stats(
        api,
        token,
        measure="CONFIRMED_HOURS",
        groupBy=["TEAM"],
        region="370000000000",
        category="COMMUNITY",
        orderBy="DESC",
        limit=2,
    )
    assert [tuple(k["value"] for k in r["keys"]) for r in top["rows"]] == [k for k, _ in ranked[:2]]
    assert Decimal(str(top["total"])).quantize(CENT) == _total(expected), "the total is before the limit"
    threshold = ranked[0][1]
    high = await _stats(
        api,
        token,
        measure="CONFIRMED_HOURS",
        groupBy=["TEAM"],
        region="370000000000",
        category="COMMUNITY",
        having=str(threshold),
    )
    assert _as_dict(high) == {k: v for k, v in expected.items() if v >= threshold}
    team = ranked[0][0][0]
    one = await _stats(api, token, measure="RECORDS", teamId=team)
    assert len(one["rows"]) == 1 and one["rows"][0]["keys"] == []
    counted = await _expected(
        app,
        "demo_ministry",
        m.ServiceRecord,
        "service_date",
        [],
        m.ServiceRecord.status == "CONFIRMED",
        m.ServiceRecord.team_id == int(__import__("base64").b64decode(team).decode().partition(":")[2]),
    )
    assert Decimal(str(one["total"])) == _total(counted)


async def test_national_grouping_returns_provinces(api: Api, tokens: dict[str, str]) -> None:
    result = await _stats(api, tokens["demo_ministry"], measure="VOLUNTEERS", groupBy=["CHILD_REGION"])
    keys = [r["keys"][0] for r in result["rows"]]
    assert {k["value"][:2] for k in keys} >= {"37", "33"}
    assert all(k["value"].endswith("0" * 10) and k["label"] for k in keys)
    assert {k["value"]: k["label"] for k in keys}["370000000000"] == "山东省"


@pytest.mark.parametrize("measure", MEASURES)
async def test_another_countys_region_is_empty(api: Api, tokens: dict[str, str], measure: str) -> None:
    ministry = await _stats(api, tokens["demo_ministry"], measure=measure, region="370102000000")
    grouped = await _stats(
        api, tokens["demo_xihu"], measure=measure, region="370102000000", groupBy=["CHILD_REGION"]
    )
    assert grouped == {"total": 0, "rows": []} or (
        grouped["rows"] == [] and Decimal(str(grouped["total"])) == 0
    )
    plain = await _stats(api, tokens["demo_xihu"], measure=measure, region="370102000000")
    assert [Decimal(str(r["value"])) for r in plain["rows"]] == [0] and Decimal(str(plain["total"])) == 0
    if measure in ("CONFIRMED_HOURS", "RECORDS", "TEAMS", "PROJECTS"):
        assert Decimal(str(ministry["total"])) > 0, "the region has data: the empty answer is scope"


@pytest.mark.parametrize(
    ("input", "reason", "field"),
    [
        ({"measure": "RECORDS", "groupBy": ["SEX"]}, "UNKNOWN_DIMENSION", "input.groupBy[0]"),
        ({"measure": "TEAMS", "groupBy": ["YEAR", "CATEGORY"]}, "UNKNOWN_DIMENSION", "input.groupBy[1]"),
        ({"measure": "RECORDS", "limit": 1001}, "ROW_CAP", "input.limit"),
        (
            {"measure": "RECORDS", "groupBy": ["DAY"], "from": "2010-01-01", "to": "2020-01-02"},
            "PERIOD_TOO_LONG",
            "input.groupBy",
        ),
        ({"measure": "RECORDS", "groupBy": ["DAY"]}, "PERIOD_TOO_LONG", "input.groupBy"),
        (
            {"measure": "VOLUNTEERS", "groupBy": ["WEEK"], "from": "2025-01-01", "to": "2025-03-01"},
            "STOCK_BY_DAY",
            "input.groupBy",
        ),
        ({"measure": "VERIFIED_VOLUNTEERS", "groupBy": ["DAY"]}, "STOCK_BY_DAY", "input.groupBy"),
        ({"measure": "RECORDS", "from": "2024-01-01", "to": "2024-01-01"}, "BAD_PERIOD", "input.to"),
        ({"measure": "VOLUNTEERS", "category": "EDUCATION"}, "UNKNOWN_FILTER", "input.category"),
        ({"measure": "RECORDS", "teamId": gid("Volunteer", 1)}, "BAD_ID", "input.teamId"),
        ({"measure": "RECORDS", "region": "37"}, "REGION_UNKNOWN", "input.region"),
    ],
)
async def test_bad_input(
    api: Api, tokens: dict[str, str], input: dict[str, Any], reason: str, field: str
) -> None:
    body = await api.as_(tokens["demo_ministry"]).gql(QUERY, {"input": input})
    assert codes(body) == ["BAD_USER_INPUT"], body
    extensions = body["errors"][0]["extensions"]
    assert (extensions["reason"], extensions["field"]) == (reason, field)


async def test_ten_years_of_days_is_allowed(api: Api, tokens: dict[str, str]) -> None:
    await _stats(
        api,
        tokens["demo_lixia"],
        measure="RECORDS",
        groupBy=["DAY"],
        **{"from": "2010-01-01", "to": "2020-01-01"},
    )


async def test_anonymous_is_refused(api: Api) -> None:
    body = await api.as_(None).gql(QUERY, {"input": {"measure": "RECORDS"}})
    assert codes(body) == ["UNAUTHENTICATED"]


EMPTY_COUNTY = "650102000000"  # 天山区: no demo data (checked in tests/test_impossible_scope.py as well)


async def test_an_admin_of_an_empty_county_counts_nothing(app: Starlette, api: Api) -> None:
    """The impossible-scope check of ``statistics`` (tests/test_impossible_scope.py lists it as covered here)."""
    sessions = app.state.services.sessions
    for table in (m.ServiceRecord, m.Volunteer, m.Team, m.Project, m.SignUp, m.Certificate):
        assert await count(sessions, table, col(table, "region_code").like("650102%")) == 0
    account_id = await add_account(
        app,
        "empty_stats",
        "Empty@2026zy",
        m.RoleGrant(account_id=0, role="REGION_ADMIN", region_code=EMPTY_COUNTY),
    )
    try:
        token = await login(api, "empty_stats", "Empty@2026zy")
        for measure in MEASURES:
            for region in (None, "370000000000", "000000000000"):
                args = {} if region is None else {"region": region}
                grouped = await _stats(api, token, measure=measure, groupBy=["CHILD_REGION"], **args)
                assert grouped["rows"] == [] and Decimal(str(grouped["total"])) == 0, (measure, region)
            plain = await _stats(api, token, measure=measure)
            assert Decimal(str(plain["total"])) == 0 and [
                Decimal(str(r["value"])) for r in plain["rows"]
            ] == [0]
    finally:
        await remove_account(app, account_id)
