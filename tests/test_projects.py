"""Projects: creation by a team admin, edits, posts and sign-in points, the lifecycle with and without review,
jurisdiction, and the public search of published projects.

Every test makes its own team (registered, approved by 历下区 or 西湖区, its founder's token refreshed to carry
the TEAM_ADMIN grant) and its own projects, so the demo data and the other tests stay untouched. The helpers
here are shared with tests/test_signups.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

import models as m
from models.enums import RealNameStatus
from tests.conftest import Api
from tests.registration_helpers import code_of, credit_code, register, unique

REGISTER_TEAM = "mutation($input: RegisterTeamInput!) { registerTeam(input: $input) { id } }"
REVIEW_TEAM = 'mutation($id: ID!) { reviewTeam(teamId: $id, approve: true, reason: "") { id } }'
REFRESH = "mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken } }"
PROJECT_FIELDS = """id name status statusReason submittedAt publishedAt closedAt regionRef: region { code }
  minAge maxAge signupScope signupRegion { code } requiresApproval
  posts(first: 50) { nodes { id name quota taken available startsAt endsAt } }
  signInPoints(first: 20) { nodes { id name latitude longitude radiusM } }"""
CREATE = f"mutation($input: CreateProjectInput!) {{ createProject(input: $input) {{ {PROJECT_FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $input: UpdateProjectInput!) {{
  updateProject(projectId: $id, input: $input) {{ {PROJECT_FIELDS} }} }}"""
SUBMIT = "mutation($id: ID!) { submitProject(projectId: $id) { id status submittedAt publishedAt } }"
REVIEW = """mutation($id: ID!, $ok: Boolean!, $r: String!) {
  reviewProject(projectId: $id, approve: $ok, reason: $r) { id status statusReason publishedAt } }"""
CLOSE = "mutation($id: ID!) { closeProject(projectId: $id) { id status closedAt } }"
CANCEL = (
    "mutation($id: ID!, $r: String!) { cancelProject(projectId: $id, reason: $r) { id status statusReason } }"
)
ADD_POST = """mutation($id: ID!, $input: PostInput!) {
  addPost(projectId: $id, input: $input) { id name quota taken available startsAt endsAt } }"""
UPDATE_POST = """mutation($id: ID!, $input: UpdatePostInput!) {
  updatePost(postId: $id, input: $input) { id name quota taken available } }"""
REMOVE_POST = "mutation($id: ID!) { removePost(postId: $id) { id posts(first: 50) { totalCount } } }"
ADD_POINT = """mutation($id: ID!, $input: SignInPointInput!) {
  addSignInPoint(projectId: $id, input: $input) { id name radiusM } }"""
REMOVE_POINT = "mutation($id: ID!) { removeSignInPoint(signInPointId: $id) { id signInPoints(first: 20) { totalCount } } }"
PUBLIC = """query($first: Int, $after: String, $filter: PublicProjectFilter) {
  publicProjects(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name category startsAt teamName region { code } posts { id name quota taken available } }
  } }"""

BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
LIXIA, XIHU = "370102000000", "330106000000"
REVIEWERS = {LIXIA: "demo_lixia", XIHU: "demo_xihu"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def window(hours: int = 8) -> tuple[datetime, datetime]:
    """A fresh time window in the future, never overlapping another one made here."""
    start = BASE + timedelta(days=2 * unique())
    return start, start + timedelta(hours=hours)


@dataclass
class Organiser:
    """A team admin of a freshly registered and approved team."""

    admin: Api
    team_id: str
    volunteer_number: str


async def organiser(api: Api, tokens: dict[str, str], county: str = LIXIA) -> Organiser:
    body = await register(api, regionCode=county)
    founded = body["data"]["registerVolunteer"]
    session = founded["session"]
    client = api.as_(session["accessToken"])
    team_input = {
        "name": f"项目测试志愿服务队{unique()}",
        "teamType": "LEGAL_PERSON",
        "regionCode": county,
        "personInCharge": "李负责",
        "contactName": "张联系",
        "contactPhone": "13912345678",
        "creditCode": credit_code(county[:6]),
    }
    team = (await client.data(REGISTER_TEAM, {"input": team_input}))["registerTeam"]
    await api.as_(tokens[REVIEWERS[county]]).data(REVIEW_TEAM, {"id": team["id"]})
    token = (await api.data(REFRESH, {"t": session["refreshToken"]}))["refreshTokens"]["accessToken"]
    return Organiser(api.as_(token), team["id"], founded["volunteerNumber"])


def project_input(team_id: str, **overrides: Any) -> dict[str, Any]:
    start, end = window()
    values: dict[str, Any] = {
        "teamId": team_id,
        "name": f"社区关爱测试项目{unique()}",
        "startsAt": iso(start),
        "endsAt": iso(end),
        "category": "COMMUNITY",
        "serviceTarget": "社区居民",
        "address": "历下区泉城路 1 号",
        "description": "测试项目",
        "posts": [{"name": "引导员", "quota": 5}],
        "signInPoints": [{"name": "主会场", "latitude": 36.66, "longitude": 117.02, "radiusM": 200}],
    }
    values.update(overrides)
    return values


async def create(org: Organiser, **overrides: Any) -> dict[str, Any]:
    project: dict[str, Any] = (
        await org.admin.data(CREATE, {"input": project_input(org.team_id, **overrides)})
    )["createProject"]
    return project


async def publish(org: Organiser, **overrides: Any) -> tuple[str, list[str]]:
    """A published project (review off): its id and its posts' ids."""
    project = await create(org, **overrides)
    assert (await org.admin.data(SUBMIT, {"id": project["id"]}))["submitProject"]["status"] == "PUBLISHED"
    return project["id"], [p["id"] for p in project["posts"]["nodes"]]


@dataclass
class Person:
    api: Api
    number: str
    db_id: int


async def volunteer(api: Api, app: Starlette, *, passed: bool = True, **overrides: Any) -> Person:
    """A registered volunteer (历下区 unless overridden), with a PASSED real-name status unless ``passed`` is
    False (the verification worker is off in tests)."""
    body = await register(api, **overrides)
    assert "errors" not in body, body
    registered = body["data"]["registerVolunteer"]
    number = registered["volunteerNumber"]
    async with app.state.services.writes() as session, session.begin():
        row = (
            await session.execute(select(m.Volunteer).where(m.Volunteer.volunteer_number == number))
        ).scalar_one()
        if passed:
            row.real_name_status = RealNameStatus.PASSED
        assert row.id is not None
        db_id = row.id
    return Person(api.as_(registered["session"]["accessToken"]), number, db_id)


async def count(app: Starlette, model: Any, *where: Any) -> int:
    async with app.state.services.sessions() as session:
        statement = select(func.count()).select_from(model).where(*where)
        return int((await session.execute(statement)).scalar_one())


def error(body: dict[str, Any]) -> tuple[str, str | None]:
    code, reason, _ = code_of(body)
    return code, reason


def db_id(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().partition(":")[2])


@pytest.fixture
async def review_required(app: Starlette) -> AsyncIterator[None]:
    """Projects wait for the region's review while the test runs (settings are read per call)."""
    services = app.state.services
    original = services.settings
    services.settings = dataclasses.replace(original, project_review_required=True)
    try:
        yield
    finally:
        services.settings = original


# --- creation -------------------------------------------------------------------------------------------


async def test_a_team_admin_creates_a_draft_with_posts_and_points(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    start, end = window()
    shift = {"name": "上午班", "quota": 3, "startsAt": iso(start), "endsAt": iso(start + timedelta(hours=4))}
    project = await create(
        org,
        startsAt=iso(start),
        endsAt=iso(end),
        minAge=16,
        maxAge=60,
        posts=[{"name": "引导员", "quota": 5}, shift],
    )
    assert project["status"] == "DRAFT" and project["regionRef"] == {"code": LIXIA}
    assert (project["minAge"], project["maxAge"], project["signupScope"]) == (16, 60, "PUBLIC")
    posts = project["posts"]["nodes"]
    assert [(p["name"], p["quota"], p["taken"], p["available"]) for p in posts] == [
        ("引导员", 5, 0, 5),
        ("上午班", 3, 0, 3),
    ]
    assert posts[1]["startsAt"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert project["signInPoints"]["nodes"][0]["radiusM"] == 200
    assert project["submittedAt"] is None and project["publishedAt"] is None
    events = await count(
        app,
        m.AuditEvent,
        m.AuditEvent.action == "PROJECT_CREATED",
        m.AuditEvent.subject_id == db_id(project["id"]),
    )
    assert events == 1


async def test_a_client_offset_is_stored_as_utc(api: Api, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    start, end = window()
    local = start.astimezone(UTC).replace(tzinfo=None)
    beijing = f"{(local + timedelta(hours=8)).isoformat()}+08:00"
    project = await create(org, startsAt=beijing, endsAt=iso(end))
    read = await org.admin.data(
        "query($id: ID!) { node(id: $id) { ... on Project { startsAt } } }", {"id": project["id"]}
    )
    assert datetime.fromisoformat(read["node"]["startsAt"]).astimezone(UTC) == start


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [
        ({"name": " "}, "PROJECT_NAME_FORMAT", "name"),
        (
            {"startsAt": iso(BASE + timedelta(days=3)), "endsAt": iso(BASE + timedelta(days=2))},
            "TIME_WINDOW",
            "endsAt",
        ),
        ({"minAge": 30, "maxAge": 20}, "AGE_LIMITS", "maxAge"),
        ({"maxAge": 101}, "AGE_LIMITS", "maxAge"),
        ({"minAge": -1}, "AGE_LIMITS", "minAge"),
        ({"signupScope": "REGION"}, "SIGNUP_REGION_REQUIRED", "signupRegionCode"),
        ({"signupScope": "REGION", "signupRegionCode": "379999000000"}, "REGION_UNKNOWN", "signupRegionCode"),
        ({"regionCode": "370100000000"}, "REGION_UNKNOWN", "regionCode"),
        ({"posts": [{"name": "岗位", "quota": 0}]}, "QUOTA_RANGE", "posts.0.quota"),
        ({"posts": [{"name": "岗位", "quota": 10001}]}, "QUOTA_RANGE", "posts.0.quota"),
        ({"posts": [{"name": "", "quota": 1}]}, "POST_NAME_FORMAT", "posts.0.name"),
        (
            {
                "posts": [
                    {
                        "name": "岗位",
                        "quota": 1,
                        "startsAt": iso(BASE - timedelta(days=1)),
                        "endsAt": iso(BASE),
                    }
                ]
            },
            "SHIFT_OUTSIDE_WINDOW",
            "posts.0.startsAt",
        ),
        (
            {"posts": [{"name": "岗位", "quota": 1, "startsAt": iso(BASE)}]},
            "SHIFT_INCOMPLETE",
            "posts.0.endsAt",
        ),
        (
            {"signInPoints": [{"latitude": 36.6, "longitude": 117.0, "radiusM": 5}]},
            "RADIUS_RANGE",
            "signInPoints.0.radiusM",
        ),
        ({"signInPoints": [{"latitude": 91, "longitude": 117.0}]}, "COORDINATES", "signInPoints.0.latitude"),
        ({"address": "址" * 301}, "TEXT_TOO_LONG", "address"),
        ({"posts": [{"name": f"岗位{i}", "quota": 1} for i in range(51)]}, "TOO_MANY_POSTS", "posts"),
    ],
)
async def test_bad_input_writes_nothing(
    api: Api, app: Starlette, tokens: dict[str, str], overrides: dict[str, Any], reason: str, field: str
) -> None:
    org = await organiser(api, tokens)
    before = await count(app, m.Project)
    body = await org.admin.gql(CREATE, {"input": project_input(org.team_id, **overrides)})
    assert code_of(body) == ("BAD_USER_INPUT", reason, field)
    assert await count(app, m.Project) == before


async def test_only_an_admin_of_an_active_approved_team_creates(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org, other = await organiser(api, tokens), await organiser(api, tokens)
    body = await register(api)
    session = body["data"]["registerVolunteer"]["session"]
    client = api.as_(session["accessToken"])
    pending_input = {
        "name": f"待审核队伍{unique()}",
        "teamType": "LEGAL_PERSON",
        "regionCode": LIXIA,
        "personInCharge": "李负责",
        "contactName": "张联系",
        "contactPhone": "13912345678",
        "creditCode": credit_code(),
    }
    pending = (await client.data(REGISTER_TEAM, {"input": pending_input}))["registerTeam"]
    pending_admin = api.as_(
        (await api.data(REFRESH, {"t": session["refreshToken"]}))["refreshTokens"]["accessToken"]
    )
    before = await count(app, m.Project)
    assert error(await pending_admin.gql(CREATE, {"input": project_input(pending["id"])})) == (
        "INVALID_STATE",
        "TEAM_NOT_ACTIVE",
    )
    assert error(await other.admin.gql(CREATE, {"input": project_input(org.team_id)}))[0] == "NOT_FOUND"
    assert error(await api.as_(tokens["demo_volunteer"]).gql(CREATE, {"input": project_input(org.team_id)}))[
        0
    ] == ("FORBIDDEN")
    assert error(await api.gql(CREATE, {"input": project_input(org.team_id)}))[0] == "UNAUTHENTICATED"
    assert await count(app, m.Project) == before


# --- lifecycle ------------------------------------------------------------------------------------------


async def test_without_review_submitting_publishes(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    empty = await create(org, posts=[])
    assert error(await org.admin.gql(SUBMIT, {"id": empty["id"]})) == ("INVALID_STATE", "NO_POSTS")
    project = await create(org)
    submitted = (await org.admin.data(SUBMIT, {"id": project["id"]}))["submitProject"]
    assert submitted["status"] == "PUBLISHED"
    assert submitted["submittedAt"] is not None and submitted["publishedAt"] is not None
    assert error(await org.admin.gql(SUBMIT, {"id": project["id"]}))[0] == "INVALID_STATE"
    edit = await org.admin.gql(UPDATE, {"id": project["id"], "input": {"name": "改名"}})
    assert error(edit)[0] == "INVALID_STATE"
    closed = (await org.admin.data(CLOSE, {"id": project["id"]}))["closeProject"]
    assert closed["status"] == "CLOSED" and closed["closedAt"] is not None
    assert error(await org.admin.gql(CANCEL, {"id": project["id"], "r": "取消"}))[0] == "INVALID_STATE"
    assert error(await org.admin.gql(CLOSE, {"id": project["id"]}))[0] == "INVALID_STATE"
    actions = await _actions(app, project["id"])
    assert actions == ["PROJECT_CREATED", "PROJECT_SUBMITTED", "PROJECT_PUBLISHED", "PROJECT_CLOSED"]


async def test_a_project_that_has_ended_is_not_submitted(api: Api, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    past = datetime.now(UTC) - timedelta(days=3)
    project = await create(org, startsAt=iso(past), endsAt=iso(past + timedelta(hours=2)))
    assert error(await org.admin.gql(SUBMIT, {"id": project["id"]})) == ("INVALID_STATE", "PROJECT_ENDED")


async def _actions(app: Starlette, project_id: str) -> list[str]:
    async with app.state.services.sessions() as session:
        statement = (
            select(m.AuditEvent.action)
            .where(m.AuditEvent.subject_type == "Project", m.AuditEvent.subject_id == db_id(project_id))
            .order_by(m.AuditEvent.id)
        )
        return list((await session.execute(statement)).scalars())


async def test_with_review_the_region_admin_decides(
    api: Api, app: Starlette, tokens: dict[str, str], review_required: None
) -> None:
    org = await organiser(api, tokens)
    project = await create(org)
    pid = project["id"]
    assert (await org.admin.data(SUBMIT, {"id": pid}))["submitProject"]["status"] == "SUBMITTED"
    lixia, xihu = api.as_(tokens["demo_lixia"]), api.as_(tokens["demo_xihu"])
    assert error(await xihu.gql(REVIEW, {"id": pid, "ok": True, "r": ""}))[0] == "NOT_FOUND"
    assert error(await org.admin.gql(REVIEW, {"id": pid, "ok": True, "r": ""}))[0] == "FORBIDDEN"
    assert error(await lixia.gql(REVIEW, {"id": pid, "ok": False, "r": " "})) == (
        "BAD_USER_INPUT",
        "REASON_REQUIRED",
    )
    returned = (await lixia.data(REVIEW, {"id": pid, "ok": False, "r": "请补充保险信息"}))["reviewProject"]
    assert returned == {"id": pid, "status": "DRAFT", "statusReason": "请补充保险信息", "publishedAt": None}
    assert (await org.admin.data(UPDATE, {"id": pid, "input": {"insured": True}}))["updateProject"][
        "status"
    ] == "DRAFT"
    again = (await org.admin.data(SUBMIT, {"id": pid}))["submitProject"]
    assert again["status"] == "SUBMITTED"
    jinan = api.as_(tokens["demo_jinan"])  # the city above 历下区 reviews too
    published = (await jinan.data(REVIEW, {"id": pid, "ok": True, "r": ""}))["reviewProject"]
    assert published["status"] == "PUBLISHED" and published["publishedAt"] is not None
    assert error(await lixia.gql(REVIEW, {"id": pid, "ok": True, "r": ""}))[0] == "INVALID_STATE"
    assert await _actions(app, pid) == [
        "PROJECT_CREATED",
        "PROJECT_SUBMITTED",
        "PROJECT_RETURNED",
        "PROJECT_UPDATED",
        "PROJECT_SUBMITTED",
        "PROJECT_PUBLISHED",
    ]


async def test_cancelling_needs_a_reason_and_is_final(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    project = await create(org)
    assert error(await org.admin.gql(CANCEL, {"id": project["id"], "r": ""})) == (
        "BAD_USER_INPUT",
        "REASON_REQUIRED",
    )
    cancelled = (await org.admin.data(CANCEL, {"id": project["id"], "r": "天气原因"}))["cancelProject"]
    assert cancelled["status"] == "CANCELLED" and cancelled["statusReason"] == "天气原因"
    assert error(await org.admin.gql(SUBMIT, {"id": project["id"]}))[0] == "INVALID_STATE"
    assert error(await org.admin.gql(CANCEL, {"id": project["id"], "r": "再取消"}))[0] == "INVALID_STATE"


# --- edits, posts and sign-in points --------------------------------------------------------------------


async def test_edits_keep_shifts_inside_the_window(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    start, end = window()
    shift = {"name": "上午班", "quota": 3, "startsAt": iso(start), "endsAt": iso(start + timedelta(hours=2))}
    project = await create(org, startsAt=iso(start), endsAt=iso(end), minAge=18, posts=[shift])
    pid = project["id"]
    later = {"startsAt": iso(start + timedelta(hours=1))}
    assert code_of(await org.admin.gql(UPDATE, {"id": pid, "input": later})) == (
        "BAD_USER_INPUT",
        "SHIFT_OUTSIDE_WINDOW",
        "startsAt",
    )
    assert code_of(await org.admin.gql(UPDATE, {"id": pid, "input": {"name": None}}))[2] == "name"
    township = "370102001000"
    edited = (
        await org.admin.data(
            UPDATE,
            {
                "id": pid,
                "input": {"minAge": None, "name": "  新名字  ", "regionCode": township, "maxAge": 70},
            },
        )
    )["updateProject"]
    assert (edited["name"], edited["minAge"], edited["maxAge"]) == ("新名字", None, 70)
    assert edited["regionRef"] == {"code": township}
    async with app.state.services.sessions() as session:
        regions = set(
            (
                await session.execute(select(m.Post.region_code).where(m.Post.project_id == db_id(pid)))
            ).scalars()
        )
    assert regions == {township}
    regional = (
        await org.admin.data(
            UPDATE, {"id": pid, "input": {"signupScope": "REGION", "signupRegionCode": "370100000000"}}
        )
    )["updateProject"]
    assert regional["signupRegion"] == {"code": "370100000000"}
    public = (await org.admin.data(UPDATE, {"id": pid, "input": {"signupScope": "PUBLIC"}}))["updateProject"]
    assert public["signupRegion"] is None


async def test_posts_and_sign_in_points(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    start, end = window()
    project = await create(org, startsAt=iso(start), endsAt=iso(end))
    pid, first_post = project["id"], project["posts"]["nodes"][0]["id"]
    outside = {"name": "夜班", "quota": 2, "startsAt": iso(end), "endsAt": iso(end + timedelta(hours=1))}
    assert error(await org.admin.gql(ADD_POST, {"id": pid, "input": outside})) == (
        "BAD_USER_INPUT",
        "SHIFT_OUTSIDE_WINDOW",
    )
    added = (await org.admin.data(ADD_POST, {"id": pid, "input": {"name": "摄影", "quota": 2}}))["addPost"]
    assert (added["quota"], added["available"]) == (2, 2)
    changed = await org.admin.data(UPDATE_POST, {"id": added["id"], "input": {"quota": 4, "name": "摄影师"}})
    assert changed["updatePost"] == {
        "id": added["id"],
        "name": "摄影师",
        "quota": 4,
        "taken": 0,
        "available": 4,
    }
    assert error(await org.admin.gql(UPDATE_POST, {"id": added["id"], "input": {"quota": 0}})) == (
        "BAD_USER_INPUT",
        "QUOTA_RANGE",
    )
    removed = (await org.admin.data(REMOVE_POST, {"id": added["id"]}))["removePost"]
    assert removed["posts"]["totalCount"] == 1
    point = (
        await org.admin.data(
            ADD_POINT, {"id": pid, "input": {"latitude": 36.67, "longitude": 117.03, "name": "东门"}}
        )
    )["addSignInPoint"]
    assert point["radiusM"] == 200
    bad = {"latitude": 36.67, "longitude": 117.03, "radiusM": 6000}
    assert error(await org.admin.gql(ADD_POINT, {"id": pid, "input": bad})) == (
        "BAD_USER_INPUT",
        "RADIUS_RANGE",
    )
    assert (await org.admin.data(REMOVE_POINT, {"id": point["id"]}))["removeSignInPoint"]["signInPoints"][
        "totalCount"
    ] == 1
    await org.admin.data(SUBMIT, {"id": pid})
    assert error(await org.admin.gql(REMOVE_POST, {"id": first_post})) == ("INVALID_STATE", "NO_POSTS")
    other = await organiser(api, tokens)
    assert (
        error(await other.admin.gql(UPDATE_POST, {"id": first_post, "input": {"quota": 9}}))[0] == "NOT_FOUND"
    )
    assert (
        error(await other.admin.gql(ADD_POST, {"id": pid, "input": {"name": "x", "quota": 1}}))[0]
        == "NOT_FOUND"
    )


async def test_other_teams_and_counties_cannot_act(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org, other = await organiser(api, tokens), await organiser(api, tokens, XIHU)
    pid, posts = await publish(org)
    for query, variables in (
        (CLOSE, {"id": pid}),
        (CANCEL, {"id": pid, "r": "不是我的"}),
        (UPDATE, {"id": pid, "input": {"name": "不是我的"}}),
        (ADD_POST, {"id": pid, "input": {"name": "岗位", "quota": 1}}),
    ):
        assert error(await other.admin.gql(query, variables))[0] == "NOT_FOUND"
    # the other team's admin is also a volunteer: once signed up, the project is visible but still not theirs
    async with app.state.services.writes() as session, session.begin():
        await session.execute(
            update(m.Volunteer)
            .where(m.Volunteer.volunteer_number == other.volunteer_number)
            .values(real_name_status=RealNameStatus.PASSED, region_code=XIHU)
        )
    sign_up = "mutation($id: ID!) { signUp(postId: $id) { id status } }"
    assert (await other.admin.data(sign_up, {"id": posts[0]}))["signUp"]["status"] == "ACCEPTED"
    assert error(await other.admin.gql(CLOSE, {"id": pid}))[0] == "FORBIDDEN"
    lixia = api.as_(tokens["demo_lixia"])
    assert error(await lixia.gql(CLOSE, {"id": pid}))[0] == "FORBIDDEN"
    status = await org.admin.data(
        "query($id: ID!) { node(id: $id) { ... on Project { status } } }", {"id": pid}
    )
    assert status["node"]["status"] == "PUBLISHED"


# --- the public search ----------------------------------------------------------------------------------


async def _published_count(app: Starlette, *where: Any) -> int:
    return await count(app, m.Project, m.Project.status == "PUBLISHED", *where)


async def test_anonymous_visitors_find_published_projects_only(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    tag = f"公开检索{unique()}"
    draft = await create(org, name=f"{tag}草稿")
    cancelled = await create(org, name=f"{tag}取消")
    await org.admin.data(CANCEL, {"id": cancelled["id"], "r": "取消"})
    closed, _ = await publish(org, name=f"{tag}结束")
    await org.admin.data(CLOSE, {"id": closed})
    published, posts = await publish(org, name=f"{tag}招募", category="EDUCATION")
    found = (await api.data(PUBLIC, {"filter": {"nameContains": tag}}))["publicProjects"]
    assert found["totalCount"] == 1
    node = found["nodes"][0]
    assert (node["id"], node["category"], node["region"]) == (published, "EDUCATION", {"code": LIXIA})
    assert node["teamName"].startswith("项目测试志愿服务队")
    assert [p["id"] for p in node["posts"]] == posts and node["posts"][0]["available"] == 5
    assert draft["id"] not in str(found)
    assert (await api.data(PUBLIC, {"filter": {"nameContains": tag, "category": "COMMUNITY"}}))[
        "publicProjects"
    ]["totalCount"] == 0
    assert (await api.data(PUBLIC, {"filter": {"nameContains": tag, "region": XIHU}}))["publicProjects"][
        "totalCount"
    ] == 0
    assert (await api.data(PUBLIC, {"filter": {"nameContains": tag, "region": "370000000000"}}))[
        "publicProjects"
    ]["totalCount"] == 1
    starts = datetime.fromisoformat(node["startsAt"])
    window_filter = {
        "nameContains": tag,
        "startsAfter": iso(starts),
        "startsBefore": iso(starts + timedelta(seconds=1)),
    }
    assert (await api.data(PUBLIC, {"filter": window_filter}))["publicProjects"]["totalCount"] == 1
    late = {"nameContains": tag, "startsAfter": iso(starts + timedelta(seconds=1))}
    assert (await api.data(PUBLIC, {"filter": late}))["publicProjects"]["totalCount"] == 0


async def test_the_public_list_pages_through_every_published_project(api: Api, app: Starlette) -> None:
    expected = await _published_count(app)
    assert expected > 0
    seen: list[str] = []
    after: str | None = None
    while True:
        page = (await api.data(PUBLIC, {"first": 50, "after": after}))["publicProjects"]
        assert page["totalCount"] == expected
        seen += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == len(set(seen)) == expected
    async with app.state.services.sessions() as session:
        statuses = set(
            (
                await session.execute(
                    select(m.Project.status).where(m.Project.id.in_([db_id(i) for i in seen]))
                )  # type: ignore[attr-defined]
            ).scalars()
        )
    assert statuses == {"PUBLISHED"}
    past = await api.data(PUBLIC, {"first": 5, "after": after})
    assert past["publicProjects"]["nodes"] == [] and past["publicProjects"]["totalCount"] == expected
    zero = await api.data("{ publicProjects(first: 0) { totalCount nodes { id } } }")
    assert zero["publicProjects"] == {"totalCount": expected, "nodes": []}


def test_the_public_types_expose_no_people() -> None:
    from schema import schema

    for name in ("PublicProject", "PublicPost"):
        gtype: Any = schema._schema.get_type(name)
        fields = set(gtype.fields)
        assert not fields & {"signUps", "volunteer", "volunteers", "team", "signInPoints", "attendances"}, (
            name
        )
    public = schema._schema.query_type.fields["publicProjects"]  # type: ignore[union-attr]
    assert str(public.type) == "PublicProjectConnection!"


async def test_the_public_search_is_not_the_management_list(api: Api, tokens: dict[str, str]) -> None:
    body = await api.gql("{ projects(first: 1) { totalCount } }")
    assert error(body)[0] == "UNAUTHENTICATED"
    assert "errors" not in await api.gql("{ publicProjects(first: 1) { totalCount } }")
