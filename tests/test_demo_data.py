"""The demo data generator: valid identifiers, consistent denormalised columns, determinism, demo accounts.

Runs on SQLite, or on fresh PostgreSQL databases under ``make test-pg``; a small region tree is inserted here
so the test does not depend on the vendored region list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, Table, func, insert, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from auth.passwords import Passwords
from models.db import SessionFactory, make_engine, make_session_factory
from models.demo_data import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TODAY, INSERT_ORDER, generate_demo
from models.identifiers import normalize_resident_id, validate_credit_code
from models.pii import PiiCipher
from tests.database import create_database, drop_database

KEY = bytes(range(32))
T = SQLModel.metadata.tables
VOLUNTEERS = 300

# (code, name, level, parent, retired_year): a small tree with the codes the generator needs
REGIONS = [
    ("110000000000", "北京市", 1, None, None),
    ("110101000000", "东城区", 3, "110000000000", None),
    ("110101001000", "东华门街道", 4, "110101000000", None),
    ("110103000000", "崇文区", 3, "110000000000", 2010),
    ("110105000000", "朝阳区", 3, "110000000000", None),
    ("330000000000", "浙江省", 1, None, None),
    ("330100000000", "杭州市", 2, "330000000000", None),
    ("330106000000", "西湖区", 3, "330100000000", None),
    ("330106001000", "北山街道", 4, "330106000000", None),
    ("330106002000", "西溪街道", 4, "330106000000", None),
    ("330102000000", "上城区", 3, "330100000000", None),
    ("370000000000", "山东省", 1, None, None),
    ("370100000000", "济南市", 2, "370000000000", None),
    ("370102000000", "历下区", 3, "370100000000", None),
    ("370102001000", "解放路街道", 4, "370102000000", None),
    ("370102002000", "千佛山街道", 4, "370102000000", None),
    ("370102003000", "趵突泉街道", 4, "370102000000", None),
    ("370103000000", "市中区", 3, "370100000000", None),
    ("370103001000", "大观园街道", 4, "370103000000", None),
    ("370200000000", "青岛市", 2, "370000000000", None),
    ("370202000000", "市南区", 3, "370200000000", None),
    ("440000000000", "广东省", 1, None, None),
    ("440100000000", "广州市", 2, "440000000000", None),
    ("440106000000", "天河区", 3, "440100000000", None),
    ("440106001000", "五山街道", 4, "440106000000", None),
    ("510000000000", "四川省", 1, None, None),
    ("510100000000", "成都市", 2, "510000000000", None),
    ("510104000000", "锦江区", 3, "510100000000", None),
    ("510104100000", "三圣街道", 4, "510104000000", None),
]


def stub_hash(password: str) -> str:
    return "stub$" + hashlib.sha256(password.encode()).hexdigest()


@dataclass
class Demo:
    engine: AsyncEngine
    sessions: SessionFactory
    pg_name: str | None
    counts: dict[str, int] = field(default_factory=dict)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.pg_name:
            await drop_database(self.pg_name)


async def _database(folder: Path, regions: list[tuple[str, str, int, str | None, int | None]]) -> Demo:
    folder.mkdir(parents=True, exist_ok=True)
    url, pg_name = await create_database(folder)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
        keys = ["code", "name", "level", "parent_code", "retired_year"]
        await conn.execute(insert(T["region"]), [dict(zip(keys, row, strict=True)) for row in regions])
    return Demo(engine, make_session_factory(engine), pg_name)


async def _generated(folder: Path) -> Demo:
    demo = await _database(folder, REGIONS)
    demo.counts = await generate_demo(
        demo.sessions, PiiCipher(KEY), stub_hash, volunteers=VOLUNTEERS, progress=False
    )
    return demo


@pytest.fixture(scope="module")
async def demos(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Demo, Demo]]:
    folder = tmp_path_factory.mktemp("demo")
    first = await _generated(folder / "a")
    try:
        second = await _generated(folder / "b")
    except BaseException:
        await first.close()
        raise
    yield first, second
    await first.close()
    await second.close()


async def _rows(demo: Demo, query: Select[Any]) -> list[tuple[Any, ...]]:
    async with demo.sessions() as session:
        return [tuple(row) for row in (await session.execute(query)).all()]


async def test_every_table_gets_rows(demos: tuple[Demo, Demo]) -> None:
    demo = demos[0]
    assert demo.counts["volunteer"] == VOLUNTEERS
    assert demo.counts["account"] == len(DEMO_ACCOUNTS)
    for table, inserted in demo.counts.items():
        assert inserted > 0, table
        (stored,) = (await _rows(demo, select(func.count()).select_from(T[table])))[0]
        assert stored == inserted, table


async def test_identity_numbers_and_phones(demos: tuple[Demo, Demo]) -> None:
    cipher, v = PiiCipher(KEY), T["volunteer"]
    columns = (v.c.id_number_enc, v.c.id_number_hash, v.c.birth_date, v.c.sex, v.c.region_code)
    rows = await _rows(demos[0], select(*columns, v.c.phone_enc, v.c.phone_hash, v.c.volunteer_number))
    minors = 0
    for enc, hashed, birth, sex, region, phone_enc, phone_hash, number in rows:
        resident = normalize_resident_id(cipher.decrypt(enc, "volunteer.id_number"))
        assert cipher.blind_index(resident.number) == hashed
        assert (resident.birth_date, resident.sex.value, resident.area_code) == (birth, sex, str(region)[:6])
        assert 8 <= (DEMO_TODAY - resident.birth_date).days / 365.25 <= 81
        minors += (DEMO_TODAY - resident.birth_date).days < 18 * 365.25
        phone = cipher.decrypt(phone_enc, "volunteer.phone")
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
        assert cipher.blind_index(phone) == phone_hash
        assert re.fullmatch(r"\d{14}", str(number)) and str(number)[:6] == str(region)[:6]
    assert minors > 0
    guardians = await _rows(demos[0], select(func.count()).where(v.c.guardian_name.is_not(None)))
    assert guardians[0][0] == minors


async def test_volunteer_numbers_count_per_county(demos: tuple[Demo, Demo]) -> None:
    numbers = [str(n) for (n,) in await _rows(demos[0], select(T["volunteer"].c.volunteer_number))]
    by_county: dict[str, list[int]] = {}
    for number in numbers:
        by_county.setdefault(number[:6], []).append(int(number[6:]))
    assert "370102" in by_county and "330106" in by_county
    for sequence in by_county.values():
        assert sorted(sequence) == list(range(1, len(sequence) + 1))


async def test_credit_codes(demos: tuple[Demo, Demo]) -> None:
    team = T["team"]
    rows = await _rows(demos[0], select(team.c.credit_code, team.c.region_code, team.c.team_type))
    legal = [(code, region) for code, region, kind in rows if kind == "LEGAL_PERSON"]
    assert legal and len(legal) < len(rows)
    for code, region in legal:
        assert validate_credit_code(str(code)) == code
        assert str(code)[:2] in {"51", "52", "53"} and str(code)[2:8] == str(region)[:6]
    contact = team.alias("contact")
    groups = await _rows(
        demos[0],
        select(team.c.region_code, contact.c.region_code, contact.c.team_type)
        .join(contact, team.c.contact_team_id == contact.c.id)
        .where(team.c.team_type == "UNREGISTERED_GROUP"),
    )
    unregistered = sum(kind == "UNREGISTERED_GROUP" for _, _, kind in rows)
    assert len(groups) == unregistered
    assert all(own[:6] == theirs[:6] and kind == "LEGAL_PERSON" for own, theirs, kind in groups)


def _mismatches(child: Table, parent: Table, key: str, columns: list[str]) -> Select[Any]:
    differs = [child.c[name] != parent.c[name] for name in columns]
    return (
        select(func.count()).select_from(child.join(parent, child.c[key] == parent.c.id)).where(or_(*differs))
    )


@pytest.mark.parametrize(
    ("child", "parent", "key", "columns"),
    [
        ("project", "team", "team_id", ["region_code"]),
        ("team_membership", "team", "team_id", ["region_code"]),
        ("post", "project", "project_id", ["team_id", "region_code"]),
        ("sign_in_point", "project", "project_id", ["team_id", "region_code"]),
        ("sign_up", "post", "post_id", ["project_id", "team_id", "region_code"]),
        ("attendance", "sign_up", "sign_up_id", ["project_id", "team_id", "region_code", "volunteer_id"]),
        ("service_record", "project", "project_id", ["team_id", "region_code", "category"]),
        ("service_record", "attendance", "attendance_id", ["volunteer_id", "project_id", "team_id"]),
        ("certificate", "team", "team_id", ["region_code"]),
    ],
)
async def test_denormalised_columns_match_parents(
    demos: tuple[Demo, Demo], child: str, parent: str, key: str, columns: list[str]
) -> None:
    assert (await _rows(demos[0], _mismatches(T[child], T[parent], key, columns)))[0][0] == 0
    joined = select(func.count()).select_from(T[child].join(T[parent], T[child].c[key] == T[parent].c.id))
    assert (await _rows(demos[0], joined))[0][0] > 0


async def test_records_do_not_overlap_and_quotas_hold(demos: tuple[Demo, Demo]) -> None:
    r = T["service_record"]
    rows = await _rows(
        demos[0],
        select(r.c.volunteer_id, r.c.started_at, r.c.ended_at, r.c.hours, r.c.status)
        .where(r.c.status != "VOIDED")
        .order_by(r.c.volunteer_id, r.c.started_at),
    )
    for previous, current in pairwise(rows):
        if previous[0] == current[0]:
            assert previous[2] <= current[1]
    statuses = {status for *_, status in rows}
    assert {"CONFIRMED", "PENDING"} <= statuses
    voided = await _rows(demos[0], select(r.c.id).where(r.c.status == "VOIDED"))
    replacements = await _rows(demos[0], select(r.c.replaces_id).where(r.c.replaces_id.is_not(None)))
    assert voided == replacements and len(voided) == 1
    s, p = T["sign_up"], T["post"]
    accepted = (
        select(s.c.post_id, func.count().label("n"))
        .where(s.c.status == "ACCEPTED")
        .group_by(s.c.post_id)
        .subquery()
    )
    over = (
        select(func.count())
        .select_from(accepted.join(p, accepted.c.post_id == p.c.id))
        .where(accepted.c.n > p.c.quota)
    )
    assert (await _rows(demos[0], over))[0][0] == 0


async def test_generation_is_deterministic(demos: tuple[Demo, Demo]) -> None:
    v, r = T["volunteer"], T["service_record"]
    people = select(v.c.id, v.c.volunteer_number, v.c.name, v.c.id_number_hash, v.c.created_at).order_by(
        v.c.id
    )
    records = select(r.c.id, r.c.volunteer_id, r.c.service_date, r.c.started_at, r.c.hours).order_by(r.c.id)
    for query in (people, records):
        assert await _rows(demos[0], query) == await _rows(demos[1], query)
    assert demos[0].counts == demos[1].counts


async def test_demo_accounts_and_grants(demos: tuple[Demo, Demo]) -> None:
    a, g, v, r = T["account"], T["role_grant"], T["volunteer"], T["service_record"]
    accounts = {
        str(name): (account_id, password_hash, legacy)
        for account_id, name, password_hash, legacy in await _rows(
            demos[0], select(a.c.id, a.c.username, a.c.password_hash, a.c.is_legacy)
        )
    }
    assert set(accounts) == {demo.username for demo in DEMO_ACCOUNTS}
    assert accounts["demo_lixia"][1] == stub_hash(DEMO_PASSWORD)
    _, legacy_hash, is_legacy = accounts["mz_legacy01"]
    scheme, algo, salt, digest = str(legacy_hash).split("$")
    assert (scheme, algo, is_legacy) == ("legacy", "md5", True)
    assert hashlib.md5((salt + DEMO_PASSWORD).encode()).hexdigest() == digest
    assert Passwords(time_cost=1, memory_cost=1024).verify(str(legacy_hash), DEMO_PASSWORD).ok

    grants = await _rows(
        demos[0],
        select(a.c.username, g.c.role, g.c.region_code, g.c.team_id, g.c.can_reveal).join(
            a, g.c.account_id == a.c.id
        ),
    )
    by_user = {str(row[0]): row[1:] for row in grants}
    assert by_user["demo_ministry"] == ("MINISTRY_ADMIN", None, None, False)
    assert by_user["demo_shandong"] == ("REGION_ADMIN", "370000000000", None, True)
    assert by_user["demo_jinan"][:2] == ("REGION_ADMIN", "370100000000")
    assert by_user["demo_lixia"][:2] == ("REGION_ADMIN", "370102000000")
    assert by_user["demo_xihu"][:2] == ("REGION_ADMIN", "330106000000")
    role, region, team_id, _ = by_user["demo_team"]
    assert role == "TEAM_ADMIN" and str(region).startswith("370102") and team_id is not None
    team_region = await _rows(demos[0], select(T["team"].c.region_code).where(T["team"].c.id == team_id))
    assert team_region == [(region,)]

    linked = await _rows(
        demos[0], select(v.c.id, v.c.region_code).where(v.c.account_id == accounts["demo_volunteer"][0])
    )
    assert len(linked) == 1 and str(linked[0][1]).startswith("370102")
    mine = await _rows(demos[0], select(r.c.status).where(r.c.volunteer_id == linked[0][0]))
    assert sum(status == "CONFIRMED" for (status,) in mine) >= 2
    certificates = await _rows(
        demos[0],
        select(T["certificate"].c.number, T["certificate"].c.status).where(
            T["certificate"].c.volunteer_id == linked[0][0]
        ),
    )
    assert certificates and certificates[0][1] == "ISSUED" and str(certificates[0][0]).startswith("ZY2026-")
    legacy_volunteer = await _rows(
        demos[0], select(v.c.region_code).where(v.c.account_id == accounts["mz_legacy01"][0])
    )
    assert len(legacy_volunteer) == 1 and str(legacy_volunteer[0][0]).startswith("330106")


async def test_refuses_a_database_with_volunteers(demos: tuple[Demo, Demo]) -> None:
    with pytest.raises(RuntimeError, match="volunteers already exist"):
        await generate_demo(demos[0].sessions, PiiCipher(KEY), stub_hash, volunteers=20, progress=False)


async def test_needs_the_required_regions(tmp_path: Path) -> None:
    demo = await _database(tmp_path, [row for row in REGIONS if not row[0].startswith("330106")])
    try:
        with pytest.raises(RuntimeError, match="330106000000"):
            await generate_demo(demo.sessions, PiiCipher(KEY), stub_hash, volunteers=20, progress=False)
    finally:
        await demo.close()


async def test_later_inserts_get_fresh_ids(demos: tuple[Demo, Demo]) -> None:
    """On PostgreSQL the id sequences were moved past the generated ids."""
    account = T["account"]
    async with demos[0].sessions() as session:
        result = await session.execute(
            insert(account).values(username="later_user", password_hash="x").returning(account.c.id)
        )
        assert result.scalar_one() > demos[0].counts["account"]
        await session.rollback()


def test_demo_password_meets_the_policy() -> None:
    assert re.fullmatch(r"(?=.*\d)(?=.*[a-z])(?=.*[A-Z]).{8,20}", DEMO_PASSWORD)
    for demo in DEMO_ACCOUNTS:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{5,19}", demo.username)
    assert date(2025, 1, 1) < DEMO_TODAY


async def test_records_per_volunteer_reaches_the_tier(tmp_path: Path) -> None:
    """``records_per_volunteer`` (the benchmark tiers): ~10 records per volunteer, earlier service on days of
    their own with a team they joined (or one of their county), consistent and non-overlapping; the bulk load
    leaves the database as it found it (indexes, journal mode)."""
    demo = await _database(tmp_path, REGIONS)
    try:
        indexes = await _index_names(demo)
        demo.counts = await generate_demo(
            demo.sessions, PiiCipher(KEY), stub_hash, volunteers=VOLUNTEERS, progress=False,
            records_per_volunteer=10,
        )  # fmt: skip
        assert await _index_names(demo) == indexes
        if demo.engine.dialect.name == "sqlite":
            async with demo.engine.connect() as conn:
                mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            assert str(mode).lower() == "wal"
        r, m, v = T["service_record"], T["team_membership"], T["volunteer"]
        (stored,) = (await _rows(demo, select(func.count()).select_from(r)))[0]
        assert stored == demo.counts["service_record"]
        assert 0.9 * 10 * VOLUNTEERS <= stored <= 1.1 * 10 * VOLUNTEERS
        history = r.c.project_id.is_(None)
        earlier = await _rows(
            demo,
            select(r.c.volunteer_id, r.c.team_id, r.c.region_code, r.c.service_date, r.c.provenance, r.c.hours,
                   r.c.started_at, r.c.ended_at, v.c.created_at, v.c.region_code)
            .join(v, v.c.id == r.c.volunteer_id).where(history),
        )  # fmt: skip
        assert len(earlier) > 5 * VOLUNTEERS
        joined = set(await _rows(demo, select(m.c.volunteer_id, m.c.team_id).where(m.c.status == "JOINED")))
        teams = dict(await _rows(demo, select(T["team"].c.id, T["team"].c.region_code)))
        for vid, team, region, day, provenance, hours, started, ended, created, home in earlier:
            assert teams[team] == region
            assert (vid, team) in joined or str(region)[:6] == str(home)[:6]
            assert created.date() < day < DEMO_TODAY
            assert provenance == ("MANUAL" if day >= date(2025, 1, 1) else "BULK_IMPORT")
            assert abs((ended - started).total_seconds() / 3600 - float(hours)) <= 0.005
        days = await _rows(demo, select(r.c.volunteer_id, r.c.service_date).where(r.c.status != "VOIDED"))
        assert len(days) == len(set(days))  # one record per volunteer and day: never overlapping
        per_volunteer = await _rows(
            demo, select(func.count()).select_from(r).group_by(r.c.volunteer_id).order_by(func.count())
        )
        counts = [n for (n,) in per_volunteer]
        assert counts[-1] > 3 * counts[len(counts) // 2]  # heavy-tailed, not ten each
    finally:
        await demo.close()


async def _index_names(demo: Demo) -> set[str]:
    def names(conn: Any) -> set[str]:
        found: set[str] = set()
        inspector = inspect(conn)
        for table in INSERT_ORDER:
            found |= {str(index["name"]) for index in inspector.get_indexes(table)}
        return found

    async with demo.engine.connect() as conn:
        return await conn.run_sync(names)
