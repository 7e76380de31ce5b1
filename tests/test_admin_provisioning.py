"""Provisioning admins through HTTP: one level down, inside one's jurisdiction, never more than one holds.

Every refused attempt is checked to have written nothing: no account, no audit event.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from models import Account, AuditEvent
from tests.conftest import Api

CREATE_ADMIN = """
mutation Create($input: CreateAdminInput!) {
  createAdmin(input: $input) { id username displayName status grants { role regionCode canReveal } }
}
"""
SET_STATUS = """
mutation SetStatus($id: ID!, $active: Boolean!) {
  setAccountStatus(accountId: $id, active: $active) { id username status grants { role regionCode } }
}
"""
LOGIN = """
mutation Login($u: String!, $p: String!) {
  login(input: {username: $u, password: $p}) {
    accessToken viewer { accountId username grants { role regionCode canReveal } }
  }
}
"""
VIEWER = "{ viewer { accountId username grants { role regionCode canReveal } } }"
GRANT_EVENTS = """
query Grants($region: String) {
  auditEvents(filter: {action: "GRANT_REGION_ADMIN", region: $region}, first: 100) {
    totalCount nodes { action subjectType subjectId regionCode actorId detail }
  }
}
"""
PASSWORD = "Strong1pass"

SHANDONG, QINGDAO, ZIBO, SHINAN = "370000000000", "370200000000", "370300000000", "370202000000"
JINAN, LIXIA, SHIZHONG = "370100000000", "370102000000", "370103000000"
HANGZHOU, HENAN = "330100000000", "410000000000"
LIXIA_TOWNSHIP, SHIZHONG_TOWNSHIP = "370102001000", "370103002000"


def unique_name(prefix: str = "adm") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def new_admin(region_code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "username": unique_name(),
        "password": PASSWORD,
        "displayName": "测试管理员",
        "regionCode": region_code,
        **overrides,
    }


def database_id(global_id: str) -> int:
    kind, _, raw = base64.b64decode(global_id).decode().partition(":")
    assert kind == "Account"
    return int(raw)


def refusal(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of the single error of a refused mutation (which returns no data)."""
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


async def create(api: Api, token: str, new: dict[str, Any]) -> dict[str, Any]:
    account: dict[str, Any] = (await api.as_(token).data(CREATE_ADMIN, {"input": new}))["createAdmin"]
    return account


async def accounts_named(app: Starlette, username: str) -> int:
    """How many accounts and grant audit events mention ``username`` (0 after any refused attempt)."""
    async with app.state.services.sessions() as session:
        accounts = await session.scalar(
            select(func.count()).select_from(Account).where(Account.username == username)
        )
        events = (
            await session.execute(select(AuditEvent.detail).where(AuditEvent.action == "GRANT_REGION_ADMIN"))
        ).scalars()
        return int(accounts or 0) + sum(1 for detail in events if detail.get("username") == username)


async def assert_nothing_written(app: Starlette, *usernames: str) -> None:
    for username in usernames:
        assert await accounts_named(app, username) == 0, username


async def viewer_of(api: Api, username: str, password: str = PASSWORD) -> dict[str, Any]:
    body = await api.gql(LOGIN, {"u": username, "p": password})
    assert "errors" not in body, body
    login: dict[str, Any] = body["data"]["login"]
    assert (await api.as_(login["accessToken"]).data(VIEWER))["viewer"] == login["viewer"]
    return login


async def account_id(api: Api, token: str) -> str:
    viewer = (await api.as_(token).data(VIEWER))["viewer"]
    account: str = viewer["accountId"]
    return account


# --- who creates whom ------------------------------------------------------------------------------------


async def test_ministry_creates_a_province_admin(api: Api, tokens: dict[str, str]) -> None:
    # when the ministry creates a province admin
    new = new_admin(HENAN, displayName="河南省管理员")
    created = await create(api, tokens["demo_ministry"], new)

    # then the account comes back with its grant
    assert created["username"] == new["username"]
    assert created["displayName"] == "河南省管理员"
    assert created["status"] == "ACTIVE"
    assert created["grants"] == [{"role": "REGION_ADMIN", "regionCode": HENAN, "canReveal": False}]

    # and it can sign in and sees its grant as the viewer
    login = await viewer_of(api, new["username"])
    assert login["viewer"]["accountId"] == created["id"]
    assert login["viewer"]["grants"] == [{"role": "REGION_ADMIN", "regionCode": HENAN, "canReveal": False}]


async def test_province_admin_creates_city_admins_only_inside_and_one_level_down(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    shandong = tokens["demo_shandong"]

    # a city inside Shandong is allowed
    qingdao = new_admin(QINGDAO)
    created = await create(api, shandong, qingdao)
    assert created["grants"] == [{"role": "REGION_ADMIN", "regionCode": QINGDAO, "canReveal": False}]
    assert (await viewer_of(api, qingdao["username"]))["viewer"]["grants"][0]["regionCode"] == QINGDAO

    # a city outside Shandong is out of jurisdiction
    hangzhou = new_admin(HANGZHOU)
    body = await api.as_(shandong).gql(CREATE_ADMIN, {"input": hangzhou})
    assert refusal(body) == {"code": "OUT_OF_JURISDICTION", "field": "regionCode"}

    # a county, two levels down, is not a grant a province admin may make
    shinan = new_admin(SHINAN)
    body = await api.as_(shandong).gql(CREATE_ADMIN, {"input": shinan}, **{"accept-language": "en"})
    assert refusal(body) == {"code": "FORBIDDEN", "field": "regionCode", "reason": "GRANT_NOT_ALLOWED"}
    assert body["errors"][0]["message"] == "You can only create admins one level below, inside your area"

    # nor is another province admin at its own level
    peer = new_admin(SHANDONG)
    body = await api.as_(shandong).gql(CREATE_ADMIN, {"input": peer})
    assert refusal(body) == {"code": "FORBIDDEN", "field": "regionCode", "reason": "GRANT_NOT_ALLOWED"}

    await assert_nothing_written(app, hangzhou["username"], shinan["username"], peer["username"])


async def test_city_admin_creates_county_admins_only_in_its_city(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    jinan = tokens["demo_jinan"]

    # a county of Jinan is allowed
    shizhong = new_admin(SHIZHONG)
    created = await create(api, jinan, shizhong)
    assert created["grants"] == [{"role": "REGION_ADMIN", "regionCode": SHIZHONG, "canReveal": False}]

    # a county of Qingdao, and Qingdao itself, are out of jurisdiction
    refused = []
    for region in (SHINAN, QINGDAO):
        new = new_admin(region)
        body = await api.as_(jinan).gql(CREATE_ADMIN, {"input": new})
        assert refusal(body) == {"code": "OUT_OF_JURISDICTION", "field": "regionCode"}, region
        refused.append(new["username"])

    # a township of Jinan is two levels down
    township = new_admin(LIXIA_TOWNSHIP)
    body = await api.as_(jinan).gql(CREATE_ADMIN, {"input": township})
    assert refusal(body) == {"code": "FORBIDDEN", "field": "regionCode", "reason": "GRANT_NOT_ALLOWED"}

    await assert_nothing_written(app, *refused, township["username"])


async def test_county_admin_creates_township_admins_in_its_county(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    lixia = tokens["demo_lixia"]

    # a township of 历下区 is allowed, and the new admin signs in with it
    township = new_admin(LIXIA_TOWNSHIP)
    created = await create(api, lixia, township)
    assert created["grants"] == [{"role": "REGION_ADMIN", "regionCode": LIXIA_TOWNSHIP, "canReveal": False}]
    login = await viewer_of(api, township["username"])
    assert login["viewer"]["grants"] == created["grants"]

    # a township of the neighbouring county is not
    neighbour = new_admin(SHIZHONG_TOWNSHIP)
    body = await api.as_(lixia).gql(CREATE_ADMIN, {"input": neighbour})
    assert refusal(body) == {"code": "OUT_OF_JURISDICTION", "field": "regionCode"}
    await assert_nothing_written(app, neighbour["username"])


async def test_unknown_region_is_bad_input(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    refused = []
    for code in ("370299000000", "37", "not-a-code"):
        new = new_admin(code)
        body = await api.as_(tokens["demo_shandong"]).gql(CREATE_ADMIN, {"input": new})
        assert refusal(body) == {"code": "BAD_USER_INPUT", "field": "regionCode", "reason": "REGION_UNKNOWN"}
        refused.append(new["username"])
    await assert_nothing_written(app, *refused)


# --- the reveal right ------------------------------------------------------------------------------------


async def test_reveal_right_is_granted_only_by_holders(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    # demo_jinan does not hold the reveal right, so cannot grant it
    withheld = new_admin(SHIZHONG, canReveal=True)
    body = await api.as_(tokens["demo_jinan"]).gql(CREATE_ADMIN, {"input": withheld})
    assert refusal(body) == {"code": "FORBIDDEN", "field": "canReveal", "reason": "GRANT_NOT_ALLOWED"}
    await assert_nothing_written(app, withheld["username"])

    # demo_shandong holds it over Shandong, so can grant it to a city admin there
    granted = new_admin(ZIBO, canReveal=True)
    created = await create(api, tokens["demo_shandong"], granted)
    assert created["grants"] == [{"role": "REGION_ADMIN", "regionCode": ZIBO, "canReveal": True}]
    login = await viewer_of(api, granted["username"])
    assert login["viewer"]["grants"] == [{"role": "REGION_ADMIN", "regionCode": ZIBO, "canReveal": True}]


# --- who may not provision at all ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("demo_volunteer", "FORBIDDEN"), ("demo_team", "FORBIDDEN"), (None, "UNAUTHENTICATED")],
)
async def test_non_region_admins_cannot_create_admins(
    api: Api, app: Starlette, tokens: dict[str, str], who: str | None, code: str
) -> None:
    new = new_admin(LIXIA_TOWNSHIP)
    body = await api.as_(tokens[who] if who else None).gql(CREATE_ADMIN, {"input": new})
    assert refusal(body)["code"] == code
    await assert_nothing_written(app, new["username"])


# --- input checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["Short1a", "nouppercase1", "NOLOWERCASE1", "NoDigitsHere", "Abcdefghij1234567890x", ""],
)
async def test_weak_password_is_refused(
    api: Api, app: Starlette, tokens: dict[str, str], password: str
) -> None:
    new = new_admin(LIXIA_TOWNSHIP, password=password)
    body = await api.as_(tokens["demo_lixia"]).gql(CREATE_ADMIN, {"input": new}, **{"accept-language": "en"})
    assert refusal(body) == {"code": "BAD_USER_INPUT", "field": "password", "reason": "PASSWORD_WEAK"}
    assert "8-20 characters" in body["errors"][0]["message"]
    await assert_nothing_written(app, new["username"])


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("abc12", "USERNAME_FORMAT"),  # too short
        ("a" * 21, "USERNAME_FORMAT"),  # too long
        ("1abcdefg", "USERNAME_FORMAT"),  # starts with a digit
        ("_abcdefg", "USERNAME_FORMAT"),
        ("has space1", "USERNAME_FORMAT"),
        ("user-name1", "USERNAME_FORMAT"),
        ("管理员abcdef", "USERNAME_FORMAT"),
        ("abcdefg\n", "USERNAME_FORMAT"),
        ("", "USERNAME_FORMAT"),
        ("mz_newadmin", "USERNAME_RESERVED"),
        ("MZ_newadmin", "USERNAME_RESERVED"),
        ("wm_newadmin", "USERNAME_RESERVED"),
    ],
)
async def test_bad_username_is_refused(
    api: Api, app: Starlette, tokens: dict[str, str], username: str, reason: str
) -> None:
    new = new_admin(LIXIA_TOWNSHIP, username=username)
    body = await api.as_(tokens["demo_lixia"]).gql(CREATE_ADMIN, {"input": new})
    assert refusal(body) == {"code": "BAD_USER_INPUT", "field": "username", "reason": reason}
    await assert_nothing_written(app, username)


async def test_duplicate_username_is_taken(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    # given an admin created once
    first = new_admin(LIXIA_TOWNSHIP)
    created = await create(api, tokens["demo_lixia"], first)

    # when the same username is created again, elsewhere and by someone else, or a demo name is reused
    again = new_admin(SHIZHONG, username=first["username"], password="Other2pass")
    body = await api.as_(tokens["demo_jinan"]).gql(CREATE_ADMIN, {"input": again})
    demo = await api.as_(tokens["demo_lixia"]).gql(
        CREATE_ADMIN, {"input": new_admin(LIXIA_TOWNSHIP, username="demo_jinan")}
    )

    # then it is taken
    for refused in (body, demo):
        assert refusal(refused) == {"code": "BAD_USER_INPUT", "field": "username", "reason": "USERNAME_TAKEN"}
    # and the first account is intact: one account, one audit event, its own password and grant
    assert await accounts_named(app, first["username"]) == 2
    login = await viewer_of(api, first["username"])
    assert login["viewer"]["accountId"] == created["id"]
    assert login["viewer"]["grants"] == created["grants"]


# --- audit -----------------------------------------------------------------------------------------------


async def test_grant_is_audited_for_the_creator(api: Api, tokens: dict[str, str]) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    before = (await shandong.data(GRANT_EVENTS, {"region": ZIBO}))["auditEvents"]["totalCount"]

    # when demo_shandong creates a city admin
    new = new_admin(ZIBO)
    created = await create(api, tokens["demo_shandong"], new)

    # then one more GRANT_REGION_ADMIN event is visible to it, naming the new account and its creator
    events = (await shandong.data(GRANT_EVENTS, {"region": ZIBO}))["auditEvents"]
    assert events["totalCount"] == before + 1
    mine = [e for e in events["nodes"] if e["detail"].get("username") == new["username"]]
    assert mine == [
        {
            "action": "GRANT_REGION_ADMIN",
            "subjectType": "Account",
            "subjectId": database_id(created["id"]),
            "regionCode": ZIBO,
            "actorId": database_id(await account_id(api, tokens["demo_shandong"])),
            "detail": {"username": new["username"], "canReveal": False},
        }
    ]
    # and the unfiltered count includes it too
    assert (await shandong.data(GRANT_EVENTS))["auditEvents"]["totalCount"] >= events["totalCount"]


# --- enabling and disabling ------------------------------------------------------------------------------


async def account_status(app: Starlette, username: str) -> str:
    async with app.state.services.sessions() as session:
        status = await session.scalar(select(Account.status).where(Account.username == username))
        return str(status)


async def test_province_admin_disables_and_enables_a_city_admin_it_created(
    api: Api, tokens: dict[str, str]
) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    # given a city admin created by demo_shandong, signed in
    new = new_admin(QINGDAO)
    created = await create(api, tokens["demo_shandong"], new)
    await viewer_of(api, new["username"])

    # when demo_shandong disables it
    body = await shandong.data(SET_STATUS, {"id": created["id"], "active": False})

    # then it is disabled, still holding its grant, and cannot sign in
    assert body["setAccountStatus"] == {
        "id": created["id"],
        "username": new["username"],
        "status": "DISABLED",
        "grants": [{"role": "REGION_ADMIN", "regionCode": QINGDAO}],
    }
    login = await api.gql(LOGIN, {"u": new["username"], "p": PASSWORD})
    assert refusal(login)["code"] == "INVALID_CREDENTIALS"

    # and when it is enabled again, it signs in
    body = await shandong.data(SET_STATUS, {"id": created["id"], "active": True})
    assert body["setAccountStatus"]["status"] == "ACTIVE"
    await viewer_of(api, new["username"])


async def test_status_changes_stay_strictly_below_and_inside(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    # given a second Shandong province admin, made by the ministry: a peer of demo_shandong
    peer = new_admin(SHANDONG)
    peer_id = (await create(api, tokens["demo_ministry"], peer))["id"]

    targets = {
        "demo_xihu": await account_id(api, tokens["demo_xihu"]),  # another province
        "demo_shandong": await account_id(api, tokens["demo_shandong"]),  # itself
        peer["username"]: peer_id,  # its own level
        "demo_ministry": await account_id(api, tokens["demo_ministry"]),  # above it
    }
    for username, target in targets.items():
        # when demo_shandong tries to disable each
        body = await shandong.gql(SET_STATUS, {"id": target, "active": False})

        # then it is refused as if the account did not exist, and it stays active
        assert refusal(body) == {"code": "NOT_FOUND", "field": "accountId"}, username
        assert await account_status(app, username) == "ACTIVE"


async def test_status_of_accounts_without_admin_grants(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    # a volunteer's account holds no grant to manage
    volunteer = await account_id(api, tokens["demo_volunteer"])
    assert refusal(await shandong.gql(SET_STATUS, {"id": volunteer, "active": False})) == {
        "code": "NOT_FOUND",
        "field": "accountId",
    }
    assert await account_status(app, "demo_volunteer") == "ACTIVE"
    # a malformed id is bad input
    body = await shandong.gql(SET_STATUS, {"id": "bm9wZQ==", "active": False})
    assert refusal(body) == {"code": "BAD_USER_INPUT", "field": "accountId", "reason": "BAD_ID"}


@pytest.mark.parametrize(
    ("who", "code"),
    [("demo_volunteer", "FORBIDDEN"), ("demo_team", "FORBIDDEN"), (None, "UNAUTHENTICATED")],
)
async def test_non_region_admins_cannot_change_status(
    api: Api, app: Starlette, tokens: dict[str, str], who: str | None, code: str
) -> None:
    target = await account_id(api, tokens["demo_lixia"])
    body = await api.as_(tokens[who] if who else None).gql(SET_STATUS, {"id": target, "active": False})
    assert refusal(body)["code"] == code
    assert await account_status(app, "demo_lixia") == "ACTIVE"
