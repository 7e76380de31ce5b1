"""Deterministic demo data: volunteers, teams, projects, sign-ups, attendance, records, certificates.

``generate_demo`` fills a database whose ``region`` table is loaded and which has no volunteers yet with a
realistic, internally consistent data set in a few counties of 山东, 浙江, 北京, 广东 and 四川, always
including 历下区 (370102, 济南) and 西湖区 (330106, 杭州), where the accounts of ``DEMO_ACCOUNTS`` look.

How it stays fast and bounded at a million volunteers:

* ids are assigned in Python (from ``max(id) + 1`` of each table), so children reference parents without
  round trips; rows go in with SQLAlchemy Core ``executemany`` in slices of ``CHUNK_ROWS``;
* teams, projects and posts (about one team per 40 volunteers) stay in memory; volunteers and everything
  below them are generated and written ``VOLUNTEER_CHUNK`` volunteers at a time, one transaction per
  chunk, and then dropped (only the issued ID-number prefixes are kept, as ints, to keep them unique);
* on PostgreSQL the id sequences are moved past the inserted ids at the end.

Measured on a 2-core machine: 100,000 volunteers (750,000 rows) in 33 s on SQLite and 48 s on PostgreSQL;
1,000,000 volunteers (7.6 million rows) in 8 minutes on SQLite, in under 450 MB of memory.

Consistency: rows below a team copy its ``team_id`` and ``region_code`` (and the project's id); one
volunteer's service records fall on distinct days, so they never overlap; accepted sign-ups respect the
post quotas (later ones are waitlisted); ID numbers carry the area code of the volunteer's county.

Determinism: one ``random.Random(seed)`` drives every choice and all timestamps derive from fixed dates
(``DEMO_TODAY``), so the same seed gives the same rows. The one exception is PII ciphertext:
``PiiCipher.encrypt`` draws a random nonce by design (the blind indexes are deterministic).
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Table, func, inspect, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from tqdm import tqdm  # type: ignore[import-untyped]

import models  # noqa: F401  (registers every table in SQLModel.metadata)
from models.bulk_load import BulkWriter
from models.db import SessionFactory, next_free_id
from models.enums import (
    AccountStatus,
    AttendanceMethod,
    AttendanceStatus,
    CertificateStatus,
    IdType,
    InviteConsent,
    MemberRole,
    MembershipStatus,
    ProjectCategory,
    ProjectStatus,
    RealNameStatus,
    RecordProvenance,
    RecordStatus,
    Role,
    Sex,
    SignUpScope,
    SignUpStatus,
    TeamStatus,
    TeamType,
    TeamVerification,
)
from models.identifiers import make_credit_code, make_resident_id, make_volunteer_number
from models.pii import PiiCipher

Row = dict[str, Any]
T = TypeVar("T")
Buffers = dict[str, list[Row]]

DEMO_PASSWORD = "Demo@2026zy"
DEMO_TODAY = date(2026, 11, 1)
"""The generator's "today": service records lie before it; projects ending later are still open."""
CHUNK_ROWS = 5000
VOLUNTEER_CHUNK = 10_000
"""Volunteers per transaction (about 75,000 rows with their memberships, sign-ups, attendance, records)."""
TEAM_CHUNK = 2000
"""Teams per transaction while the organisations are written (with their projects, posts, sign-in points)."""
INSERT_ORDER = (
    *("account", "team", "role_grant", "project", "post", "sign_in_point"),
    *("volunteer", "team_membership", "sign_up", "attendance", "service_record", "certificate"),
)
"""Parents before children."""
PROVINCE_WEIGHTS = {"37": 3.0, "33": 2.0, "44": 2.0, "51": 2.0, "11": 1.5}
PROVINCE_CENTRES = {
    "37": (36.67, 117.02),
    "33": (30.27, 120.15),
    "44": (23.13, 113.26),
    "51": (30.66, 104.07),
    "11": (39.90, 116.40),
}
PROVINCE_PHONE_AREAS = {"37": "0531", "33": "0571", "44": "020", "51": "028", "11": "010"}
LIXIA, XIHU = "370102000000", "330106000000"
REQUIRED_REGIONS = {"370000000000": 1, "370100000000": 2, LIXIA: 3, XIHU: 3}
"""Codes (with their level) that the demo accounts are granted on; they must be current ``region`` rows."""


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in account made by the generator, with the role grant it gets (if any)."""

    username: str
    password: str
    description: str
    role: Role | None = None
    region_code: str | None = None
    can_reveal: bool = False
    legacy: bool = False


def _words(text: str) -> list[str]:
    return text.split()


_REGION = Role.REGION_ADMIN
DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("demo_ministry", DEMO_PASSWORD, "民政部: MINISTRY_ADMIN, nationwide", Role.MINISTRY_ADMIN),
    DemoAccount(
        "demo_shandong", DEMO_PASSWORD, "山东省: REGION_ADMIN, may reveal PII", _REGION, "370000000000", True
    ),
    DemoAccount("demo_jinan", DEMO_PASSWORD, "济南市: REGION_ADMIN", _REGION, "370100000000"),
    DemoAccount("demo_lixia", DEMO_PASSWORD, "历下区: REGION_ADMIN", _REGION, LIXIA),
    DemoAccount("demo_xihu", DEMO_PASSWORD, "西湖区: REGION_ADMIN", _REGION, XIHU),
    DemoAccount(
        "demo_team", DEMO_PASSWORD, "队伍管理员: TEAM_ADMIN of the first 历下区 team", Role.TEAM_ADMIN
    ),
    DemoAccount("demo_volunteer", DEMO_PASSWORD, "志愿者: a 历下区 volunteer with records, a certificate"),
    DemoAccount("mz_legacy01", DEMO_PASSWORD, "迁移账号: legacy md5 hash, a 西湖区 volunteer", legacy=True),
]
"""All share ``DEMO_PASSWORD``; ``mz_legacy01`` keeps an old-system ``legacy$md5$<salt>$<hex>`` hash."""

_SURNAMES = _words("""
    王725 李719 张683 刘538 陈453 杨308 黄223 赵217 吴205 周193 徐170 孙160 马150 朱140 胡130 郭120
    何110 高105 林100 罗90 郑85 梁80 谢75 宋70 唐65 许60 韩60 冯55 邓55 曹50 彭50 曾48 肖46 田44
    董42 袁40 潘38 于38 蒋37 蔡36 余35 杜34 叶33 程32 苏31 魏30 吕30 丁29 任28 沈27 姚26 卢26 姜25
    崔25 钟24 谭23 陆22 汪21 范20 金20 石20 廖19 贾19 夏18 韦18 付17 方17 白16 邹16 孟15 熊15 秦14
    邱14 江14 尹13 薛13 闫12 段12 雷12 侯11 龙11 史11 陶10 黎10 贺10 顾9 毛9 郝9 龚8 邵8 万8 钱8
    严7 覃7 武7 戴7 莫6 孔6 向6 汤6 欧阳3 司马1 诸葛1 上官1
""")  # surname and weight (per mille, roughly the national frequency)
SURNAMES = [entry.rstrip("0123456789") for entry in _SURNAMES]
SURNAME_CUM = list(
    accumulate(int(entry[len(name) :]) for entry, name in zip(_SURNAMES, SURNAMES, strict=True))
)
GIVEN = {
    Sex.MALE: "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国文志海东博晨阳轩睿泽宸诺航",
    Sex.FEMALE: "芳娜敏静丽艳娟霞秀英玲桂兰婷雪慧琳颖倩洁琴云欣怡梦佳萱雨涵诗悦晓月思彤瑶蕾薇璐莉梅红燕晶嘉",
}
# 䶮 is in CJK extension A, 𠮷 in extension B (beyond the BMP): names must survive both
RARE_CHARS = "堃喆犇淼昇甯䶮𠮷玥珺祎翀赟垚燊龑"
MINORITY_GIVEN = {
    Sex.MALE: _words("艾力 买买提 阿不都 努尔 吐尔逊 艾尔肯 阿力木"),
    Sex.FEMALE: _words("阿依古丽 迪丽娜尔 古丽巴哈尔 帕提古丽 热娜 米热古丽"),
}
MINORITY_FATHER = _words("买买提 热合曼 阿不都拉 吐尔逊 艾则孜 伊力 司马义 克里木")
SKILLS = _words("""急救 心理疏导 法律咨询 文艺演出 摄影摄像 外语翻译 手语 计算机 驾驶 医疗护理 课业辅导 应急救援
    环保宣传 活动策划 体育指导 书法绘画 老年照护 助残服务 垃圾分类指导 普通话讲解""")
AVAILABILITY = _words("周末全天 工作日晚上 节假日 周六上午 周日下午 寒暑假 随时 每月一次")
TEAM_WORDS = _words("""阳光 红烛 春风 爱心 青年 暖阳 同心 雷锋 蒲公英 向日葵 银发 邻里 彩虹 启明星 绿色家园 守望
    知行 心连心 泉城 西子""")
LEGAL_SUFFIXES = _words("志愿者协会 志愿服务中心 公益服务社 志愿服务联合会")
GROUP_SUFFIXES = _words("志愿服务队 志愿服务小分队 志愿者服务站")
PROJECTS: dict[ProjectCategory, list[str]] = {
    ProjectCategory.COMMUNITY: _words("邻里守望社区关爱行动 社区文明劝导 楼道清洁日 便民服务站值守"),
    ProjectCategory.POVERTY_RELIEF: _words("乡村振兴助农直播 困难家庭结对帮扶 爱心助农集市"),
    ProjectCategory.EDUCATION: _words("周末课业辅导 留守儿童陪伴成长 图书馆阅读推广"),
    ProjectCategory.HEALTH: _words("无偿献血宣传 社区义诊 急救知识普及"),
    ProjectCategory.ENVIRONMENT: _words("河湖巡护 垃圾分类宣传 植树护绿"),
    ProjectCategory.EMERGENCY: _words("防汛应急值守 森林防火宣传 应急救护培训"),
    ProjectCategory.CULTURE: _words("文化馆讲解服务 非遗展演 社区文艺汇演"),
    ProjectCategory.SPORTS: _words("全民健身指导 社区运动会 青少年足球赛服务"),
    ProjectCategory.LEGAL_AID: _words("法律咨询进社区 反诈宣传 普法宣传周"),
    ProjectCategory.SCIENCE: _words("科技馆讲解 科普进校园 青少年科创营"),
    ProjectCategory.ELDERLY_DISABLED: _words("敬老院陪伴 助残送温暖 银龄智能手机教学"),
    ProjectCategory.LARGE_EVENT: _words("博览会志愿服务 城市马拉松赛会保障 城市志愿服务站"),
    ProjectCategory.OTHER: _words("交通文明引导 节日慰问 文明旅游劝导"),
}
CATEGORIES = list(PROJECTS)
POST_NAMES = _words("现场引导 秩序维护 物资发放 信息登记 后勤保障 宣传讲解 医疗保障 摄影记录")
TARGETS = _words("社区居民 老年人 青少年 残障人士 困难家庭 游客 参赛选手 全体市民")
ROADS = _words("人民路 解放路 建设路 和平路 文化路 中山路 胜利街 青年路")
GUARANTEES = ["提供饮用水和午餐", "提供志愿者保险及交通补贴", "提供服装和防暑用品", ""]
CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class _Weighted(Generic[T]):
    """A categorical distribution with its cumulative weights computed once."""

    def __init__(self, weights: dict[T, float]) -> None:
        self.values, self.cum = list(weights), list(accumulate(weights.values()))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cum)[0]


AGE_BANDS = _Weighted(
    {(8, 13): 1.5, (14, 17): 3.5, (18, 25): 20, (26, 35): 22, (36, 45): 18, (46, 60): 22, (61, 80): 13}
)
VERIFICATION = _Weighted(
    {TeamVerification.PENDING_REVIEW: 8, TeamVerification.APPROVED: 88, TeamVerification.REJECTED: 4}
)
TEAM_STATUS = _Weighted({TeamStatus.ACTIVE: 96, TeamStatus.SUSPENDED: 2, TeamStatus.DISSOLVED: 2})
SCOPE = _Weighted({SignUpScope.PUBLIC: 70, SignUpScope.TEAM_MEMBERS: 20, SignUpScope.REGION: 10})
MIN_AGE = _Weighted({0: 60, 14: 15, 16: 5, 18: 20})
MAX_AGE = _Weighted({0: 80, 60: 5, 65: 10, 70: 5})  # 0: no limit
REAL_NAME = _Weighted({RealNameStatus.PASSED: 92, RealNameStatus.PENDING: 4, RealNameStatus.UNDER_REVIEW: 2,
                       RealNameStatus.NOT_VERIFIED: 1, RealNameStatus.FAILED: 1})  # fmt: skip
CONSENT = _Weighted({InviteConsent.ASK: 70, InviteConsent.AUTO_ACCEPT: 20, InviteConsent.AUTO_REJECT: 10})
MEMBERSHIP = _Weighted({MembershipStatus.JOINED: 88, MembershipStatus.APPLYING: 7, MembershipStatus.REJECTED: 2,
                        MembershipStatus.LEFT: 3})  # fmt: skip
SIGN_UPS = _Weighted({0: 15, 1: 22, 2: 20, 3: 15, 4: 12, 5: 9, 6: 7})
SESSIONS = _Weighted({1: 70, 2: 20, 3: 10})
METHOD = _Weighted({AttendanceMethod.QR: 50, AttendanceMethod.GPS: 40, AttendanceMethod.MANUAL: 10})
RECORD_STATUS = _Weighted({RecordStatus.CONFIRMED: 92, RecordStatus.PENDING: 6, RecordStatus.DECLINED: 2})
HISTORY_CATEGORY = _Weighted({category.value: 1.0 for category in CATEGORIES})
HISTORY_CONTENT = "日常志愿服务（补录）"
NATURAL_RECORDS = 1.9
"""Service records per volunteer from sign-ups alone (measured): the first chunk's estimate for history."""
CERTIFICATE_STATUS = _Weighted({CertificateStatus.ISSUED: 75, CertificateStatus.REQUESTED: 20,
                                CertificateStatus.REJECTED: 5})  # fmt: skip


@dataclass(slots=True)
class _County:
    code: str
    name: str
    province: str
    prefecture: str
    townships: list[tuple[str, str]]
    weight: float
    centre: tuple[float, float]
    teams: list[_Team] = field(default_factory=list)
    joinable: list[_Team] = field(default_factory=list)
    public_projects: list[_Project] = field(default_factory=list)


@dataclass(slots=True)
class _Team:
    id: int
    county: _County
    region_code: str
    person_in_charge: str
    contact: str
    legal: bool
    joinable: bool
    """Approved and active: volunteers may join, its projects may be open."""
    open_projects: list[_Project] = field(default_factory=list)


@dataclass(slots=True)
class _Post:
    id: int
    name: str
    quota: int
    accepted: int = 0


@dataclass(slots=True)
class _Project:
    id: int
    team: _Team
    name: str
    category: str
    starts_at: datetime
    ends_at: datetime
    min_age: int
    max_age: int
    requires_attendance: bool
    point: tuple[float, float]
    posts: list[_Post] = field(default_factory=list)


def _first_free_id(conn: Connection, table: str) -> int:
    """``next_free_id``; before migration 0007 (no ``sync_node``: the benchmark loads at an earlier revision
    and migrates after, bench/run.py) the ids start at the top of the table, as node 0's range does."""
    if inspect(conn).has_table("sync_node"):
        return next_free_id(conn, table)
    return int(conn.execute(select(func.max(SQLModel.metadata.tables[table].c.id))).scalar_one() or 0) + 1


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC instant; local time (UTC+8) is eight hours ahead."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


class _Generator:
    """The random stream, id counters and in-memory organisations of one run."""

    def __init__(
        self,
        sessions: SessionFactory,
        cipher: PiiCipher,
        password_hash: Callable[[str], str],
        volunteers: int,
        seed: int,
        records_per_volunteer: float | None = None,
    ) -> None:
        self.sessions, self.cipher, self.password_hash = sessions, cipher, password_hash
        self.volunteers = volunteers
        self.records_per_volunteer = records_per_volunteer
        self.extra_mean = 0.0
        self.history_records = 0
        self.history_planned = 0.0
        """Sum of ``extra_mean`` over the volunteers so far: what ``add_history`` was asked for on average."""
        """Mean number of earlier-service records per volunteer in the current chunk (set per chunk)."""
        self.writer: BulkWriter | None = None
        self.rng = random.Random(seed)
        self.tables: dict[str, Table] = {
            name: SQLModel.metadata.tables[name] for name in (*INSERT_ORDER, "region")
        }
        self.blank: dict[str, Row] = {
            name: {column.key: None for column in table.columns if column.nullable}
            for name, table in self.tables.items()
        }
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = dict.fromkeys(INSERT_ORDER, 0)
        self.counties: list[_County] = []
        self.county_cum: list[float] = []
        self.teams: list[_Team] = []
        self.province_joinable: dict[str, list[_Team]] = defaultdict(list)
        self.account_ids: dict[str, int] = {}
        self.id_keys: set[int] = set()
        self.county_seq: dict[str, int] = defaultdict(int)
        self.credit_codes: set[str] = set()
        self.certificate_seq = 0
        self.static: Buffers = defaultdict(list)

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def add(self, buffers: Buffers, table: str, **values: Any) -> Row:
        """Append a row; nullable columns not given are None, so every row of a table has the same keys."""
        row = {**self.blank[table], **values}
        buffers[table].append(row)
        return row

    # --- preparation ----------------------------------------------------------------------------------

    async def prepare(self) -> None:
        tables = self.tables
        async with self.sessions() as session:
            if (await session.execute(select(tables["volunteer"].c.id).limit(1))).first() is not None:
                raise RuntimeError("volunteers already exist: demo data only goes into an empty database")
            account = tables["account"]
            names = [demo.username for demo in DEMO_ACCOUNTS]
            taken = await session.execute(select(account.c.username).where(account.c.username.in_(names)))
            if clash := sorted(taken.scalars()):
                raise RuntimeError(f"demo accounts already exist: {', '.join(clash)}")
            for name in INSERT_ORDER:  # the first free id of this node's range (models/db.py, id space)
                connection = await session.connection()
                self.next_id[name] = await connection.run_sync(_first_free_id, name)
            region = tables["region"]
            ranges = [region.c.code.between(f"{p}0000000000", f"{p}9999999999") for p in PROVINCE_WEIGHTS]
            query = select(region.c.code, region.c.name, region.c.level, region.c.parent_code)
            rows = (await session.execute(query.where(region.c.retired_year.is_(None), or_(*ranges)))).all()
        self.pick_counties([(code, name, int(level), parent) for code, name, level, parent in rows])
        self.account_ids = {demo.username: self.new_id("account") for demo in DEMO_ACCOUNTS}

    def pick_counties(self, rows: list[tuple[str, str, int, str | None]]) -> None:
        """A few current counties per province (more for more volunteers), 历下区 and 西湖区 first."""
        levels = {code: level for code, _, level, _ in rows}
        if missing := [code for code, level in REQUIRED_REGIONS.items() if levels.get(code) != level]:
            raise RuntimeError(
                f"the region table lacks the current codes {', '.join(missing)}: "
                "load the regions first (models.region_seed.load_regions)"
            )
        names = {code: name for code, name, _, _ in rows}
        townships: dict[str, list[tuple[str, str]]] = defaultdict(list)
        by_province: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for code, name, level, parent in sorted(rows):
            if level == 4 and parent:
                townships[parent].append((code, name))
            elif level == 3:
                by_province[code[:2]].append((code, parent))
        per_province = max(2, min(12, 2 + self.volunteers // 25_000))
        rng = self.rng
        for province, weight in PROVINCE_WEIGHTS.items():
            if not (counties := by_province.get(province)):
                raise RuntimeError(f"the region table has no current county in province {province}0000")
            featured = [c for c in counties if c[0] in (LIXIA, XIHU)]
            others = [c for c in counties if c[0] not in (LIXIA, XIHU)]
            chosen = featured + rng.sample(others, min(len(others), per_province - len(featured)))
            lat, lng = PROVINCE_CENTRES[province]
            for code, parent in chosen:
                share = weight / len(chosen) * (3.0 if code in (LIXIA, XIHU) else 1.0)
                centre = (round(lat + rng.uniform(-0.6, 0.6), 5), round(lng + rng.uniform(-0.6, 0.6), 5))
                prefecture = names.get(parent or "", "") if parent != f"{province}0000000000" else ""
                county = _County(code, names[code], province, prefecture, townships[code], share, centre)
                self.counties.append(county)
        self.counties.sort(key=lambda c: (c.code != LIXIA, c.code != XIHU))
        self.county_cum = list(accumulate(county.weight for county in self.counties))

    def pick_county(self) -> _County:
        return self.rng.choices(self.counties, cum_weights=self.county_cum)[0]

    # --- people -----------------------------------------------------------------------------------------

    def person_name(self, sex: Sex) -> str:
        rng = self.rng
        if rng.random() < 0.005:
            return f"{rng.choice(MINORITY_GIVEN[sex])}·{rng.choice(MINORITY_FATHER)}"
        surname = rng.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]
        given = "".join(rng.choice(GIVEN[sex]) for _ in range(1 if rng.random() < 0.35 else 2))
        if rng.random() < 0.01:
            given = given[:-1] + rng.choice(RARE_CHARS)
        return surname + given

    def phone(self) -> str:
        return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"

    def moment(self, low: datetime, high: datetime) -> datetime:
        """A whole second in [low, high)."""
        return low + timedelta(seconds=self.rng.randrange(max(1, int((high - low).total_seconds()))))

    def resident_id(self, area6: str, birth: date, sex: Sex) -> str:
        """A number not issued before in this run (moving the birth date a day after 20 misses)."""
        for attempt in range(2000):
            day = birth + timedelta(days=attempt // 20)
            number = make_resident_id(area6, day, self.rng.randrange(500), sex)
            if (key := int(number[:17])) not in self.id_keys:
                self.id_keys.add(key)
                return number
        raise RuntimeError(f"no free resident ID number near {area6} {birth}")  # pragma: no cover

    # --- organisations ------------------------------------------------------------------------------------

    async def build_organisations(self) -> None:
        """Teams (one per county first, so each county has a legal person), then their projects.

        The rows are written every ``TEAM_CHUNK`` teams; what is left goes in with the first volunteers.
        """
        n_teams = max(6, len(self.counties) + 2, self.volunteers // 40)
        homes = self.counties + [self.pick_county() for _ in range(n_teams - len(self.counties))]
        for county in homes:
            self.add_team(county)
        for number, team in enumerate(self.teams, start=1):
            featured = team is self.teams[0]
            for index in range(4 if featured else self.rng.choice((1, 2, 3, 3, 4, 5))):
                self.add_project(team, featured=index if featured and index < 2 else None)
            if number % TEAM_CHUNK == 0:
                await self.flush(self.static)
                self.static = defaultdict(list)

    def add_team(self, county: _County) -> None:
        rng, featured = self.rng, not self.teams
        first_extra = len(self.teams) == len(self.counties)  # always an unregistered group, for the demo
        legal = not county.teams or (not first_extra and rng.random() < 0.75)
        verification, status = VERIFICATION.pick(rng), TEAM_STATUS.pick(rng)
        if featured:  # the demo team: 历下区, approved, active, at county level
            verification, status = TeamVerification.APPROVED, TeamStatus.ACTIVE
        in_township = county.townships and not featured and rng.random() < 0.4
        region_code, place = rng.choice(county.townships) if in_township else (county.code, county.name)
        credit_code = None
        while legal and (credit_code is None or credit_code in self.credit_codes):
            org9 = "MJ" + "".join(rng.choice("0123456789ABCDEFGH") for _ in range(7))
            credit_code = make_credit_code("5", rng.choice("1222223"), county.code[:6], org9)
        if credit_code:
            self.credit_codes.add(credit_code)
        contacts = [t for t in county.teams if t.legal and t.joinable] or [t for t in county.teams if t.legal]
        since = 2012 + rng.randrange(7)
        team = _Team(
            id=self.new_id("team"),
            county=county,
            region_code=region_code,
            person_in_charge=self.person_name(rng.choice((Sex.MALE, Sex.FEMALE))),
            contact=f"{PROVINCE_PHONE_AREAS[county.province]}-{rng.randint(6000_0000, 8999_9999)}",
            legal=legal,
            joinable=verification is TeamVerification.APPROVED and status is TeamStatus.ACTIVE,
        )
        self.add(
            self.static,
            "team",
            id=team.id,
            name=f"{place}{rng.choice(TEAM_WORDS)}{rng.choice(LEGAL_SUFFIXES if legal else GROUP_SUFFIXES)}",
            team_type=(TeamType.LEGAL_PERSON if legal else TeamType.UNREGISTERED_GROUP).value,
            credit_code=credit_code,
            contact_team_id=None if legal else rng.choice(contacts).id,
            region_code=region_code,
            verification_status=verification.value,
            status=status.value,
            person_in_charge=team.person_in_charge,
            contact_name=self.person_name(Sex.FEMALE),
            contact_phone_enc=self.cipher.encrypt(self.phone(), "team.contact_phone"),
            description=f"成立于{since}年，在{county.name}开展社区服务、扶老助残、文明实践等志愿服务。",
            created_at=self.moment(_at(date(since, 1, 1)), _at(date(since, 12, 31))),
        )
        self.teams.append(team)
        county.teams.append(team)
        if team.joinable:
            county.joinable.append(team)
            self.province_joinable[county.province].append(team)

    def project_status(self, team: _Team, ends_at: datetime) -> ProjectStatus:
        if not team.joinable:
            return self.rng.choice((ProjectStatus.DRAFT, ProjectStatus.SUBMITTED))
        if (roll := self.rng.random()) < 0.08:
            return (ProjectStatus.CANCELLED, ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)[
                int(roll * 100) % 3
            ]
        return ProjectStatus.CLOSED if ends_at.date() < DEMO_TODAY else ProjectStatus.PUBLISHED

    def add_project(self, team: _Team, *, featured: int | None) -> None:
        """A project in 2025-2026 with posts and sign-in points; ``featured`` 0 and 1 are long, closed, public."""
        rng, county, special = self.rng, team.county, featured is not None
        category = rng.choice(CATEGORIES)
        if featured is not None:
            category = (ProjectCategory.COMMUNITY, ProjectCategory.ELDERLY_DISABLED)[featured]
        first_day = date(2025, 3, 1) if special else date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        length = 180 if special else rng.choice((0, 1, 2, 6, 13, 29, 59, 89, 119))
        starts_at, ends_at = _at(first_day), _at(first_day + timedelta(days=length), 10)  # 08:00-18:00 local
        status = ProjectStatus.CLOSED if special else self.project_status(team, ends_at)
        scope = SignUpScope.PUBLIC if special else SCOPE.pick(rng)
        min_age = None if special else MIN_AGE.pick(rng) or None
        max_age = None if special else MAX_AGE.pick(rng) or None
        lat, lng = county.centre
        project = _Project(
            id=self.new_id("project"),
            team=team,
            name=county.name + (PROJECTS[category][0] if special else rng.choice(PROJECTS[category])),
            category=category.value,
            starts_at=starts_at,
            ends_at=ends_at,
            min_age=min_age or 0,
            max_age=max_age or 200,
            requires_attendance=special or rng.random() < 0.9,
            point=(round(lat + rng.uniform(-0.05, 0.05), 6), round(lng + rng.uniform(-0.05, 0.05), 6)),
        )
        created_at = starts_at - timedelta(days=rng.randint(10, 60), seconds=rng.randrange(86400))
        opened = status in (ProjectStatus.PUBLISHED, ProjectStatus.CLOSED)
        where = dict(project_id=project.id, team_id=team.id, region_code=team.region_code)
        self.add(
            self.static,
            "project",
            id=project.id,
            team_id=team.id,
            region_code=team.region_code,
            name=project.name,
            category=project.category,
            service_target=rng.choice(TARGETS),
            address=f"{county.prefecture}{county.name}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
            description=f"{project.name}：面向{rng.choice(TARGETS)}开展志愿服务，欢迎报名参加。",
            starts_at=starts_at,
            ends_at=ends_at,
            min_age=min_age,
            max_age=max_age,
            insured=category is ProjectCategory.EMERGENCY or rng.random() < 0.5,
            guarantees=rng.choice(GUARANTEES),
            signup_scope=scope.value,
            signup_region_code=county.code if scope is SignUpScope.REGION else None,
            requires_approval=not special and rng.random() < 0.3,
            requires_attendance=project.requires_attendance,
            status=status.value,
            created_at=created_at,
            published_at=created_at + timedelta(days=rng.randint(1, 5)) if opened else None,
        )
        for name in rng.sample(POST_NAMES, 3 if special else rng.randint(1, 3)):
            post = _Post(self.new_id("post"), name, 50 if special else rng.randint(5, 50))
            project.posts.append(post)
            self.add(self.static, "post", id=post.id, **where, name=name, description=f"负责{name}相关工作",
                     quota=post.quota, starts_at=starts_at, ends_at=ends_at)  # fmt: skip
        for number in range(1 if rng.random() < 0.8 else 2):
            lat, lng = project.point[0] + number * 0.002, project.point[1] + number * 0.002
            self.add(self.static, "sign_in_point", id=self.new_id("sign_in_point"), **where,
                     name=("主会场", "东门签到点")[number], latitude=lat, longitude=lng,
                     radius_m=rng.choice((100, 200, 300, 500)))  # fmt: skip
        if opened:
            team.open_projects.append(project)
            if scope is not SignUpScope.TEAM_MEMBERS:
                county.public_projects.append(project)

    # --- accounts ---------------------------------------------------------------------------------------------

    def add_accounts(self, buffers: Buffers) -> None:
        """Demo accounts and grants; the first two volunteers of the run are the linked ones."""
        team, volunteers = self.teams[0], buffers["volunteer"]
        salt = f"{self.rng.getrandbits(32):08x}"
        display = {"demo_volunteer": volunteers[0]["name"], "mz_legacy01": volunteers[1]["name"]}
        for offset, demo in enumerate(DEMO_ACCOUNTS):
            account_id = self.account_ids[demo.username]
            if demo.legacy:  # the old system's scheme, verified and upgraded on first login
                password_hash = (
                    f"legacy$md5${salt}${hashlib.md5((salt + demo.password).encode()).hexdigest()}"
                )
            else:
                password_hash = self.password_hash(demo.password)
            self.add(buffers, "account", id=account_id, username=demo.username,
                     username_key=demo.username.lower(), password_hash=password_hash,
                     display_name=display.get(demo.username, demo.description.split(":")[0]),
                     status=AccountStatus.ACTIVE.value, is_legacy=demo.legacy,
                     created_at=_at(date(2018 if demo.legacy else 2021, 3, 17), 1, offset))  # fmt: skip
            if demo.role is not None:
                team_grant = demo.role is Role.TEAM_ADMIN
                self.add(buffers, "role_grant", id=self.new_id("role_grant"), account_id=account_id,
                         role=demo.role.value, region_code=team.region_code if team_grant else demo.region_code,
                         team_id=team.id if team_grant else None, can_reveal=demo.can_reveal,
                         granted_at=_at(date(2021, 3, 17), 2, offset))  # fmt: skip

    # --- volunteers and their activity --------------------------------------------------------------------

    def add_volunteer(self, index: int, buffers: Buffers) -> None:
        """Volunteer 0 (demo_volunteer) lives in 历下区, volunteer 1 (mz_legacy01) in 西湖区."""
        rng, featured = self.rng, index == 0
        county = self.counties[index] if index < 2 else self.pick_county()
        sex = Sex.FEMALE if rng.random() < 0.55 else Sex.MALE
        years = 32 if index < 2 else rng.randint(*AGE_BANDS.pick(rng))
        birth = date.fromordinal(DEMO_TODAY.toordinal() - int(years * 365.25) - rng.randrange(365))
        number = self.resident_id(county.code[:6], birth, sex)
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        region_code = (
            rng.choice(county.townships)[0] if county.townships and rng.random() < 0.75 else county.code
        )
        roll = rng.random()
        residence = region_code if roll < 0.8 else None if roll < 0.88 else county.code
        earliest = max(_at(date(2019, 1, 1)), _at(birth + timedelta(days=int(8 * 365.25))))
        latest = _at(date(2024, 12, 31)) if earliest < _at(date(2024, 6, 30)) else _at(DEMO_TODAY)
        created_at = self.moment(earliest, latest)
        self.county_seq[county.code[:6]] += 1
        account = {0: "demo_volunteer", 1: "mz_legacy01"}.get(index)
        phone, minor = self.phone(), (DEMO_TODAY - birth).days < 18 * 365.25
        name = self.person_name(sex)
        volunteer = self.add(
            buffers,
            "volunteer",
            id=self.new_id("volunteer"),
            account_id=self.account_ids[account] if account else None,
            volunteer_number=make_volunteer_number(region_code, self.county_seq[county.code[:6]]),
            name=name,
            id_type=IdType.RESIDENT_ID.value,
            id_number_enc=self.cipher.encrypt(number, "volunteer.id_number"),
            id_number_hash=self.cipher.blind_index(number),
            birth_date=birth,
            sex=sex.value,
            phone_enc=self.cipher.encrypt(phone, "volunteer.phone"),
            phone_hash=self.cipher.blind_index(phone),
            real_name_status=RealNameStatus.PASSED.value if index < 2 else REAL_NAME.pick(rng).value,
            region_code=region_code,
            residence_region_code=residence,
            skills=rng.sample(SKILLS, rng.choice((0, 1, 1, 2, 2, 3))),
            availability="、".join(rng.sample(AVAILABILITY, rng.randint(1, 2))),
            invite_consent=CONSENT.pick(rng).value,
            guardian_name=name[0] + self.person_name(Sex.MALE)[1:] if minor else None,
            guardian_phone_enc=self.cipher.encrypt(self.phone(), "volunteer.guardian_phone")
            if minor
            else None,
            guardian_consent_at=created_at if minor else None,
            no_show_count=0,
            created_at=created_at,
            updated_at=self.moment(created_at, max(created_at + timedelta(days=1), _at(DEMO_TODAY))),
        )
        joined = self.add_memberships(volunteer, county, featured, buffers)
        records = self.add_sign_ups(volunteer, county, joined, featured, buffers)
        if featured and records:
            records.append(self.void_and_replace(records[0], buffers))
        if self.records_per_volunteer is not None and not featured:
            self.add_history(volunteer, county, joined, records, buffers)
        self.add_certificate(volunteer, records, featured, buffers)

    def add_memberships(
        self, volunteer: Row, county: _County, featured: bool, buffers: Buffers
    ) -> list[_Team]:
        """Zero to two teams of the volunteer's county (mostly) or province; returns the joined ones."""
        rng, teams = self.rng, [self.teams[0]] if featured else []
        roll = rng.random()
        for _ in range(0 if featured or roll < 0.12 else 1 if roll < 0.72 else 2):
            pool = county.joinable if county.joinable and rng.random() < 0.7 else None
            pool = pool or self.province_joinable.get(county.province)
            if pool and (team := rng.choice(pool)) not in teams:
                teams.append(team)
        joined: list[_Team] = []
        for team in teams:
            status = MembershipStatus.JOINED if featured else MEMBERSHIP.pick(rng)
            applied_at = volunteer["created_at"] + timedelta(seconds=rng.randrange(3 * 3600))
            joined_at = applied_at + timedelta(seconds=rng.randrange(20 * 3600))
            if status is MembershipStatus.APPLYING:
                recent = self.moment(_at(DEMO_TODAY) - timedelta(days=30), _at(DEMO_TODAY))
                applied_at = max(applied_at, recent)
            if status is MembershipStatus.JOINED:
                joined.append(team)
            left = status is MembershipStatus.LEFT
            self.add(
                buffers,
                "team_membership",
                id=self.new_id("team_membership"),
                team_id=team.id,
                volunteer_id=volunteer["id"],
                region_code=team.region_code,
                status=status.value,
                role=(MemberRole.ADMIN if rng.random() < 0.02 else MemberRole.MEMBER).value,
                applied_at=applied_at,
                joined_at=joined_at if status is MembershipStatus.JOINED or left else None,
                left_at=min(joined_at + timedelta(days=rng.randint(30, 400)), _at(DEMO_TODAY))
                if left
                else None,
            )
        return joined

    def add_sign_ups(
        self, volunteer: Row, county: _County, joined: list[_Team], featured: bool, buffers: Buffers
    ) -> list[Row]:
        """Sign-ups to open projects of the volunteer's teams or open to the county; returns the records."""
        rng = self.rng
        if featured:
            candidates = self.teams[0].open_projects[:3]
        else:
            public = county.public_projects
            pool = rng.sample(public, min(3, len(public))) if rng.random() < 0.5 else []
            pool += [project for team in joined for project in team.open_projects]
            candidates = list({project.id: project for project in pool}.values())
        wanted = 3 if featured else SIGN_UPS.pick(rng)
        used_days: set[date] = set()
        records: list[Row] = []
        for project in rng.sample(candidates, min(wanted, len(candidates))):
            age = (project.starts_at.date() - volunteer["birth_date"]).days / 365.25
            not_before = project.starts_at - timedelta(days=rng.randint(1, 20), seconds=rng.randrange(86400))
            created_at = max(volunteer["created_at"] + timedelta(days=1), not_before)
            if not project.min_age <= age <= project.max_age or created_at >= project.ends_at:
                continue
            free = [post for post in project.posts if post.accepted < post.quota]
            post, roll = rng.choice(free or project.posts), rng.random()
            status = SignUpStatus.ACCEPTED
            if not free:  # full: a few wait, the others look elsewhere
                if roll > 0.25:
                    continue
                status = SignUpStatus.WAITLISTED
            elif roll < 0.04 and project.ends_at.date() >= DEMO_TODAY:
                status = SignUpStatus.PENDING
            elif roll > 0.97 and not featured:
                status = SignUpStatus.CANCELLED
            accepted = status is SignUpStatus.ACCEPTED
            post.accepted += accepted
            sign_up = self.add(
                buffers,
                "sign_up",
                id=self.new_id("sign_up"),
                post_id=post.id,
                project_id=project.id,
                team_id=project.team.id,
                volunteer_id=volunteer["id"],
                region_code=project.team.region_code,
                status=status.value,
                created_at=created_at,
                decided_at=created_at + timedelta(hours=rng.randint(1, 48)) if accepted else None,
            )
            if accepted:
                self.add_sessions(volunteer, project, post, sign_up, used_days, featured, buffers, records)
        return records

    def add_sessions(
        self,
        volunteer: Row,
        project: _Project,
        post: _Post,
        sign_up: Row,
        used_days: set[date],
        featured: bool,
        buffers: Buffers,
        records: list[Row],
    ) -> None:
        """One to three service days of an accepted sign-up: attendance (mostly) and a record each."""
        rng, team = self.rng, project.team
        low = max(project.starts_at.date(), sign_up["created_at"].date() + timedelta(days=1)).toordinal()
        high = min(project.ends_at.date(), DEMO_TODAY - timedelta(days=1)).toordinal()
        if low > high:
            return
        if not featured and rng.random() < 0.04:
            volunteer["no_show_count"] += 1
            return
        where = dict(volunteer_id=volunteer["id"], project_id=project.id, team_id=team.id)
        for _ in range(2 if featured else SESSIONS.pick(rng)):
            if (day := date.fromordinal(rng.randint(low, high))) in used_days:
                continue
            used_days.add(day)
            started_at = _at(day, rng.randint(0, 6), rng.choice((0, 15, 30, 45)))  # 08:00-14:45 local
            minutes = rng.randint(6, 96) * 5
            ended_at = started_at + timedelta(minutes=minutes)
            provenance = RecordProvenance.ATTENDANCE
            if not featured and (not project.requires_attendance or rng.random() < 0.1):
                provenance = rng.choice((RecordProvenance.MANUAL,) * 2 + (RecordProvenance.BULK_IMPORT,))
            attendance_id = None
            if provenance is RecordProvenance.ATTENDANCE:
                attendance_id = self.new_id("attendance")
                method = METHOD.pick(rng)
                gps = method is AttendanceMethod.GPS
                jitter = (rng.uniform(-0.0008, 0.0008), rng.uniform(-0.0008, 0.0008))
                self.add(
                    buffers,
                    "attendance",
                    id=attendance_id,
                    sign_up_id=sign_up["id"],
                    **where,
                    region_code=team.region_code,
                    method=method.value,
                    status=AttendanceStatus.CLOSED.value,
                    check_in_at=started_at,
                    check_out_at=ended_at,
                    check_in_lat=round(project.point[0] + jitter[0], 6) if gps else None,
                    check_in_lng=round(project.point[1] + jitter[1], 6) if gps else None,
                    correction_reason="现场网络故障，由管理员补签"
                    if method is AttendanceMethod.MANUAL
                    else None,
                )
            status = RecordStatus.CONFIRMED
            if not featured:
                status = RECORD_STATUS.pick(rng)
            late = (
                timedelta(minutes=rng.randint(1, 120))
                if attendance_id
                else timedelta(days=rng.randint(1, 10))
            )
            confirmed = status is RecordStatus.CONFIRMED
            record = self.add(
                buffers,
                "service_record",
                id=self.new_id("service_record"),
                **where,
                attendance_id=attendance_id,
                region_code=team.region_code,
                category=project.category,
                service_date=day,
                started_at=started_at,
                ended_at=ended_at,
                hours=_hours(minutes),
                content=f"{project.name}：{post.name}"[:500],
                provenance=provenance.value,
                status=status.value,
                created_at=ended_at + late,
                confirmed_at=ended_at + late + timedelta(hours=rng.randint(1, 72)) if confirmed else None,
            )
            records.append(record)

    def add_history(
        self, volunteer: Row, county: _County, joined: list[_Team], records: list[Row], buffers: Buffers
    ) -> None:
        """Earlier service recorded by hand or imported from the old system (``records_per_volunteer``).

        A heavy-tailed number of records (exponential, mean ``extra_mean``) on days the volunteer has no
        other record, between joining and ``DEMO_TODAY``, for one of their teams (a team of the county when
        they joined none), without a project or attendance: MANUAL after 2024, BULK_IMPORT before.
        """
        rng = self.rng
        self.history_planned += self.extra_mean
        if self.extra_mean <= 0 or not (teams := joined or county.teams):
            return
        wanted = int(rng.expovariate(1 / self.extra_mean) + 0.5)
        low = volunteer["created_at"].date().toordinal() + 1
        high = DEMO_TODAY.toordinal() - 1
        if wanted <= 0 or low > high:
            return
        used = {record["service_date"] for record in records}
        wanted = min(wanted, high - low + 1 - len(used))
        manual_from = date(2025, 1, 1)
        for _ in range(wanted * 2):
            if wanted <= 0:
                break
            if (day := date.fromordinal(rng.randint(low, high))) in used:
                continue
            used.add(day)
            wanted -= 1
            self.history_records += 1
            team = rng.choice(teams)
            started_at = _at(day, rng.randint(0, 6), rng.choice((0, 15, 30, 45)))
            minutes = rng.randint(6, 96) * 5
            ended_at = started_at + timedelta(minutes=minutes)
            status = RECORD_STATUS.pick(rng) if day >= manual_from else RecordStatus.CONFIRMED
            created_at = ended_at + timedelta(days=rng.randint(1, 10))
            confirmed = status is RecordStatus.CONFIRMED
            records.append(
                self.add(
                    buffers,
                    "service_record",
                    id=self.new_id("service_record"),
                    volunteer_id=volunteer["id"],
                    team_id=team.id,
                    region_code=team.region_code,
                    category=HISTORY_CATEGORY.pick(rng),
                    service_date=day,
                    started_at=started_at,
                    ended_at=ended_at,
                    hours=_hours(minutes),
                    content=HISTORY_CONTENT,
                    provenance=(
                        RecordProvenance.MANUAL if day >= manual_from else RecordProvenance.BULK_IMPORT
                    ).value,
                    status=status.value,
                    created_at=created_at,
                    confirmed_at=created_at + timedelta(hours=rng.randint(1, 72)) if confirmed else None,
                )
            )

    def void_and_replace(self, record: Row, buffers: Buffers) -> Row:
        """A correction: the record is voided and a replacement with shorter hours points back at it."""
        minutes = max(30, int(record["hours"] * 60) - 30)
        replacement = {
            **record,
            "id": self.new_id("service_record"),
            "replaces_id": record["id"],
            "ended_at": record["started_at"] + timedelta(minutes=minutes),
            "hours": _hours(minutes),
            "created_at": record["created_at"] + timedelta(days=3),
            "confirmed_at": record["created_at"] + timedelta(days=3, hours=2),
        }
        record.update(status=RecordStatus.VOIDED.value, void_reason="签退时间登记有误，已按实际服务时间更正")
        buffers["service_record"].append(replacement)
        return replacement

    def add_certificate(self, volunteer: Row, records: list[Row], featured: bool, buffers: Buffers) -> None:
        """For a few volunteers: a certificate over their confirmed hours with one team."""
        rng = self.rng
        confirmed = [r for r in records if r["status"] == RecordStatus.CONFIRMED.value]
        if not confirmed or not (featured or rng.random() < 0.03):
            return
        team = self.teams[confirmed[0]["team_id"] - self.teams[0].id]
        mine = [r for r in confirmed if r["team_id"] == team.id]
        status = CertificateStatus.ISSUED
        if not featured:
            status = CERTIFICATE_STATUS.pick(rng)
        last_day = max(r["service_date"] for r in mine)
        requested_at = self.moment(_at(last_day + timedelta(days=1)), _at(DEMO_TODAY + timedelta(days=1)))
        total = sum((r["hours"] for r in mine), Decimal("0.00"))
        self.certificate_seq += 1
        self.add(
            buffers,
            "certificate",
            id=self.new_id("certificate"),
            number=f"ZY2026-{self.certificate_seq:08d}",
            volunteer_id=volunteer["id"],
            team_id=team.id,
            region_code=team.region_code,
            period_start=min(r["service_date"] for r in mine),
            period_end=last_day,
            total_hours=total,
            content=f"参加志愿服务{len(mine)}次，累计服务时长{total}小时。",
            status=status.value,
            person_in_charge=team.person_in_charge,
            handler_name=self.person_name(Sex.FEMALE),
            contact=team.contact,
            verification_code="".join(rng.choice(CODE_CHARS) for _ in range(8)),
            requested_at=requested_at,
            issued_at=requested_at + timedelta(days=rng.randint(1, 5))
            if status is CertificateStatus.ISSUED
            else None,
        )

    # --- writing ------------------------------------------------------------------------------------------

    async def flush(self, buffers: Buffers) -> None:
        """Hand one chunk to the bulk writer (models/bulk_load.py): parents first, one transaction."""
        assert self.writer is not None
        await self.writer.write(buffers, INSERT_ORDER)
        for name in INSERT_ORDER:
            self.counts[name] += len(buffers.get(name, ()))

    async def open_writer(self) -> None:
        async with self.sessions() as session:
            engine = session.bind
        assert isinstance(engine, AsyncEngine)
        self.writer = BulkWriter(engine, self.tables, defer_indexes=INSERT_ORDER[6:])
        await self.writer.open()

    def plan_history(self, start: int, stop: int) -> None:
        """The mean number of earlier records per volunteer for this chunk, so that the records written so
        far plus this chunk's come to ``records_per_volunteer`` × volunteers (corrects the sampling drift and
        the share ``add_history`` could not place)."""
        if self.records_per_volunteer is None:
            return
        natural = (self.counts["service_record"] - self.history_records) / start if start else NATURAL_RECORDS
        # volunteers without a team or free days get fewer than asked: ask for more by the shortfall seen so far
        made = self.history_records / self.history_planned if self.history_planned else 1.0
        owed = self.records_per_volunteer * stop - self.counts["service_record"]
        self.extra_mean = max(0.0, owed / (stop - start) - natural) / max(made, 0.5)

    async def run(self, progress: bool) -> None:
        """Generate and write ``VOLUNTEER_CHUNK`` volunteers at a time; the first chunk carries the rest.

        On SQLite the writer inserts a chunk in its thread while the next one is generated.
        """
        started = time.perf_counter()
        with tqdm(
            total=self.volunteers, unit="vol", desc="demo data", disable=not progress, mininterval=2
        ) as bar:
            for start in range(0, self.volunteers, VOLUNTEER_CHUNK):
                stop = min(start + VOLUNTEER_CHUNK, self.volunteers)
                self.plan_history(start, stop)
                buffers: Buffers = defaultdict(list, self.static)
                for index in range(start, stop):
                    self.add_volunteer(index, buffers)
                if start == 0:
                    self.add_accounts(buffers)
                    self.static = defaultdict(list)
                await self.flush(buffers)
                rows = sum(self.counts.values())
                bar.set_postfix_str(
                    f"{rows:,} rows, {self.counts['service_record']:,} records, "
                    f"{rows / (time.perf_counter() - started):,.0f} rows/s",
                    refresh=False,
                )
                bar.update(stop - start)

    async def count_places(self) -> None:
        """Each post's held places (PENDING + ACCEPTED sign-ups), as the sign-up mutation keeps them."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE post SET taken = (SELECT count(*) FROM sign_up WHERE sign_up.post_id = post.id"
                    " AND sign_up.status IN ('PENDING', 'ACCEPTED'))"
                )
            )

    async def reset_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids assigned here, so later inserts work."""
        async with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name != "postgresql":
                return
            for name in INSERT_ORDER:
                if self.counts[name]:
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    await session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))"))


async def generate_demo(
    sessions: SessionFactory,
    cipher: PiiCipher,
    password_hash: Callable[[str], str],
    volunteers: int = 2000,
    seed: int = 20210317,
    progress: bool = True,
    records_per_volunteer: float | None = None,
) -> dict[str, int]:
    """Fill an empty database with demo data; returns the rows inserted per table.

    ``password_hash`` hashes the demo accounts' password (argon2 in the app). ``records_per_volunteer``
    (benchmark tiers) adds earlier service records (``add_history``) until the service records come to that
    many per volunteer on average; without it a volunteer has only the ~1.9 records of their sign-ups.
    Raises ``RuntimeError`` when volunteers or demo accounts already exist, or the region table lacks the
    required codes.
    """
    if volunteers < 10:
        raise ValueError("generate at least 10 volunteers")
    if records_per_volunteer is not None and not 0 <= records_per_volunteer <= 200:
        raise ValueError("records per volunteer must lie between 0 and 200")
    generator = _Generator(sessions, cipher, password_hash, volunteers, seed, records_per_volunteer)
    await generator.prepare()
    await generator.open_writer()
    assert generator.writer is not None
    try:
        await generator.build_organisations()
        await generator.run(progress)
    finally:
        await generator.writer.close()
    if progress and generator.writer.dropped:
        seconds = generator.writer.index_seconds
        print(f"{len(generator.writer.dropped)} secondary indexes built in {seconds:.1f} s", file=sys.stderr)
    await generator.count_places()
    await generator.reset_sequences()
    return dict(generator.counts)
