"""Deterministic demo data: volunteers, teams, projects, sign-ups, attendance, records, certificates, accounts.

``generate_demo`` fills an empty database (the ``region`` table loaded, no volunteers) with a realistic,
internally consistent data set in a few counties of 山东, 浙江, 北京, 广东 and 四川, always including 历下区
(370102, 济南) and 西湖区 (330106, 杭州) where the demo accounts of ``DEMO_ACCOUNTS`` look.

How it stays fast and bounded at a million volunteers:

* ids are assigned in Python (from ``max(id) + 1`` of each table), so children reference parents without
  round trips, and rows go in with SQLAlchemy Core ``executemany`` in slices of ``CHUNK_ROWS``;
* teams, projects and posts (about 1 team per 40 volunteers) are kept in memory; volunteers and everything
  below them are generated and written ``VOLUNTEER_CHUNK`` volunteers at a time, one transaction per chunk,
  and then dropped (only a set of issued ID-number prefixes is kept, to keep them unique);
* on PostgreSQL the id sequences are moved past the inserted ids at the end.

Determinism: one ``random.Random(seed)`` drives every choice and every timestamp is derived from the fixed
``DEMO_TODAY``; the same seed gives the same rows. The only exception is the PII ciphertext, because
``PiiCipher.encrypt`` draws a random nonce by design (the blind indexes are deterministic).
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from sqlalchemy import Table, func, insert, or_, select, text
from sqlmodel import SQLModel
from tqdm import tqdm  # type: ignore[import-untyped]

import models  # noqa: F401  (registers every table in SQLModel.metadata)
from models.db import SessionFactory
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

DEMO_PASSWORD = "Demo@2026zy"
DEMO_TODAY = date(2026, 11, 1)
"""The generator's "today": records lie before it, later projects are still open."""
CHUNK_ROWS = 5000
VOLUNTEER_CHUNK = 2500
INSERT_ORDER = (
    "account",
    "team",
    "role_grant",
    "project",
    "post",
    "sign_in_point",
    "volunteer",
    "team_membership",
    "sign_up",
    "attendance",
    "service_record",
    "certificate",
)
PROVINCE_WEIGHTS = {"37": 3.0, "33": 2.0, "44": 2.0, "51": 2.0, "11": 1.5}
PROVINCE_CENTRES = {
    "37": (36.67, 117.02),
    "33": (30.27, 120.15),
    "11": (39.90, 116.40),
    "44": (23.13, 113.26),
    "51": (30.66, 104.07),
}
PROVINCE_PHONE_AREAS = {"37": "0531", "33": "0571", "11": "010", "44": "020", "51": "028"}
REQUIRED_REGIONS = {"370000000000": 1, "370100000000": 2, "370102000000": 3, "330106000000": 3}
LIXIA, XIHU = "370102000000", "330106000000"


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in account created by the generator; all share ``DEMO_PASSWORD``."""

    username: str
    password: str
    description: str
    role: Role | None = None
    region_code: str | None = None
    can_reveal: bool = False
    legacy: bool = False


_ADMIN = Role.REGION_ADMIN
DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("demo_ministry", DEMO_PASSWORD, "民政部: MINISTRY_ADMIN, nationwide", Role.MINISTRY_ADMIN),
    DemoAccount(
        "demo_shandong", DEMO_PASSWORD, "山东省: REGION_ADMIN, can reveal PII", _ADMIN, "370000000000", True
    ),
    DemoAccount("demo_jinan", DEMO_PASSWORD, "济南市: REGION_ADMIN", _ADMIN, "370100000000"),
    DemoAccount("demo_lixia", DEMO_PASSWORD, "历下区: REGION_ADMIN", _ADMIN, LIXIA),
    DemoAccount("demo_xihu", DEMO_PASSWORD, "西湖区: REGION_ADMIN", _ADMIN, XIHU),
    DemoAccount(
        "demo_team", DEMO_PASSWORD, "队伍管理员: TEAM_ADMIN of the first 历下区 team", Role.TEAM_ADMIN
    ),
    DemoAccount("demo_volunteer", DEMO_PASSWORD, "志愿者: a 历下区 volunteer with records, a certificate"),
    DemoAccount("mz_legacy01", DEMO_PASSWORD, "迁移账号: legacy md5 hash, a 西湖区 volunteer", legacy=True),
]

_SURNAMES = ["王725", "李719", "张683", "刘538", "陈453", "杨308", "黄223", "赵217", "吴205", "周193", "徐170", "孙160", "马150", "朱140", "胡130", "郭120", "何110", "高105", "林100", "罗90", "郑85", "梁80", "谢75", "宋70", "唐65", "许60", "韩60", "冯55", "邓55", "曹50", "彭50", "曾48", "肖46", "田44", "董42", "袁40", "潘38", "于38", "蒋37", "蔡36", "余35", "杜34", "叶33", "程32", "苏31", "魏30", "吕30", "丁29", "任28", "沈27", "姚26", "卢26", "姜25", "崔25", "钟24", "谭23", "陆22", "汪21", "范20", "金20", "石20", "廖19", "贾19", "夏18", "韦18", "付17", "方17", "白16", "邹16", "孟15", "熊15", "秦14", "邱14", "江14", "尹13", "薛13", "闫12", "段12", "雷12", "侯11", "龙11", "史11", "陶10", "黎10", "贺10", "顾9", "毛9", "郝9", "龚8", "邵8", "万8", "钱8", "严7", "覃7", "武7", "戴7", "莫6", "孔6", "向6", "汤6", "欧阳3", "司马1", "诸葛1", "上官1"]
SURNAMES = [entry.rstrip("0123456789") for entry in _SURNAMES]
SURNAME_CUM_WEIGHTS = list(
    accumulate(int(entry[len(name) :]) for entry, name in zip(_SURNAMES, SURNAMES, strict=True))
)
AGE_BANDS = [(8, 13), (14, 17), (18, 25), (26, 35), (36, 45), (46, 60), (61, 80)]
AGE_CUM_WEIGHTS = list(accumulate([1.5, 3.5, 20, 22, 18, 22, 13]))
GIVEN = {
    Sex.MALE: "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国文志海东博晨阳轩睿泽宸诺航",
    Sex.FEMALE: "芳娜敏静丽艳娟霞秀英玲桂兰婷雪慧琳颖倩洁琴云欣怡梦佳萱雨涵诗悦晓月思彤瑶蕾薇璐莉梅红燕晶嘉",
}
RARE_CHARS = "堃喆犇淼昇甯䶮𠮷玥珺祎翀赟垚燊龑"  # 䶮 is CJK extension A, 𠮷 extension B (outside the BMP)
MINORITY_GIVEN = {
    Sex.MALE: ["艾力", "买买提", "阿不都", "努尔", "吐尔逊", "艾尔肯", "阿力木"],
    Sex.FEMALE: ["阿依古丽", "迪丽娜尔", "古丽巴哈尔", "帕提古丽", "热娜", "米热古丽"],
}
MINORITY_FATHER = ["买买提", "热合曼", "阿不都拉", "吐尔逊", "艾则孜", "伊力", "司马义", "克里木"]
SKILLS = ["急救", "心理疏导", "法律咨询", "文艺演出", "摄影摄像", "外语翻译", "手语", "计算机", "驾驶", "医疗护理", "课业辅导", "应急救援", "环保宣传", "活动策划", "体育指导", "书法绘画", "老年照护", "助残服务", "垃圾分类指导", "普通话讲解"]
AVAILABILITY = ["周末全天", "工作日晚上", "节假日", "周六上午", "周日下午", "寒暑假", "随时", "每月一次"]
TEAM_WORDS = ["阳光", "红烛", "春风", "爱心", "青年", "暖阳", "同心", "雷锋", "蒲公英", "向日葵", "银发", "邻里", "彩虹", "启明星", "绿色家园", "守望", "知行", "心连心", "泉城", "西子"]
LEGAL_SUFFIXES = ["志愿者协会", "志愿服务中心", "公益服务社", "志愿服务联合会"]
GROUP_SUFFIXES = ["志愿服务队", "志愿服务小分队", "志愿者服务站"]
PROJECTS: dict[ProjectCategory, list[str]] = {
    ProjectCategory.COMMUNITY: ["邻里守望社区关爱行动", "社区文明劝导", "楼道清洁日", "便民服务站值守"],
    ProjectCategory.POVERTY_RELIEF: ["乡村振兴助农直播", "困难家庭结对帮扶", "爱心助农集市"],
    ProjectCategory.EDUCATION: ["周末课业辅导", "留守儿童陪伴成长", "图书馆阅读推广"],
    ProjectCategory.HEALTH: ["无偿献血宣传", "社区义诊", "急救知识普及"],
    ProjectCategory.ENVIRONMENT: ["河湖巡护", "垃圾分类宣传", "植树护绿"],
    ProjectCategory.EMERGENCY: ["防汛应急值守", "森林防火宣传", "应急救护培训"],
    ProjectCategory.CULTURE: ["文化馆讲解服务", "非遗展演", "社区文艺汇演"],
    ProjectCategory.SPORTS: ["全民健身指导", "社区运动会", "青少年足球赛服务"],
    ProjectCategory.LEGAL_AID: ["法律咨询进社区", "反诈宣传", "普法宣传周"],
    ProjectCategory.SCIENCE: ["科技馆讲解", "科普进校园", "青少年科创营"],
    ProjectCategory.ELDERLY_DISABLED: ["敬老院陪伴", "助残送温暖", "银龄智能手机教学"],
    ProjectCategory.LARGE_EVENT: ["博览会志愿服务", "城市马拉松赛会保障", "城市志愿服务站"],
    ProjectCategory.OTHER: ["交通文明引导", "节日慰问", "文明旅游劝导"],
}
POST_NAMES = ["现场引导", "秩序维护", "物资发放", "信息登记", "后勤保障", "宣传讲解", "医疗保障", "摄影记录"]
TARGETS = ["社区居民", "老年人", "青少年", "残障人士", "困难家庭", "游客", "参赛选手", "全体市民"]
ROADS = ["人民路", "解放路", "建设路", "和平路", "文化路", "中山路", "胜利街", "青年路"]
GUARANTEES = ["提供饮用水和午餐", "提供志愿者保险及交通补贴", "提供服装和防暑用品", ""]
CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(slots=True)
class _County:
    code: str
    name: str
    province: str
    prefecture: str
    townships: list[tuple[str, str]]
    weight: float
    lat: float
    lng: float
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
    min_age: int | None
    max_age: int | None
    requires_approval: bool
    requires_attendance: bool
    point: tuple[float, float]
    posts: list[_Post]


def _at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _tables() -> dict[str, Table]:
    return {name: SQLModel.metadata.tables[name] for name in (*INSERT_ORDER, "region")}


class _Generator:
    """Holds the random stream, the id counters and the in-memory organisations of one run."""

    def __init__(
        self,
        sessions: SessionFactory,
        cipher: PiiCipher,
        password_hash: Callable[[str], str],
        volunteers: int,
        seed: int,
    ) -> None:
        self.sessions, self.cipher, self.password_hash = sessions, cipher, password_hash
        self.volunteers = volunteers
        self.rng = random.Random(seed)
        self.tables = _tables()
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = dict.fromkeys(INSERT_ORDER, 0)
        self.counties: list[_County] = []
        self.cum_weights: list[float] = []
        self.teams: list[_Team] = []
        self.province_joinable: dict[str, list[_Team]] = defaultdict(list)
        self.account_ids: dict[str, int] = {}
        self.id_keys: set[int] = set()
        self.county_seq: dict[str, int] = defaultdict(int)
        self.credit_codes: set[str] = set()
        self.certificate_seq = 0
        self.static: dict[str, list[Row]] = defaultdict(list)

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    # --- preparation ------------------------------------------------------------------------------------

    async def prepare(self) -> None:
        async with self.sessions() as session:
            volunteer = self.tables["volunteer"]
            if (await session.execute(select(volunteer.c.id).limit(1))).first() is not None:
                raise RuntimeError(
                    "volunteers already exist: demo data is only loaded into an empty database"
                )
            account = self.tables["account"]
            names = [a.username for a in DEMO_ACCOUNTS]
            taken = await session.execute(select(account.c.username).where(account.c.username.in_(names)))
            if clash := sorted(taken.scalars()):
                raise RuntimeError(f"demo accounts already exist: {', '.join(clash)}")
            for name in INSERT_ORDER:
                table = self.tables[name]
                top = (await session.execute(select(func.max(table.c.id)))).scalar_one()
                self.next_id[name] = int(top or 0) + 1
            region = self.tables["region"]
            bounds = [region.c.code.between(f"{p}0000000000", f"{p}9999999999") for p in PROVINCE_WEIGHTS]
            query = select(region.c.code, region.c.name, region.c.level, region.c.parent_code)
            rows = (await session.execute(query.where(region.c.retired_year.is_(None), or_(*bounds)))).all()
        self.build_counties([(str(c), str(n), int(lv), p) for c, n, lv, p in rows])
        self.account_ids = {a.username: self.new_id("account") for a in DEMO_ACCOUNTS}

    def build_counties(self, rows: list[tuple[str, str, int, str | None]]) -> None:
        levels = {code: level for code, _, level, _ in rows}
        missing = [code for code, level in REQUIRED_REGIONS.items() if levels.get(code) != level]
        if missing:
            raise RuntimeError(
                f"the region table lacks current codes {', '.join(missing)}: load the regions first "
                "(models.region_seed.load_regions)"
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
            counties = by_province.get(province)
            if not counties:
                raise RuntimeError(f"the region table has no current county in province {province}")
            featured = [c for c in counties if c[0] in (LIXIA, XIHU)]
            others = [c for c in counties if c not in featured]
            chosen = featured + rng.sample(others, min(len(others), per_province - len(featured)))
            centre_lat, centre_lng = PROVINCE_CENTRES[province]
            for code, parent in chosen:
                boost = 3.0 if code in (LIXIA, XIHU) else 1.0
                self.counties.append(
                    _County(
                        code,
                        names[code],
                        province,
                        names.get(parent or "", ""),
                        townships.get(code, []),
                        weight / len(chosen) * boost,
                        round(centre_lat + rng.uniform(-0.6, 0.6), 5),
                        round(centre_lng + rng.uniform(-0.6, 0.6), 5),
                    )
                )
        self.counties.sort(key=lambda c: (c.code != LIXIA, c.code != XIHU))
        total = 0.0
        for county in self.counties:
            total += county.weight
            self.cum_weights.append(total)

    def pick_county(self) -> _County:
        return self.rng.choices(self.counties, cum_weights=self.cum_weights)[0]

    # --- people ---------------------------------------------------------------------------------------------

    def person_name(self, sex: Sex) -> str:
        rng = self.rng
        if rng.random() < 0.005:
            return f"{rng.choice(MINORITY_GIVEN[sex])}·{rng.choice(MINORITY_FATHER)}"
        surname = rng.choices(SURNAMES, cum_weights=SURNAME_CUM_WEIGHTS)[0]
        pool = GIVEN[sex]
        given = "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.35 else 2))
        if rng.random() < 0.01:
            given = given[:-1] + rng.choice(RARE_CHARS)
        return surname + given

    def phone(self) -> str:
        return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"

    def moment(self, low: datetime, high: datetime) -> datetime:
        """A whole second in [low, high)."""
        return low + timedelta(seconds=self.rng.randrange(max(1, int((high - low).total_seconds()))))

    def resident_id(self, area6: str, birth: date, sex: Sex) -> str:
        for attempt in range(1000):
            number = make_resident_id(
                area6, birth + timedelta(days=attempt // 20), self.rng.randrange(500), sex
            )
            key = int(number[:17])
            if key not in self.id_keys:
                self.id_keys.add(key)
                return number
        raise RuntimeError(f"no free resident ID number near {area6} {birth}")  # pragma: no cover

    # --- organisations ------------------------------------------------------------------------------------

    def build_organisations(self) -> None:
        rng = self.rng
        n_teams = max(6, len(self.counties), self.volunteers // 40)
        homes = self.counties + [self.pick_county() for _ in range(n_teams - len(self.counties))]
        for index, county in enumerate(homes):
            self.add_team(county, first=not county.teams, featured=index == 0)
        for team in self.teams:
            count = 4 if team is self.teams[0] else rng.choice((1, 2, 3, 3, 4, 5))
            for number in range(count):
                self.add_project(team, featured=team is self.teams[0] and number < 2)

    def add_team(self, county: _County, *, first: bool, featured: bool) -> None:
        rng = self.rng
        team_id = self.new_id("team")
        legal = first or rng.random() < 0.75
        township = county.townships and not featured and rng.random() < 0.4
        region_code, place = rng.choice(county.townships) if township else (county.code, county.name)
        verification = rng.choices(list(TeamVerification), weights=(8, 88, 4))[0]
        status = rng.choices(list(TeamStatus), weights=(96, 2, 2))[0]
        if featured:
            verification, status = TeamVerification.APPROVED, TeamStatus.ACTIVE
        credit_code = None
        if legal:
            while credit_code is None or credit_code in self.credit_codes:
                org9 = "MJ" + "".join(rng.choice("0123456789ABCDEFGH") for _ in range(7))
                credit_code = make_credit_code("5", rng.choice("1222223"), county.code[:6], org9)
            self.credit_codes.add(credit_code)
        legal_teams = [t for t in county.teams if t.legal]
        contact_team = None if legal else rng.choice([t for t in legal_teams if t.joinable] or legal_teams)
        person = self.person_name(rng.choice((Sex.MALE, Sex.FEMALE)))
        area = PROVINCE_PHONE_AREAS.get(county.province, "010")
        team = _Team(
            team_id,
            county,
            region_code,
            person,
            f"{area}-{rng.randint(6000_0000, 8999_9999)}",
            legal,
            verification is TeamVerification.APPROVED and status is TeamStatus.ACTIVE,
        )
        suffix = rng.choice(LEGAL_SUFFIXES if legal else GROUP_SUFFIXES)
        since = 2012 + rng.randrange(7)
        self.static["team"].append(
            {
                "id": team_id,
                "name": f"{place}{rng.choice(TEAM_WORDS)}{suffix}",
                "team_type": (TeamType.LEGAL_PERSON if legal else TeamType.UNREGISTERED_GROUP).value,
                "credit_code": credit_code,
                "contact_team_id": contact_team.id if contact_team else None,
                "region_code": region_code,
                "verification_status": verification.value,
                "status": status.value,
                "person_in_charge": person,
                "contact_name": self.person_name(Sex.FEMALE),
                "contact_phone_enc": self.cipher.encrypt(self.phone(), "team.contact_phone"),
                "description": f"成立于{since}年，主要在{county.name}开展社区服务、扶老助残、文明实践等志愿服务活动。",
                "created_at": self.moment(_at(date(since, 1, 1)), _at(date(since, 12, 31))),
            }
        )
        self.teams.append(team)
        county.teams.append(team)
        if team.joinable:
            county.joinable.append(team)
            self.province_joinable[county.province].append(team)

    def project_status(self, team: _Team, ends_at: datetime) -> ProjectStatus:
        if not team.joinable:
            return self.rng.choice((ProjectStatus.DRAFT, ProjectStatus.SUBMITTED))
        roll = self.rng.random()
        if roll < 0.08:
            return (ProjectStatus.CANCELLED, ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)[
                int(roll * 100) % 3
            ]
        return ProjectStatus.CLOSED if ends_at.date() < DEMO_TODAY else ProjectStatus.PUBLISHED

    def add_project(self, team: _Team, *, featured: bool) -> None:
        rng, county = self.rng, team.county
        project_id = self.new_id("project")
        category = ProjectCategory.COMMUNITY if featured else rng.choice(list(ProjectCategory))
        first_day = date(2025, 3, 1) if featured else date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        length = rng.choice((0, 1, 2, 6, 13, 29, 59, 89, 119)) if not featured else 180
        starts_at, ends_at = _at(first_day), _at(first_day + timedelta(days=length), 10)  # 08:00-18:00 +08:00
        status = ProjectStatus.CLOSED if featured else self.project_status(team, ends_at)
        scope = SignUpScope.PUBLIC if featured else rng.choices(list(SignUpScope), weights=(70, 20, 10))[0]
        name = f"{county.name}{rng.choice(PROJECTS[category])}"
        min_age = None if featured else rng.choices((None, 14, 16, 18), weights=(60, 15, 5, 20))[0]
        created_at = starts_at - timedelta(days=rng.randint(10, 60), seconds=rng.randrange(86400))
        opened = status in (ProjectStatus.PUBLISHED, ProjectStatus.CLOSED)
        point = (
            round(county.lat + rng.uniform(-0.05, 0.05), 6),
            round(county.lng + rng.uniform(-0.05, 0.05), 6),
        )
        project = _Project(
            project_id,
            team,
            name,
            category.value,
            starts_at,
            ends_at,
            min_age,
            None if featured else rng.choices((None, 60, 65, 70), weights=(80, 5, 10, 5))[0],
            False if featured else rng.random() < 0.3,
            featured or rng.random() < 0.9,
            point,
            [],
        )
        self.static["project"].append(
            {
                "id": project_id,
                "team_id": team.id,
                "region_code": team.region_code,
                "name": name,
                "category": category.value,
                "service_target": rng.choice(TARGETS),
                "address": f"{county.prefecture}{county.name}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                "description": f"{name}：面向{rng.choice(TARGETS)}开展志愿服务，欢迎报名参加。",
                "starts_at": starts_at,
                "ends_at": ends_at,
                "min_age": project.min_age,
                "max_age": project.max_age,
                "insured": category is ProjectCategory.EMERGENCY or rng.random() < 0.5,
                "guarantees": rng.choice(
                    ("提供饮用水和午餐", "提供志愿者保险及交通补贴", "提供服装和防暑用品", "")
                ),
                "signup_scope": scope.value,
                "signup_region_code": county.code if scope is SignUpScope.REGION else None,
                "requires_approval": project.requires_approval,
                "requires_attendance": project.requires_attendance,
                "status": status.value,
                "created_at": created_at,
                "published_at": created_at + timedelta(days=rng.randint(1, 5)) if opened else None,
            }
        )
        for post_name in rng.sample(POST_NAMES, 3 if featured else rng.randint(1, 3)):
            post = _Post(self.new_id("post"), post_name, 50 if featured else rng.randint(5, 50))
            project.posts.append(post)
            self.static["post"].append(
                {
                    "id": post.id,
                    "project_id": project_id,
                    "team_id": team.id,
                    "region_code": team.region_code,
                    "name": post_name,
                    "description": f"负责{post_name}相关工作",
                    "quota": post.quota,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                }
            )
        for number in range(1 if rng.random() < 0.8 else 2):
            lat, lng = point if number == 0 else (point[0] + 0.002, point[1] + 0.002)
            self.static["sign_in_point"].append(
                {
                    "id": self.new_id("sign_in_point"),
                    "project_id": project_id,
                    "team_id": team.id,
                    "region_code": team.region_code,
                    "name": ("主会场", "东门签到点")[number],
                    "latitude": lat,
                    "longitude": lng,
                    "radius_m": rng.choice((100, 200, 300, 500)),
                }
            )
        if opened:
            team.open_projects.append(project)
            if scope is not SignUpScope.TEAM_MEMBERS:
                county.public_projects.append(project)

    # --- accounts -------------------------------------------------------------------------------------------

    def add_accounts(self, volunteers: list[Row], buffers: dict[str, list[Row]]) -> None:
        """Demo accounts and grants; ``volunteers[0]`` and ``[1]`` are the linked volunteers."""
        team = self.teams[0]
        salt = f"{self.rng.getrandbits(32):08x}"
        linked = {"demo_volunteer": volunteers[0]["name"], "mz_legacy01": volunteers[1]["name"]}
        for offset, demo in enumerate(DEMO_ACCOUNTS):
            account_id = self.account_ids[demo.username]
            if demo.legacy:
                digest = hashlib.md5((salt + demo.password).encode()).hexdigest()  # the old system's scheme
                password_hash = f"legacy$md5${salt}${digest}"
            else:
                password_hash = self.password_hash(demo.password)
            buffers["account"].append(
                {
                    "id": account_id,
                    "username": demo.username,
                    "password_hash": password_hash,
                    "display_name": linked.get(demo.username, demo.description.split(":")[0]),
                    "status": AccountStatus.ACTIVE.value,
                    "is_legacy": demo.legacy,
                    "created_at": _at(date(2018 if demo.legacy else 2021, 3, 17), 1, offset),
                    "last_login_at": None,
                    "created_by_id": None,
                }
            )
            if demo.role is None:
                continue
            team_grant = demo.role is Role.TEAM_ADMIN
            buffers["role_grant"].append(
                {
                    "id": self.new_id("role_grant"),
                    "account_id": account_id,
                    "role": demo.role.value,
                    "region_code": team.region_code if team_grant else demo.region_code,
                    "team_id": team.id if team_grant else None,
                    "can_reveal": demo.can_reveal,
                    "granted_by_id": None,
                    "granted_at": _at(date(2021, 3, 17), 2, offset),
                    "revoked_at": None,
                }
            )

    # --- volunteers and their activity ------------------------------------------------------------------

    def add_volunteer(self, index: int, buffers: dict[str, list[Row]]) -> None:
        rng = self.rng
        featured = index == 0
        county = self.counties[0] if featured else self.counties[1] if index == 1 else self.pick_county()
        sex = Sex.FEMALE if rng.random() < 0.55 else Sex.MALE
        years = 32 if index < 2 else rng.randint(*rng.choices(AGE_BANDS, cum_weights=AGE_CUM_WEIGHTS)[0])
        birth = date.fromordinal(DEMO_TODAY.toordinal() - int(years * 365.25) - rng.randrange(365))
        number = self.resident_id(county.code[:6], birth, sex)
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        township = county.townships and rng.random() < 0.75
        region_code = rng.choice(county.townships)[0] if township else county.code
        roll = rng.random()
        residence = region_code if roll < 0.8 else None if roll < 0.88 else county.code
        earliest = max(_at(date(2019, 1, 1)), _at(birth + timedelta(days=int(8 * 365.25))))
        latest = _at(date(2024, 12, 31)) if earliest < _at(date(2024, 6, 30)) else _at(DEMO_TODAY)
        created_at = self.moment(earliest, latest)
        phone = self.phone()
        minor = (DEMO_TODAY - birth).days < 18 * 365.25
        self.county_seq[county.code[:6]] += 1
        volunteer_id = self.new_id("volunteer")
        account = {0: "demo_volunteer", 1: "mz_legacy01"}.get(index)
        row: Row = {
            "id": volunteer_id,
            "account_id": self.account_ids[account] if account else None,
            "volunteer_number": make_volunteer_number(region_code, self.county_seq[county.code[:6]]),
            "name": self.person_name(sex),
            "id_type": IdType.RESIDENT_ID.value,
            "id_number_enc": self.cipher.encrypt(number, "volunteer.id_number"),
            "id_number_hash": self.cipher.blind_index(number),
            "birth_date": birth,
            "sex": sex.value,
            "phone_enc": self.cipher.encrypt(phone, "volunteer.phone"),
            "phone_hash": self.cipher.blind_index(phone),
            "real_name_status": RealNameStatus.PASSED.value
            if index < 2
            else rng.choices(list(RealNameStatus), weights=(1, 4, 92, 1, 2))[0].value,
            "region_code": region_code,
            "residence_region_code": residence,
            "skills": rng.sample(SKILLS, rng.choice((0, 1, 1, 2, 2, 3))),
            "availability": "、".join(rng.sample(AVAILABILITY, rng.randint(1, 2))),
            "invite_consent": rng.choices(list(InviteConsent), weights=(70, 20, 10))[0].value,
            "guardian_name": None,
            "guardian_phone_enc": None,
            "guardian_consent_at": None,
            "no_show_count": 0,
            "created_at": created_at,
            "updated_at": self.moment(created_at, max(created_at + timedelta(days=1), _at(DEMO_TODAY))),
        }
        if minor:
            row["guardian_name"] = row["name"][0] + self.person_name(Sex.MALE)[1:]
            row["guardian_phone_enc"] = self.cipher.encrypt(self.phone(), "volunteer.guardian_phone")
            row["guardian_consent_at"] = created_at
        buffers["volunteer"].append(row)
        joined = self.add_memberships(row, county, featured, buffers)
        records = self.add_sign_ups(row, county, joined, featured, buffers)
        if featured and records:
            records.append(self.void_and_replace(records[0], buffers))
        self.add_certificate(row, records, featured, buffers)

    def add_memberships(
        self, volunteer: Row, county: _County, featured: bool, buffers: dict[str, list[Row]]
    ) -> list[_Team]:
        rng = self.rng
        if featured:
            teams = [self.teams[0]]
        else:
            roll, teams = rng.random(), []
            for _ in range(0 if roll < 0.12 else 1 if roll < 0.72 else 2):
                pool = county.joinable if county.joinable and rng.random() < 0.7 else None
                pool = pool or self.province_joinable.get(county.province)
                if pool and (team := rng.choice(pool)) not in teams:
                    teams.append(team)
        joined: list[_Team] = []
        for team in teams:
            status = (
                MembershipStatus.JOINED
                if featured
                else rng.choices(
                    (
                        MembershipStatus.JOINED,
                        MembershipStatus.APPLYING,
                        MembershipStatus.REJECTED,
                        MembershipStatus.LEFT,
                    ),
                    weights=(88, 7, 2, 3),
                )[0]
            )
            applied_at = volunteer["created_at"] + timedelta(seconds=rng.randrange(3 * 3600))
            joined_at = applied_at + timedelta(seconds=rng.randrange(20 * 3600))
            left_at = None
            if status is MembershipStatus.APPLYING:
                applied_at = max(
                    applied_at, self.moment(_at(DEMO_TODAY) - timedelta(days=30), _at(DEMO_TODAY))
                )
            if status is MembershipStatus.LEFT:
                left_at = min(joined_at + timedelta(days=rng.randint(30, 400)), _at(DEMO_TODAY))
            if status is MembershipStatus.JOINED:
                joined.append(team)
            buffers["team_membership"].append(
                {
                    "id": self.new_id("team_membership"),
                    "team_id": team.id,
                    "volunteer_id": volunteer["id"],
                    "region_code": team.region_code,
                    "status": status.value,
                    "role": (MemberRole.ADMIN if rng.random() < 0.02 else MemberRole.MEMBER).value,
                    "applied_at": applied_at,
                    "joined_at": joined_at
                    if status in (MembershipStatus.JOINED, MembershipStatus.LEFT)
                    else None,
                    "left_at": left_at,
                }
            )
        return joined

    def add_sign_ups(
        self,
        volunteer: Row,
        county: _County,
        joined: list[_Team],
        featured: bool,
        buffers: dict[str, list[Row]],
    ) -> list[Row]:
        """Sign-ups to projects of the volunteer's teams or open to the county; returns the records."""
        rng = self.rng
        if featured:
            candidates = self.teams[0].open_projects[:3]
        else:
            pool = {p.id: p for p in county.public_projects} if rng.random() < 0.5 else {}
            pool.update({p.id: p for team in joined for p in team.open_projects})
            candidates = list(pool.values())
        wanted = 3 if featured else rng.choices(range(7), weights=(15, 22, 20, 15, 12, 9, 7))[0]
        used_days: set[date] = set()
        records: list[Row] = []
        birth: date = volunteer["birth_date"]
        for project in rng.sample(candidates, min(wanted, len(candidates))):
            age = (project.starts_at.date() - birth).days / 365.25
            if (project.min_age or 0) > age or (project.max_age or 200) < age:
                continue
            post = rng.choice(project.posts)
            created_at = max(
                volunteer["created_at"] + timedelta(days=1),
                project.starts_at - timedelta(days=rng.randint(1, 20), seconds=rng.randrange(86400)),
            )
            if created_at >= project.ends_at:
                continue
            roll = rng.random()
            if post.accepted >= post.quota:
                status = SignUpStatus.WAITLISTED
            elif project.requires_approval and roll < 0.1 and project.ends_at.date() >= DEMO_TODAY:
                status = SignUpStatus.PENDING
            elif roll > 0.97 and not featured:
                status = SignUpStatus.CANCELLED
            else:
                status = SignUpStatus.ACCEPTED
                post.accepted += 1
            sign_up_id = self.new_id("sign_up")
            team = project.team
            buffers["sign_up"].append(
                {
                    "id": sign_up_id,
                    "post_id": post.id,
                    "project_id": project.id,
                    "team_id": team.id,
                    "volunteer_id": volunteer["id"],
                    "region_code": team.region_code,
                    "status": status.value,
                    "created_at": created_at,
                    "decided_at": created_at + timedelta(hours=rng.randint(1, 48))
                    if status is SignUpStatus.ACCEPTED
                    else None,
                }
            )
            if status is SignUpStatus.ACCEPTED:
                self.add_sessions(
                    volunteer, project, post, sign_up_id, created_at, used_days, featured, buffers, records
                )
        return records

    def add_sessions(
        self,
        volunteer: Row,
        project: _Project,
        post: _Post,
        sign_up_id: int,
        signed_up_at: datetime,
        used_days: set[date],
        featured: bool,
        buffers: dict[str, list[Row]],
        records: list[Row],
    ) -> None:
        """One to three service days of an accepted sign-up, each an attendance row and a record."""
        rng = self.rng
        low = max(project.starts_at.date(), signed_up_at.date() + timedelta(days=1)).toordinal()
        high = min(project.ends_at.date(), DEMO_TODAY - timedelta(days=1)).toordinal()
        if low > high:
            return
        if not featured and rng.random() < 0.04:
            volunteer["no_show_count"] += 1
            return
        team = project.team
        for _ in range(2 if featured else rng.choices((1, 2, 3), weights=(70, 20, 10))[0]):
            day = date.fromordinal(rng.randint(low, high))
            if day in used_days:
                continue
            used_days.add(day)
            started_at = _at(day, rng.randint(0, 6), rng.choice((0, 15, 30, 45)))  # 08:00-14:45 local
            minutes = rng.randint(6, 96) * 5
            ended_at = started_at + timedelta(minutes=minutes)
            provenance = RecordProvenance.ATTENDANCE
            if not featured and (not project.requires_attendance or rng.random() < 0.1):
                provenance = rng.choice(
                    (RecordProvenance.MANUAL, RecordProvenance.MANUAL, RecordProvenance.BULK_IMPORT)
                )
            attendance_id = None
            if provenance is RecordProvenance.ATTENDANCE:
                attendance_id = self.new_id("attendance")
                method = rng.choices(list(AttendanceMethod), weights=(50, 40, 10))[0]
                gps = method is AttendanceMethod.GPS
                buffers["attendance"].append(
                    {
                        "id": attendance_id,
                        "sign_up_id": sign_up_id,
                        "volunteer_id": volunteer["id"],
                        "project_id": project.id,
                        "team_id": team.id,
                        "region_code": team.region_code,
                        "method": method.value,
                        "status": AttendanceStatus.CLOSED.value,
                        "check_in_at": started_at,
                        "check_out_at": ended_at,
                        "check_in_lat": round(project.point[0] + rng.uniform(-0.0008, 0.0008), 6)
                        if gps
                        else None,
                        "check_in_lng": round(project.point[1] + rng.uniform(-0.0008, 0.0008), 6)
                        if gps
                        else None,
                        "correction_reason": "现场网络故障，由管理员补签"
                        if method is AttendanceMethod.MANUAL
                        else None,
                    }
                )
            status = RecordStatus.CONFIRMED
            if not featured:
                status = rng.choices(
                    (RecordStatus.CONFIRMED, RecordStatus.PENDING, RecordStatus.DECLINED), weights=(92, 6, 2)
                )[0]
            created_at = ended_at + (
                timedelta(minutes=rng.randint(1, 120))
                if attendance_id
                else timedelta(days=rng.randint(1, 10))
            )
            record: Row = {
                "id": self.new_id("service_record"),
                "volunteer_id": volunteer["id"],
                "team_id": team.id,
                "project_id": project.id,
                "attendance_id": attendance_id,
                "region_code": team.region_code,
                "category": project.category,
                "service_date": day,
                "started_at": started_at,
                "ended_at": ended_at,
                "hours": (Decimal(minutes) / 60).quantize(Decimal("0.01")),
                "content": f"{project.name}：{post.name}"[:500],
                "provenance": provenance.value,
                "status": status.value,
                "recorder_id": None,
                "replaces_id": None,
                "void_reason": None,
                "created_at": created_at,
                "confirmed_at": created_at + timedelta(hours=rng.randint(1, 72))
                if status is RecordStatus.CONFIRMED
                else None,
            }
            buffers["service_record"].append(record)
            records.append(record)

    def void_and_replace(self, record: Row, buffers: dict[str, list[Row]]) -> Row:
        """A correction: the record is voided and a replacement with shorter hours points back at it."""
        replacement = dict(record)
        record["status"] = RecordStatus.VOIDED.value
        record["void_reason"] = "签退时间登记有误，已按实际服务时间更正"
        minutes = max(30, int(record["hours"] * 60) - 30)
        replacement.update(
            {
                "id": self.new_id("service_record"),
                "replaces_id": record["id"],
                "ended_at": record["started_at"] + timedelta(minutes=minutes),
                "hours": (Decimal(minutes) / 60).quantize(Decimal("0.01")),
                "created_at": record["created_at"] + timedelta(days=3),
                "confirmed_at": record["created_at"] + timedelta(days=3, hours=2),
            }
        )
        buffers["service_record"].append(replacement)
        return replacement

    def add_certificate(
        self, volunteer: Row, records: list[Row], featured: bool, buffers: dict[str, list[Row]]
    ) -> None:
        """A certificate over the confirmed hours with one team, for a few volunteers."""
        rng = self.rng
        confirmed = [r for r in records if r["status"] == RecordStatus.CONFIRMED.value]
        if not confirmed or not (featured or rng.random() < 0.03):
            return
        team_id = confirmed[0]["team_id"]
        mine = [r for r in confirmed if r["team_id"] == team_id]
        status = (
            CertificateStatus.ISSUED
            if featured
            else rng.choices(
                (CertificateStatus.ISSUED, CertificateStatus.REQUESTED, CertificateStatus.REJECTED),
                weights=(75, 20, 5),
            )[0]
        )
        last_day = max(r["service_date"] for r in mine)
        requested_at = self.moment(_at(last_day + timedelta(days=1)), _at(DEMO_TODAY + timedelta(days=1)))
        total = sum((r["hours"] for r in mine), Decimal("0"))
        self.certificate_seq += 1
        team = self.team_by_id(team_id)
        buffers["certificate"].append(
            {
                "id": self.new_id("certificate"),
                "number": f"ZY2026-{self.certificate_seq:08d}",
                "volunteer_id": volunteer["id"],
                "team_id": team_id,
                "region_code": mine[0]["region_code"],
                "period_start": min(r["service_date"] for r in mine),
                "period_end": last_day,
                "total_hours": total,
                "content": f"参加志愿服务{len(mine)}次，累计服务时长{total}小时。",
                "status": status.value,
                "person_in_charge": team.person_in_charge,
                "handler_name": self.person_name(Sex.FEMALE),
                "contact": team.contact,
                "verification_code": "".join(rng.choice(CODE_CHARS) for _ in range(8)),
                "signature": None,
                "requested_at": requested_at,
                "issued_at": requested_at + timedelta(days=rng.randint(1, 5))
                if status is CertificateStatus.ISSUED
                else None,
                "revoked_at": None,
                "revoke_reason": None,
            }
        )

    def team_by_id(self, team_id: int) -> _Team:
        return self.teams[team_id - self.teams[0].id]

    # --- writing ----------------------------------------------------------------------------------------------

    async def flush(self, buffers: dict[str, list[Row]]) -> None:
        async with self.sessions() as session, session.begin():
            for name in INSERT_ORDER:
                rows = buffers.get(name, [])
                for start in range(0, len(rows), CHUNK_ROWS):
                    await session.execute(insert(self.tables[name]), rows[start : start + CHUNK_ROWS])
                self.counts[name] += len(rows)

    async def run(self, progress: bool) -> None:
        with tqdm(total=self.volunteers, unit="vol", desc="demo data", disable=not progress) as bar:
            for start in range(0, self.volunteers, VOLUNTEER_CHUNK):
                buffers: dict[str, list[Row]] = defaultdict(list)
                if start == 0:
                    buffers.update(self.static)
                stop = min(start + VOLUNTEER_CHUNK, self.volunteers)
                for index in range(start, stop):
                    self.add_volunteer(index, buffers)
                if start == 0:
                    self.add_accounts(buffers["volunteer"], buffers)
                    self.static.clear()
                await self.flush(buffers)
                bar.update(stop - start)

    async def reset_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids we assigned."""
        async with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name != "postgresql":
                return
            for name in INSERT_ORDER:
                if self.counts[name]:
                    await session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                        )
                    )


async def generate_demo(
    sessions: SessionFactory,
    cipher: PiiCipher,
    password_hash: Callable[[str], str],
    volunteers: int = 2000,
    seed: int = 20210317,
    progress: bool = True,
) -> dict[str, int]:
    """Fill an empty database with demo data; returns the rows inserted per table.

    Raises ``RuntimeError`` when volunteers already exist or the region table lacks the required codes.
    """
    if volunteers < 10:
        raise ValueError("generate at least 10 volunteers")
    generator = _Generator(sessions, cipher, password_hash, volunteers, seed)
    await generator.prepare()
    generator.build_organisations()
    await generator.run(progress)
    await generator.reset_sequences()
    return dict(generator.counts)
