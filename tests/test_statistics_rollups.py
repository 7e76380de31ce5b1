"""Rollups answer exactly what a direct GROUP BY over the base tables answers — for every dimension combination,
for each kind of viewer, and after writes of every kind (ORM, bulk Core inserts, raw upserts, the correction
path that voids and replaces, updates that move rows between keys, deletes, rolled-back transactions).

Two independent checks: (1) the resolver's ``ROLLUP`` answer equals its ``BASE`` answer (the reference path
through ``scope()``); (2) each ``rollup_*`` table equals ``models.rollups.aggregate_sql`` run on the base table.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, Numeric, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from starlette.applications import Starlette

import models as m
from auth.viewer import Grant, Viewer
from models import rollups
from models.columns import UtcDateTime
from models.enums import Role
from models.rollups import ROLLUP_TABLES
from resolvers import statistics as stats
from resolvers.records import RecordEdit, correct_record
from tests.conftest import Api
from tests.visibility import col, gid

TODAY = date.today()
ALIGNED = {"from_": date(2020, 1, 1), "to": (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)}
RAGGED = {"from_": date(2020, 1, 15), "to": TODAY + timedelta(days=1)}
REGION_A, REGION_B = "650103000000", "650104000000"  # counties without demo data


async def viewer_of(app: Starlette, username: str) -> Viewer:
    async with app.state.services.sessions() as session:
        account_id = (
            await session.execute(select(m.Account.id).where(m.Account.username == username))
        ).scalar_one()
        grants = (
            await session.execute(
                select(m.RoleGrant.role, m.RoleGrant.region_code, m.RoleGrant.team_id).where(
                    m.RoleGrant.account_id == account_id, col(m.RoleGrant, "revoked_at").is_(None)
                )
            )
        ).all()
        volunteer_id = (
            await session.execute(select(m.Volunteer.id).where(m.Volunteer.account_id == account_id))
        ).scalar_one_or_none()
    return Viewer(
        account_id=account_id,
        username=username,
        volunteer_id=volunteer_id,
        grants=tuple(Grant(Role(r), g, t) for r, g, t in grants),
    )


async def both(app: Starlette, viewer: Viewer, request: stats.Request) -> stats.Result:
    """The rollup answer, asserted equal to the base answer; returned for further checks."""
    sessions = app.state.services.sessions
    rolled = await stats.statistics(sessions, viewer, request, gid)
    base = await stats.statistics(
        sessions, viewer, stats.Request(**{**request.__dict__, "source": stats.Source.BASE}), gid
    )
    assert base.source is stats.Source.BASE
    as_rows = [([(k.dimension, k.value, k.label) for k in r.keys], r.value) for r in rolled.rows]
    expected = [([(k.dimension, k.value, k.label) for k in r.keys], r.value) for r in base.rows]
    assert (as_rows, rolled.total) == (expected, base.total), (request, rolled.table)
    return rolled


def combinations(spec: stats.MeasureSpec, most: int) -> list[tuple[stats.Dimension, ...]]:
    dims = sorted(spec.dimensions, key=lambda d: d.value)
    return [c for n in range(most + 1) for c in itertools.combinations(dims, n)]


def requests(measure: stats.Measure, most: int) -> list[stats.Request]:
    spec = stats.SPECS[measure]
    found = []
    for i, group_by in enumerate(combinations(spec, most)):
        daily = bool(set(group_by) & {stats.Dimension.DAY, stats.Dimension.WEEK})
        window = (
            {} if spec.date_column is None else RAGGED if daily or i % 3 == 1 else ALIGNED if i % 3 else {}
        )
        request = stats.Request(measure, group_by, **window)  # type: ignore[arg-type]
        try:
            stats.validate(request)
        except stats.StatisticsInputError:  # daily figures of a stock have no period (a coded refusal)
            continue
        found.append(request)
    return found


CENT = Decimal("0.01")


def _normalised(rows: Any, width: int) -> set[tuple[Any, ...]]:
    """Keys as text and sums to the cent; rows whose sums are all zero dropped (a rollup keeps emptied rows)."""
    out = set()
    for row in rows:
        sums = tuple(Decimal(str(v)).quantize(CENT) + 0 for v in row[width:])
        if any(sums):
            out.add(tuple(str(v) for v in row[:width]) + sums)
    return out


async def rollups_match_base(app: Starlette | AsyncEngine) -> int:
    """Every rollup table holds exactly the GROUP BY of its base table; returns how many rows they hold."""
    engine = app if isinstance(app, AsyncEngine) else app.state.engine
    held = 0
    async with engine.connect() as conn:
        dialect = conn.dialect.name
        for rollup in rollups.ROLLUPS:
            width = len(rollup.keys)
            stored = _normalised((await conn.exec_driver_sql(f"SELECT * FROM {rollup.name}")).all(), width)
            computed = _normalised(
                (await conn.exec_driver_sql(rollups.aggregate_sql(rollup, dialect))).all(), width
            )
            assert stored == computed, (rollup.name, stored ^ computed)
            held += len(stored)
    return held


async def test_every_trigger_exists_at_head(app: Starlette) -> None:
    async with app.state.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'rollup_%'"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rollup_%'"
        found = {name for (name,) in (await conn.exec_driver_sql(query)).all()}
    assert found >= {t for r in rollups.ROLLUPS for t in rollups.trigger_names(r)}


FULL = {
    stats.Measure.CONFIRMED_HOURS,
    stats.Measure.VERIFIED_VOLUNTEERS,
    stats.Measure.STAR_VOLUNTEERS,
    stats.Measure.TEAMS,
    stats.Measure.CERTIFICATES,
}
"""One measure per rollup family gets every combination; the measures sharing its tables get up to two."""


async def test_the_ministry_every_combination(app: Starlette) -> None:
    viewer = await viewer_of(app, "demo_ministry")
    for measure in stats.Measure:
        most = len(stats.SPECS[measure].dimensions) if measure in FULL else 2
        for request in requests(measure, most=most):
            result = await both(app, viewer, request)
            if measure is not stats.Measure.ACTIVE_VOLUNTEERS:
                assert result.source is stats.Source.ROLLUP, request


@pytest.mark.parametrize(
    "username", ["demo_shandong", "demo_lixia", "demo_xihu", "demo_team", "demo_volunteer"]
)
async def test_other_viewers_each_dimension(app: Starlette, username: str) -> None:
    """Jurisdiction is what differs between viewers: every measure by each single dimension, and filtered."""
    viewer = await viewer_of(app, username)
    sources = set()
    for measure in stats.Measure:
        for request in requests(measure, most=1):
            sources.add((await both(app, viewer, request)).source)
            filtered = stats.Request(**{**request.__dict__, "region": "370102000000", "having": Decimal(2)})
            await both(app, viewer, filtered)
    if username in ("demo_shandong", "demo_team"):
        assert stats.Source.ROLLUP in sources


async def test_the_dashboard_reads_the_month_rollups(app: Starlette) -> None:
    year = {"from_": date(TODAY.year - 1, 1, 1), "to": date(TODAY.year, 1, 1)}
    by = (stats.Dimension.CHILD_REGION, stats.Dimension.MONTH)
    province, county = await viewer_of(app, "demo_shandong"), await viewer_of(app, "demo_lixia")
    for viewer, tables in (
        (province, ("rollup_record_county_month", "rollup_volunteer_county_month")),
        (county, ("rollup_record_month", "rollup_volunteer_month")),  # its children are townships
    ):
        hours = await both(app, viewer, stats.Request(stats.Measure.CONFIRMED_HOURS, by, **year))  # type: ignore[arg-type]
        new = await both(app, viewer, stats.Request(stats.Measure.NEW_VOLUNTEERS, by, **year))  # type: ignore[arg-type]
        assert (hours.table, new.table) == tables
    team = await both(app, province, stats.Request(stats.Measure.RECORDS, (stats.Dimension.TEAM_TYPE,)))
    assert team.table == "rollup_record_team_day"


QUERY = """
query Stats($input: StatisticsInput!) {
  statistics(input: $input) { total rows { value keys { dimension value label } } }
}
"""


async def test_a_rollup_read_is_one_statement_plus_labels(
    api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    client = api.as_(tokens["demo_shandong"])
    inputs = {
        "measure": "CONFIRMED_HOURS",
        "from": f"{TODAY.year - 3}-01-01",
        "to": f"{TODAY.year + 1}-01-01",
    }
    for group_by, labels in ((["MONTH"], 0), (["CHILD_REGION", "MONTH"], 1), (["TEAM", "CHILD_REGION"], 2)):
        with count_sql() as log:
            data = await client.data(QUERY, {"input": {**inputs, "groupBy": group_by}})
        assert data["statistics"]["rows"], group_by
        assert len(log) == 1 + labels, log.report()
        assert "rollup_record_" in log.statements[0] and "service_record" not in log.statements[0], (
            log.report()
        )


# --- writes of every kind -----------------------------------------------------------------------------------------


def _volunteer(n: int, region: str, **extra: Any) -> dict[str, Any]:
    return {
        "volunteer_number": f"ROLLUPTEST{n:04d}",
        "name": f"汇总{n}",
        "id_type": "RESIDENT_ID",
        "id_number_enc": b"x",
        "id_number_hash": f"rolluptest-{n}",
        "sex": "FEMALE" if n % 2 else "MALE",
        "birth_date": date(1960 + n * 7 % 55, 1 + n % 12, 1 + n % 27),
        "real_name_status": "PASSED" if n % 3 else "PENDING",
        "region_code": region,
        "skills": [],
        "created_at": datetime(2024, 1 + n % 12, 1 + n % 27, 23, 30, tzinfo=UTC),
        "updated_at": datetime(2024, 1, 1, tzinfo=UTC),
        **extra,
    }


def _record(volunteer_id: int, team_id: int, i: int, **extra: Any) -> dict[str, Any]:
    return {
        "volunteer_id": volunteer_id,
        "team_id": team_id,
        "region_code": REGION_A,
        "category": ("COMMUNITY", "EDUCATION", "ELDERLY_DISABLED")[i % 3],
        "service_date": date(2024, 1 + i % 12, 1 + i % 28),
        "hours": Decimal(f"{1 + i % 9}.{(i * 37) % 100:02d}"),
        "status": "CONFIRMED" if i % 5 else "PENDING",
        "provenance": "MANUAL",
        "content": "",
        "created_at": datetime(2024, 6, 1, tzinfo=UTC),
        **extra,
    }


async def _check(app: Starlette, ministry: Viewer) -> None:
    await rollups_match_base(app)
    for measure in stats.Measure:
        for request in requests(measure, most=2):
            await both(app, ministry, stats.Request(**{**request.__dict__, "region": "650000000000"}))


async def test_writes_of_every_kind_keep_rollups_exact(app: Starlette) -> None:
    services = app.state.services
    ministry = await viewer_of(app, "demo_ministry")
    team_admin_account = (await viewer_of(app, "demo_team")).account_id
    tables = {t: SQLModel.metadata.tables[t] for t in ("service_record", "volunteer", "team", "sign_up")}
    try:
        # the ORM: a team, volunteers, a project with a post, sign-ups, records, a certificate
        async with services.sessions() as session, session.begin():
            team = m.Team(name="汇总测试队", team_type="LEGAL_PERSON", region_code=REGION_A)
            session.add(team)
            await session.flush()
            assert team.id is not None
            volunteers = [m.Volunteer(**_volunteer(n, REGION_A if n % 4 else REGION_B)) for n in range(12)]
            session.add_all(volunteers)
            project = m.Project(
                team_id=team.id,
                region_code=REGION_A,
                name="汇总测试项目",
                category="EDUCATION",
                starts_at=datetime(2024, 3, 1, tzinfo=UTC),
                ends_at=datetime(2024, 4, 1, tzinfo=UTC),
                status="PUBLISHED",
            )
            session.add(project)
            await session.flush()
            assert project.id is not None
            post = m.Post(project_id=project.id, team_id=team.id, region_code=REGION_A, name="岗", quota=50)
            session.add(post)
            await session.flush()
            ids = [v.id for v in volunteers if v.id is not None]
            session.add_all(
                m.SignUp(
                    post_id=post.id or 0,
                    project_id=project.id,
                    team_id=team.id,
                    volunteer_id=vid,
                    region_code=REGION_A,
                    status="ACCEPTED",
                )
                for vid in ids
            )
            session.add_all(m.ServiceRecord(**_record(vid, team.id, i)) for i, vid in enumerate(ids))
            session.add(
                m.Certificate(
                    number="ROLLUPTEST-1",
                    volunteer_id=ids[0],
                    team_id=team.id,
                    region_code=REGION_A,
                    period_start=date(2024, 1, 1),
                    period_end=date(2024, 12, 31),
                    total_hours=Decimal("5.00"),
                    status="ISSUED",
                    issued_at=datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
                )
            )
        team_id = team.id
        await _check(app, ministry)

        # bulk Core inserts (the demo generator and the imports), one statement for many rows
        async with services.sessions() as session, session.begin():
            rows = [_record(ids[i % len(ids)], team_id, i, legacy_id=f"rolluptest-{i}") for i in range(200)]
            await session.execute(insert(tables["service_record"]), rows)

        # a raw upsert (the data-sync job): existing legacy ids change hours and status, new ones are added
        async with services.sessions() as session, session.begin():
            for i in range(190, 210):
                values = _record(ids[0], team_id, i + 1, legacy_id=f"rolluptest-{i}", status="CONFIRMED")
                columns = ", ".join(values)
                raw = text(
                    f"INSERT INTO service_record ({columns}) VALUES ({', '.join(':' + c for c in values)})"
                    " ON CONFLICT (legacy_id) DO UPDATE SET hours = excluded.hours, status = excluded.status,"
                    " category = excluded.category, service_date = excluded.service_date"
                ).bindparams(
                    bindparam("hours", type_=Numeric(8, 2)),
                    bindparam("service_date", type_=Date()),
                    bindparam("created_at", type_=UtcDateTime()),
                )
                await session.execute(raw, values)
        await _check(app, ministry)

        # the correction path: void a confirmed record and add its replacement (resolvers/records.py)
        async with services.sessions() as session:
            confirmed = (
                (
                    await session.execute(
                        select(m.ServiceRecord.id).where(
                            m.ServiceRecord.team_id == team_id,
                            m.ServiceRecord.status == "CONFIRMED",
                            col(m.ServiceRecord, "started_at").is_(None),
                        )
                    )
                )
                .scalars()
                .all()
            )
        team_admin = Viewer(account_id=team_admin_account, grants=(Grant(Role.TEAM_ADMIN, None, team_id),))
        for record_id in confirmed[:3]:
            await correct_record(
                services, team_admin, record_id, RecordEdit(hours=Decimal("0.25")), "更正", "t"
            )

        # updates that move rows between keys or out of a condition
        async with services.sessions() as session, session.begin():
            record = tables["service_record"]
            await session.execute(
                update(record).where(record.c.legacy_id.like("rolluptest-1%")).values(status="VOIDED")
            )
            await session.execute(
                update(record)
                .where(record.c.legacy_id.like("rolluptest-2%"))
                .values(category="HEALTH", service_date=date(2023, 12, 31), region_code=REGION_B)
            )
            volunteer = tables["volunteer"]
            await session.execute(
                update(volunteer)
                .where(volunteer.c.id.in_(ids[:6]))
                .values(region_code=REGION_B, sex="FEMALE", birth_date=None, real_name_status="PASSED")
            )
            await session.execute(update(volunteer).where(volunteer.c.id == ids[7]).values(no_show_count=3))
            await session.execute(
                update(tables["team"])
                .where(tables["team"].c.id == team_id)
                .values(team_type="UNREGISTERED_GROUP")
            )
            await session.execute(
                update(m.Certificate.__table__)
                .where(m.Certificate.__table__.c.number == "ROLLUPTEST-1")
                .values(status="REVOKED")  # type: ignore[attr-defined]
            )
            await session.execute(
                delete(tables["sign_up"]).where(tables["sign_up"].c.volunteer_id.in_(ids[:4]))
            )
        await _check(app, ministry)

        # a rolled-back write leaves no trace
        async with services.sessions() as session, session.begin():
            await session.execute(insert(tables["service_record"]), [_record(ids[1], team_id, 999)])
            await session.rollback()
        await rollups_match_base(app)

        # the rebuild command gives the same tables
        before = await _contents(app)
        await rollups.rebuild(app.state.engine, report=lambda _line: None)
        after = await _contents(app)
        assert after == before, {k: before[k] ^ after[k] for k in before if before[k] != after[k]}
    finally:
        await _remove(app)
    await rollups_match_base(app)


async def _contents(app: Starlette) -> dict[str, set[tuple[Any, ...]]]:
    async with app.state.engine.connect() as conn:
        return {
            r.name: _normalised((await conn.exec_driver_sql(f"SELECT * FROM {r.name}")).all(), len(r.keys))
            for r in rollups.ROLLUPS
        }


async def _remove(app: Starlette) -> None:
    """Delete this test's rows (the DELETE triggers take them out of the rollups)."""
    async with app.state.services.sessions() as session, session.begin():
        teams = select(m.Team.id).where(m.Team.name == "汇总测试队").scalar_subquery()
        for model in (m.Certificate, m.ServiceRecord, m.SignUp, m.Post, m.Project):
            await session.execute(delete(model).where(col(model, "team_id").in_(teams)))
        await session.execute(delete(m.Team).where(m.Team.name == "汇总测试队"))
        await session.execute(
            delete(m.Volunteer).where(col(m.Volunteer, "volunteer_number").like("ROLLUPTEST%"))
        )


async def test_the_legacy_import_keeps_rollups_exact(tmp_path: Path) -> None:
    """The legacy import writes in batches of its own (resolvers/legacy_import.py) into a fresh database."""
    from tests.test_legacy_import import EXPORT, migrated_database, run, write_export

    db = await migrated_database(tmp_path / "db")
    try:
        write_export(tmp_path / "export", EXPORT)
        summary = await run(db, tmp_path / "export", tmp_path / "report.jsonl")
        assert summary.entities["records"].inserted > 0
        assert await rollups_match_base(db.engine) > 0
    finally:
        await db.close()


async def test_concurrent_writers_to_one_rollup_row_lose_nothing(app: Starlette) -> None:
    """Many transactions add records with the same (region, day, category) at once: on PostgreSQL they queue on
    the rollup row's lock; every increment lands."""
    sessions = app.state.services.sessions
    async with sessions() as session, session.begin():
        team = m.Team(name="汇总测试队", team_type="LEGAL_PERSON", region_code=REGION_A)
        volunteer = m.Volunteer(**_volunteer(99, REGION_A))
        session.add_all([team, volunteer])
        await session.flush()
        assert team.id is not None and volunteer.id is not None
        team_id, volunteer_id = team.id, volunteer.id

    async def one(i: int) -> None:
        async with app.state.services.writes() as session, session.begin():  # as the app writes
            row = _record(volunteer_id, team_id, 3, status="CONFIRMED", legacy_id=f"rollup-concurrent-{i}")
            await session.execute(insert(SQLModel.metadata.tables["service_record"]), [row])

    try:
        await asyncio.gather(*(one(i) for i in range(40)))
        await rollups_match_base(app)
        async with sessions() as session:
            day = ROLLUP_TABLES["rollup_record_day"]
            # earlier tests' rows of this region were deleted: their rollup rows are left at zero
            n = (
                await session.execute(select(func.sum(day.c.n)).where(day.c.region_code == REGION_A))
            ).scalar_one()
        assert n == 40
    finally:
        await _remove(app)
