"""The legacy import (docs/legacy-import.md): every kind of bad row is rejected into a masked report, good rows
arrive with accounts that sign in with the old password, re-runs change nothing, and a failed batch is rolled
back alone. Runs on a migrated SQLite database, or a fresh PostgreSQL one under ``make test-pg``."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from auth.passwords import Passwords, legacy_hash
from models.db import SessionFactory, make_engine, make_session_factory
from models.enums import Sex
from models.identifiers import make_credit_code, make_resident_id, resident_id_check_char
from models.migrate import upgrade
from models.pii import PiiCipher
from models.region_seed import load_regions
from resolvers import legacy_import
from resolvers.legacy_import import EntityCounts, ImportSummary, import_legacy
from resolvers.volunteer_numbers import next_volunteer_number
from tests.database import create_database, drop_database

KEY = bytes(range(32))
T = SQLModel.metadata.tables
PASSWORDS = Passwords(time_cost=1, memory_cost=1024)
OK, SKIP = "inserted", "skipped"
CHECKED_TABLES = (
    "account",
    "volunteer",
    "team",
    "role_grant",
    "team_membership",
    "service_record",
    "volunteer_number_sequence",
)

ID_ZHANG = make_resident_id("370102", date(1990, 5, 17), 124, Sex.FEMALE)
ID_LI_15 = "110105491231002"  # old 15-digit number → 11010519491231002X
ID_WANG_RETIRED = make_resident_id("110103", date(1985, 2, 3), 7, Sex.FEMALE)  # 崇文区, retired 2010
ID_LAO = make_resident_id("370102", date(1972, 11, 30), 33, Sex.MALE)
ID_ZHAO = make_resident_id("330106", date(2001, 8, 8), 45, Sex.MALE)
ID_NATIVE = make_resident_id("370102", date(1988, 1, 1), 1, Sex.MALE)
BAD_CHECK = ID_LAO[:17] + ("0" if ID_LAO[17] != "0" else "1")
FEB_30 = "37010219990230123" + resident_id_check_char("37010219990230123")  # valid check char, no such day
ID_NEVER = make_resident_id("990101", date(1990, 1, 1), 5, Sex.MALE)
ID_OTHER = make_resident_id("370102", date(1995, 3, 3), 99, Sex.FEMALE)
PHONE = "13812345678"
CODE_T01 = make_credit_code("5", "1", "370102", "MJ0000001")
CODE_T03 = make_credit_code("5", "2", "110105", "MJ0000002")
HASH_ZHANG = legacy_hash("md5", "a1b2", "Zhang@2015")
HASH_LI = legacy_hash("sha1", "pepper", "Lina@2014", suffix=True)
HASH_WANG = legacy_hash("sha256", "", "Wang@2013")
HASH_LAO = PASSWORDS.hash("Argon@2020")


def volunteer(legacy_id: Any, id_number: str, **extra: Any) -> dict[str, Any]:
    row = {
        "legacy_id": legacy_id,
        "name": "测试",
        "id_number": id_number,
        "region_code": "370102001000",
        "registered_at": "2016-03-05 09:30:00",
    }
    return {**row, **extra}


ZHANG = volunteer(
    "V001",
    ID_ZHANG,
    name="张伟",
    username="mz_zhangwei",
    password_hash=HASH_ZHANG,
    phone=PHONE,
    skills=["急救", "心理疏导"],
    real_name_status="PASSED",
)
VOLUNTEERS: list[tuple[Any, str]] = [
    (ZHANG, OK),
    (volunteer("V015", ID_ZHANG, name="张伟"), "DUPLICATE_IDENTITY"),  # same batch as V001
    (
        volunteer(
            88231,
            ID_LI_15,
            name="李娜",
            username="wm_lina01",
            password_hash=HASH_LI,
            region_code="110105000000",
            registered_at="2014-07-01T08:00:00+08:00",
        ),
        OK,
    ),
    ("", None),  # a blank line: not a row
    (
        volunteer(
            "V003",
            ID_WANG_RETIRED.lower(),
            name="王𠮷",
            username="MZ_WangJi",
            password_hash=HASH_WANG,
            region_code="110103000000",
            real_name_status="passed",
        ),
        OK,
    ),
    (
        volunteer(
            "V004",
            "e12345678",
            name="阿依古丽·买买提",
            id_type="PASSPORT",
            birth_date="1995-06-01",
            sex="FEMALE",
            region_code="330106002000",
            registered_at="2019-10-12",
        ),
        OK,
    ),
    (volunteer("V005", ID_LAO, name="老用户", username="laoyonghu", password_hash=HASH_LAO), OK),
    (volunteer("V006", ID_ZHAO, name="Zhao Lei", region_code="330106000000"), OK),
    ("{not json", "BAD_JSON"),
    ("[1, 2]", "NOT_AN_OBJECT"),
    ({k: v for k, v in volunteer("x", ID_OTHER).items() if k != "legacy_id"}, "MISSING_FIELD"),
    (volunteer("V010", BAD_CHECK), "ID_NUMBER_CHECKSUM"),
    (volunteer("V011", FEB_30), "ID_NUMBER_BIRTH_DATE"),
    (volunteer("V011b", "37010219900101"), "ID_NUMBER_FORMAT"),
    (volunteer("V012", ID_OTHER, region_code="370102999999"), "REGION_UNKNOWN"),
    (volunteer("V013", ID_OTHER, username="1abcdef", password_hash=HASH_ZHANG), "USERNAME_FORMAT"),
    (volunteer("V014", ID_OTHER, username="MZ_ZHANGWEI", password_hash=HASH_ZHANG), "DUPLICATE_USERNAME"),
    (ZHANG, SKIP),  # the same row again: already imported
    ({**ZHANG, "id_number": ID_OTHER}, "LEGACY_ID_CONFLICT"),
    (
        volunteer("V018", ID_OTHER, username="mz_broken", password_hash="legacy$md5$salt$zz"),
        "PASSWORD_HASH_FORMAT",
    ),
    (volunteer("V019", ID_OTHER, username="mz_plain", password_hash="123456"), "PASSWORD_HASH_FORMAT"),
    (
        volunteer("V019b", ID_OTHER, username="mz_argon", password_hash="$argon2id$v=19$garbage"),
        "PASSWORD_HASH_FORMAT",
    ),
    (volunteer("V020", ID_OTHER, phone="12345678901"), "PHONE_FORMAT"),
    (volunteer("V021", ID_OTHER, id_type="DRIVER_LICENCE"), "ENUM_VALUE"),
    (volunteer("V022", ID_OTHER, registered_at="2999-01-01"), "DATE_IN_FUTURE"),
    (volunteer("V022b", ID_OTHER, registered_at="yesterday"), "DATE_FORMAT"),
    (volunteer("V023", ID_OTHER, name="张三123"), "NAME_FORMAT"),
    (volunteer("V024", ID_OTHER, skills="急救"), "SKILLS_FORMAT"),
    (volunteer("V025", ID_OTHER, username="mz_nohash"), "ACCOUNT_INCOMPLETE"),
    (volunteer("V026", ID_NATIVE), "DUPLICATE_IDENTITY"),  # registered natively before the import
    (volunteer("V027", ID_OTHER, username="Native_User1", password_hash=HASH_ZHANG), "DUPLICATE_USERNAME"),
    (volunteer("V028", ID_NEVER), "ID_AREA_UNKNOWN"),
    (volunteer("V029", ID_OTHER, real_name_status="OK"), "ENUM_VALUE"),
    (volunteer(True, ID_OTHER), "FIELD_TYPE"),
]


def team(legacy_id: str, team_type: str, **extra: Any) -> dict[str, Any]:
    row = {
        "legacy_id": legacy_id,
        "name": f"志愿服务队{legacy_id}",
        "team_type": team_type,
        "region_code": "370102000000",
        "created_at": "2015-06-01",
    }
    return {**row, **extra}


LEGAL, GROUP = "LEGAL_PERSON", "UNREGISTERED_GROUP"
T01 = team(
    "T01",
    LEGAL,
    name="历下区春风志愿者协会",
    credit_code=CODE_T01,
    admin_usernames=["MZ_ZHANGWEI"],
    person_in_charge="张伟",
    contact_phone="0531-86001234",
)
TEAMS: list[tuple[Any, str]] = [
    (
        team(
            "T02",
            GROUP,
            name="解放路阳光志愿服务队",
            contact_team_legacy_id="T01",
            region_code="370102001000",
        ),
        OK,
    ),
    (T01, OK),
    (
        team(
            "T03",
            LEGAL,
            name="朝阳区同心志愿服务中心",
            credit_code=CODE_T03.lower(),
            region_code="110105000000",
            admin_usernames=["laoyonghu", "wm_lina01"],
            status="suspended",
        ),
        OK,
    ),
    (team("T04", GROUP, contact_team_legacy_id="T02"), "CONTACT_TEAM_INVALID"),
    (
        team("T05", LEGAL, credit_code=CODE_T01[:17] + ("0" if CODE_T01[17] != "0" else "1")),
        "CREDIT_CODE_CHECKSUM",
    ),
    (team("T06", LEGAL, credit_code=CODE_T01), "DUPLICATE_CREDIT_CODE"),
    (team("T07", GROUP, credit_code=CODE_T03, contact_team_legacy_id="T01"), "CREDIT_CODE_NOT_ALLOWED"),
    (team("T08", GROUP), "CONTACT_TEAM_REQUIRED"),
    (team("T09", GROUP, contact_team_legacy_id="T99"), "CONTACT_TEAM_NOT_FOUND"),
    (
        team(
            "T10",
            LEGAL,
            credit_code=make_credit_code("5", "1", "370102", "MJ0000010"),
            admin_usernames=["nobody_here"],
        ),
        "ADMIN_NOT_FOUND",
    ),
    (
        team("T11", LEGAL, credit_code=make_credit_code("5", "1", "370102", "MJ0000011"), status="CLOSED"),
        "ENUM_VALUE",
    ),
    (team("T12", LEGAL), "CREDIT_CODE_REQUIRED"),
    (
        team("T13", LEGAL, credit_code=make_credit_code("5", "1", "370102", "MJ0000013"), region_code="3701"),
        "REGION_FORMAT",
    ),
    (T01, SKIP),
]

MEMBERSHIPS: list[tuple[Any, str]] = [
    (
        {
            "team_legacy_id": "T01",
            "volunteer_legacy_id": "V001",
            "status": "JOINED",
            "role": "ADMIN",
            "joined_at": "2016-04-01 10:00:00",
        },
        OK,
    ),
    ({"team_legacy_id": "T01", "volunteer_legacy_id": "V003", "status": "joined"}, OK),
    ({"team_legacy_id": "T02", "volunteer_legacy_id": "V004", "status": "APPLYING"}, OK),
    (
        {
            "team_legacy_id": "T03",
            "volunteer_legacy_id": 88231,
            "status": "LEFT",
            "joined_at": "2018-01-01",
            "left_at": "2020-01-01",
        },
        OK,
    ),
    ({"team_legacy_id": "T01", "volunteer_legacy_id": "V001", "status": "JOINED"}, SKIP),
    ({"team_legacy_id": "T99", "volunteer_legacy_id": "V001", "status": "JOINED"}, "TEAM_NOT_FOUND"),
    ({"team_legacy_id": "T01", "volunteer_legacy_id": "V015", "status": "JOINED"}, "VOLUNTEER_NOT_FOUND"),
    ({"team_legacy_id": "T01", "volunteer_legacy_id": "V005", "status": "MEMBER"}, "ENUM_VALUE"),
    (
        {
            "team_legacy_id": "T01",
            "volunteer_legacy_id": "V005",
            "status": "LEFT",
            "joined_at": "2020-01-01",
            "left_at": "2019-01-01",
        },
        "DATE_ORDER",
    ),
]


def record(legacy_id: str, hours: Any, **extra: Any) -> dict[str, Any]:
    row = {
        "legacy_id": legacy_id,
        "volunteer_legacy_id": "V001",
        "team_legacy_id": "T01",
        "service_date": "2019-05-01",
        "hours": hours,
        "content": "社区文明劝导",
        "category": "COMMUNITY",
        "status": "CONFIRMED",
    }
    return {**row, **extra}


RECORDS: list[tuple[Any, str]] = [
    (record("R001", 3.5, confirmed_at="2019-05-02 10:00:00"), OK),
    (record("R002", "2.25", team_legacy_id="T02", category="education", status="PENDING"), OK),
    (record("R003", 24, volunteer_legacy_id=88231, team_legacy_id="T03", status="VOIDED"), OK),
    (record("R004", 0.5, volunteer_legacy_id="V004", team_legacy_id="T02", content=""), OK),
    (record("R005", 0), "HOURS_RANGE"),
    (record("R006", 24.01), "HOURS_RANGE"),
    (record("R007", 2.555), "HOURS_PRECISION"),
    (record("R008", True), "HOURS_FORMAT"),
    (record("R008b", "两小时"), "HOURS_FORMAT"),
    (record("R009", 1, service_date="2999-01-01"), "DATE_IN_FUTURE"),
    (record("R010", 1, service_date="2019-02-30"), "DATE_FORMAT"),
    (record("R011", 1, team_legacy_id="T99"), "TEAM_NOT_FOUND"),
    (record("R012", 1, volunteer_legacy_id="V999"), "VOLUNTEER_NOT_FOUND"),
    (record("R013", 1, category="PARTY"), "ENUM_VALUE"),
    (record("R014", 1, content="长" * 501), "FIELD_TOO_LONG"),
    (record("R001", 3.5), SKIP),
]

EXPORT = {
    "volunteers.jsonl": VOLUNTEERS,
    "teams.jsonl": TEAMS,
    "memberships.jsonl": MEMBERSHIPS,
    "records.jsonl": RECORDS,
}


def write_export(folder: Path, files: dict[str, list[tuple[Any, str]]]) -> dict[tuple[str, int], str]:
    """Write the files; returns the expected outcome of every row by (file, line)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[tuple[str, int], str] = {}
    for name, rows in files.items():
        lines = []
        for number, (value, outcome) in enumerate(rows, start=1):
            lines.append(value if isinstance(value, str) else orjson.dumps(value).decode())
            if outcome is not None:
                expected[(name, number)] = outcome
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


@dataclass
class Db:
    engine: AsyncEngine
    sessions: SessionFactory
    pg_name: str | None

    async def close(self) -> None:
        await self.engine.dispose()
        if self.pg_name:
            await drop_database(self.pg_name)

    async def count(self, table: str) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(T[table]))).scalar_one())

    async def rows(self, query: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(query)).all())

    async def checksum(self) -> dict[str, tuple[int, str]]:
        """Row count and a hash of every column of every row, per table."""
        out = {}
        for name in CHECKED_TABLES:
            key = ", ".join(column.name for column in T[name].primary_key.columns)
            rows = await self.rows(text(f"SELECT * FROM {name} ORDER BY {key}"))  # every column the table has
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            out[name] = (len(rows), digest)
        return out


async def migrated_database(folder: Path) -> Db:
    folder.mkdir(parents=True, exist_ok=True)
    url, pg_name = await create_database(folder)
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    db = Db(engine, make_session_factory(engine), pg_name)
    await load_regions(db.sessions)
    return db


async def add_native_volunteer(db: Db) -> None:
    """A volunteer who registered in the new system before the import (ID_NATIVE, 'native_user1')."""
    cipher = PiiCipher(KEY)
    async with db.sessions() as session, session.begin():
        account_id = (
            await session.execute(
                insert(T["account"]).returning(T["account"].c.id),
                [{"username": "native_user1", "username_key": "native_user1", "password_hash": "x"}],
            )
        ).scalar_one()
        await session.execute(
            insert(T["volunteer"]),
            [
                {
                    "account_id": account_id,
                    "volunteer_number": "37010200000005",
                    "name": "原有",
                    "id_number_enc": cipher.encrypt(ID_NATIVE, "volunteer.id_number"),
                    "id_number_hash": cipher.blind_index(ID_NATIVE),
                    "region_code": "370102000000",
                }
            ],
        )


async def run(db: Db, folder: Path, report: Path, batch_size: int = 3) -> ImportSummary:
    return await import_legacy(
        db.sessions, PiiCipher(KEY), folder, report, batch_size=batch_size, progress=False
    )


def read_report(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@dataclass
class Imported:
    db: Db
    folder: Path
    expected: dict[tuple[str, int], str]
    first: ImportSummary
    first_report: list[dict[str, Any]]
    checksum: dict[str, tuple[int, str]]


@pytest.fixture(scope="module")
async def imported(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Imported]:
    tmp = tmp_path_factory.mktemp("legacy")
    db = await migrated_database(tmp / "db")
    try:
        await add_native_volunteer(db)
        expected = write_export(tmp / "export", EXPORT)
        summary = await run(db, tmp / "export", tmp / "report-1.jsonl")
        yield Imported(
            db, tmp / "export", expected, summary, read_report(tmp / "report-1.jsonl"), await db.checksum()
        )
    finally:
        await db.close()


def counts(entity: EntityCounts) -> dict[str, int]:
    return {key: value for key, value in vars(entity).items() if key != "seconds"}


def outcomes(expected: dict[tuple[str, int], str], file: str) -> dict[str, int]:
    values = [outcome for (name, _), outcome in expected.items() if name == file]
    return {
        "rows": len(values),
        "inserted": values.count(OK),
        "skipped": values.count(SKIP),
        "rejected": len(values) - values.count(OK) - values.count(SKIP),
        "failed": 0,
    }


async def test_counts_per_file(imported: Imported) -> None:
    summary = imported.first
    assert summary.ok and not summary.failures
    for entity, file in legacy_import.FILES.items():
        assert counts(summary.entities[entity]) == outcomes(imported.expected, file), entity
    assert summary.rows == len(imported.expected) and summary.seconds > 0
    db = imported.db
    assert await db.count("volunteer") == 1 + outcomes(imported.expected, "volunteers.jsonl")["inserted"]
    assert await db.count("account") == 1 + 4  # the native one, and four volunteers with a username
    assert await db.count("team") == 3
    assert await db.count("team_membership") == 4
    assert await db.count("service_record") == 4


async def test_report_lists_every_rejected_row_with_its_code(imported: Imported) -> None:
    got = {(entry["file"], entry["line"]): entry["code"] for entry in imported.first_report}
    want = {key: code for key, code in imported.expected.items() if code not in (OK, SKIP)}
    assert got == want
    by_line = {(entry["file"], entry["line"]): entry for entry in imported.first_report}
    assert by_line[("volunteers.jsonl", 2)]["legacy_id"] == "V015"
    assert by_line[("volunteers.jsonl", 9)]["legacy_id"] is None  # bad JSON
    assert by_line[("memberships.jsonl", 6)]["legacy_id"] == "T99/V001"
    assert all(entry["message"] for entry in imported.first_report)


async def test_report_masks_id_numbers_and_phones(imported: Imported) -> None:
    text = "\n".join(orjson.dumps(entry).decode() for entry in imported.first_report)
    secrets = {ID_ZHANG, ID_NATIVE, ID_OTHER, BAD_CHECK, FEB_30, ID_NEVER, "12345678901", PHONE, ID_LAO}
    secrets |= {"11010519491231002X", ID_LI_15}
    for secret in secrets:
        assert secret not in text, secret
    duplicate = next(e for e in imported.first_report if e["legacy_id"] == "V015")
    assert f"{ID_ZHANG[:4]}**********{ID_ZHANG[-4:]}" in duplicate["message"]
    phone = next(e for e in imported.first_report if e["legacy_id"] == "V020")
    assert "123****8901" in phone["message"]


async def test_volunteers_accounts_and_numbers(imported: Imported) -> None:
    db, cipher = imported.db, PiiCipher(KEY)
    v, a = T["volunteer"], T["account"]
    rows = {
        row.legacy_id: row
        for row in await db.rows(
            select(v, a.c.username, a.c.username_key, a.c.is_legacy, a.c.password_hash)
            .select_from(v.outerjoin(a, v.c.account_id == a.c.id))
            .where(v.c.legacy_id.is_not(None))
        )
    }
    assert set(rows) == {"V001", "88231", "V003", "V004", "V005", "V006"}
    zhang = rows["V001"]
    assert cipher.decrypt(zhang.id_number_enc, "volunteer.id_number") == ID_ZHANG
    assert cipher.decrypt(
        zhang.phone_enc, "volunteer.phone"
    ) == PHONE and zhang.phone_hash == cipher.blind_index(PHONE)
    assert (zhang.birth_date, zhang.sex, zhang.real_name_status) == (date(1990, 5, 17), "FEMALE", "PASSED")
    assert zhang.skills == ["急救", "心理疏导"] and zhang.name == "张伟"
    assert (zhang.username, zhang.is_legacy, zhang.password_hash) == ("mz_zhangwei", True, HASH_ZHANG)
    li = rows["88231"]
    assert cipher.decrypt(li.id_number_enc, "volunteer.id_number") == "11010519491231002X"
    assert li.birth_date == date(1949, 12, 31) and li.real_name_status == "PENDING"
    assert li.verification_next_at is not None  # the verification worker picks it up
    wang = rows["V003"]
    assert wang.name == "王𠮷" and wang.region_code == "110103000000"
    assert (wang.username, wang.username_key) == ("MZ_WangJi", "mz_wangji")
    passport = rows["V004"]
    assert passport.account_id is None and passport.id_type == "PASSPORT"
    assert passport.real_name_status == "UNDER_REVIEW" and passport.birth_date == date(1995, 6, 1)
    assert cipher.decrypt(passport.id_number_enc, "volunteer.id_number") == "E12345678"
    registered = rows["88231"].created_at
    assert registered.replace(tzinfo=registered.tzinfo or UTC) == datetime(2014, 7, 1, 0, 0, tzinfo=UTC)
    # numbers continue after the natively registered 37010200000005, per county
    assert zhang.volunteer_number == "37010200000006" and rows["V005"].volunteer_number == "37010200000007"
    assert li.volunteer_number == "11010500000001" and wang.volunteer_number == "11010300000001"
    assert (passport.volunteer_number, rows["V006"].volunteer_number) == ("33010600000001", "33010600000002")
    async with db.sessions() as session:  # a registration after the import takes the next number
        assert await next_volunteer_number(session, "370102001000") == "37010200000008"
        await session.rollback()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("mz_zhangwei", "Zhang@2015"),
        ("wm_lina01", "Lina@2014"),
        ("mz_wangji", "Wang@2013"),
        ("laoyonghu", "Argon@2020"),
    ],
)
async def test_migrated_users_sign_in_with_the_old_password(
    imported: Imported, username: str, password: str
) -> None:
    a, v = T["account"], T["volunteer"]
    (row,) = await imported.db.rows(
        select(a.c.password_hash, v.c.id)
        .join(v, v.c.account_id == a.c.id)
        .where(a.c.username_key == username)
    )
    assert PASSWORDS.verify(row.password_hash, password).ok
    assert not PASSWORDS.verify(row.password_hash, password + "x").ok


async def test_teams_grants_memberships_and_records(imported: Imported) -> None:
    db, t, g, a = imported.db, T["team"], T["role_grant"], T["account"]
    teams = {row.legacy_id: row for row in await db.rows(select(t))}
    assert teams["T02"].contact_team_id == teams["T01"].id and teams["T02"].team_type == "UNREGISTERED_GROUP"
    assert teams["T01"].credit_code == CODE_T01 and teams["T03"].credit_code == CODE_T03
    assert teams["T03"].status == "SUSPENDED" and teams["T01"].legal_verification == "PENDING"
    assert (
        teams["T02"].legal_verification == "NOT_REQUIRED" and teams["T01"].verification_status == "APPROVED"
    )
    assert PiiCipher(KEY).decrypt(teams["T01"].contact_phone_enc, "team.contact_phone") == "0531-86001234"
    grants = await db.rows(
        select(a.c.username_key, g.c.role, g.c.team_id, g.c.region_code).select_from(
            g.join(a, g.c.account_id == a.c.id)
        )
    )
    assert sorted(grants) == sorted(
        [
            ("mz_zhangwei", "TEAM_ADMIN", teams["T01"].id, "370102000000"),
            ("laoyonghu", "TEAM_ADMIN", teams["T03"].id, "110105000000"),
            ("wm_lina01", "TEAM_ADMIN", teams["T03"].id, "110105000000"),
        ]
    )
    m = T["team_membership"]
    joined = m.join(t, m.c.team_id == t.c.id)
    for row in await db.rows(
        select(m.c.region_code, t.c.region_code.label("team_region")).select_from(joined)
    ):
        assert row.region_code == row.team_region
    r = T["service_record"]
    columns = [
        r.c[name] for name in ("legacy_id", "provenance", "region_code", "hours", "category", "status")
    ]
    columns += [r.c.confirmed_at, r.c.void_reason, t.c.region_code.label("team_region")]
    query = select(*columns).select_from(r.join(t, r.c.team_id == t.c.id))
    records = {row.legacy_id: row for row in await db.rows(query)}
    assert set(records) == {"R001", "R002", "R003", "R004"}
    assert all(
        row.provenance == "LEGACY_MIGRATION" and row.region_code == row.team_region
        for row in records.values()
    )
    assert Decimal(str(records["R002"].hours)) == Decimal("2.25") and records["R002"].category == "EDUCATION"
    assert records["R001"].confirmed_at is not None and records["R002"].confirmed_at is None
    assert records["R003"].status == "VOIDED" and records["R003"].void_reason


async def test_rerun_changes_nothing(imported: Imported, tmp_path: Path) -> None:
    again = await run(imported.db, imported.folder, tmp_path / "report-2.jsonl", batch_size=4)
    assert await imported.db.checksum() == imported.checksum
    first = imported.first
    assert again.inserted == 0 and again.ok
    assert again.skipped == first.inserted + first.skipped
    assert again.rejected == first.rejected
    second_report = read_report(tmp_path / "report-2.jsonl")
    assert sorted((e["file"], e["line"], e["code"]) for e in second_report) == sorted(
        (e["file"], e["line"], e["code"]) for e in imported.first_report
    )


async def test_a_failed_batch_is_rolled_back_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = await migrated_database(tmp_path / "db")
    try:
        people = [
            (
                volunteer(
                    f"B{i:02d}",
                    make_resident_id("370102", date(1980, 1, 1 + i), i, Sex.MALE),
                    username=f"mz_batch{i:02d}",
                    password_hash=HASH_ZHANG,
                ),
                OK,
            )
            for i in range(10)
        ]
        teams = [(team("T01", LEGAL, credit_code=CODE_T01), OK)]
        members = [
            ({"team_legacy_id": "T01", "volunteer_legacy_id": f"B{i:02d}", "status": "JOINED"}, OK)
            for i in range(10)
        ]
        write_export(
            tmp_path / "export",
            {"volunteers.jsonl": people, "teams.jsonl": teams, "memberships.jsonl": members},
        )

        original = legacy_import._Importer.write_volunteers
        calls = 0

        async def flaky(self: Any, session: Any, rows: list[Any]) -> Any:
            nonlocal calls
            calls += 1
            outcome = await original(self, session, rows)  # rows are written, then the batch fails
            if calls == 2:
                raise RuntimeError("injected failure")
            return outcome

        monkeypatch.setattr(legacy_import._Importer, "write_volunteers", flaky)
        first = await run(db, tmp_path / "export", tmp_path / "report-1.jsonl", batch_size=3)
        monkeypatch.undo()

        assert not first.ok and len(first.failures) == 1
        failure = first.failures[0]
        assert (failure.file, failure.first_line, failure.last_line, failure.rows) == (
            "volunteers.jsonl",
            4,
            6,
            3,
        )
        assert "injected failure" in failure.error
        assert counts(first.entities["volunteers"]) == {
            "rows": 10,
            "inserted": 7,
            "skipped": 0,
            "rejected": 0,
            "failed": 3,
        }
        assert first.entities["memberships"].inserted == 7 and first.entities["memberships"].rejected == 3
        assert await db.count("volunteer") == 7 and await db.count("account") == 7
        report = read_report(tmp_path / "report-1.jsonl")
        assert report[0]["code"] == "BATCH_FAILED" and report[0]["line"] == 4
        assert sorted(e["code"] for e in report[1:]) == ["VOLUNTEER_NOT_FOUND"] * 3

        second = await run(db, tmp_path / "export", tmp_path / "report-2.jsonl", batch_size=3)
        assert second.ok and second.rejected == 0
        assert counts(second.entities["volunteers"]) == {
            "rows": 10,
            "inserted": 3,
            "skipped": 7,
            "rejected": 0,
            "failed": 0,
        }
        assert second.entities["memberships"].inserted == 3 and second.entities["memberships"].skipped == 7
        assert await db.count("volunteer") == 10 and await db.count("team_membership") == 10
        v = T["volunteer"]
        numbers = sorted(int(n) for (n,) in await db.rows(select(v.c.volunteer_number)))
        assert numbers == [37010200000000 + i for i in range(1, 11)]  # the rolled-back block was released
        s = T["volunteer_number_sequence"]
        assert await db.rows(select(s.c.county, s.c.last)) == [("370102", 10)]
        assert read_report(tmp_path / "report-2.jsonl") == []
    finally:
        await db.close()


async def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await import_legacy(None, PiiCipher(KEY), tmp_path / "missing", tmp_path / "r.jsonl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        await import_legacy(None, PiiCipher(KEY), tmp_path, tmp_path / "r.jsonl", batch_size=0)  # type: ignore[arg-type]


def test_password_hash_formats() -> None:
    check = legacy_import.check_password_hash
    for good in (
        HASH_ZHANG,
        HASH_LI,
        HASH_WANG,
        HASH_LAO,
        "legacy$md5$a$b$" + hashlib.md5(b"a$bpw").hexdigest().upper(),  # a salt with "$", upper-case hex
    ):
        check(good)
    bad = [
        "",
        "plain",
        "legacy$md5$$abc",
        "legacy$md4$$" + "0" * 32,
        "legacy$md5-prefix$s$" + "0" * 32,
        "legacy$sha1$s$" + "0" * 32,
        "legacy$md5$s$" + "g" * 32,
        "$argon2id$v=19$m=1024,t=1$c2FsdA$aGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$$aGFzaA",
        "$2b$12$abcdefghijklmnopqrstuv",
    ]
    for value in bad:
        with pytest.raises(legacy_import.Rejected):
            check(value)


def test_rules_are_those_of_registration() -> None:
    from resolvers import credentials, people, registration

    assert legacy_import.USERNAME is credentials.USERNAME
    assert legacy_import.NAME is people.NAME
    assert legacy_import.MOBILE is people.MOBILE
    assert legacy_import.OTHER_ID is registration.OTHER_ID
