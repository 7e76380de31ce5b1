"""Team registration, review by the region's admin, profile edits, suspension and dissolution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette

import models as m
from tests.conftest import Api
from tests.registration_helpers import code_of, credit_code, register, unique

REGISTER_TEAM = """
mutation($input: RegisterTeamInput!) {
  registerTeam(input: $input) { id name teamType creditCode verificationStatus legalVerification status
    contactTeam { name } region { code } }
}
"""
REFRESH = "mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken viewer { grants { role teamId } } } }"
REVIEW = """mutation($id: ID!, $ok: Boolean!, $r: String!) {
  reviewTeam(teamId: $id, approve: $ok, reason: $r) { verificationStatus reviewReason } }"""
STATUS = """mutation($id: ID!, $s: TeamStatus!, $r: String!) {
  setTeamStatus(teamId: $id, status: $s, reason: $r) { status } }"""
UPDATE = """mutation($id: ID!, $input: UpdateTeamInput!) {
  updateTeam(teamId: $id, input: $input) { name personInCharge description } }"""


def team_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": f"历下区测试志愿服务队{unique()}",
        "teamType": "LEGAL_PERSON",
        "regionCode": "370102000000",
        "personInCharge": "李负责",
        "contactName": "张联系",
        "contactPhone": "13912345678",
        "creditCode": credit_code(),
    }
    values.update(overrides)
    return values


async def founder(api: Api) -> tuple[Api, str]:
    """A freshly registered volunteer: (client, refresh token)."""
    body = await register(api)
    session = body["data"]["registerVolunteer"]["session"]
    return api.as_(session["accessToken"]), session["refreshToken"]


async def _teams(app: Starlette) -> int:
    async with app.state.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(m.Team))).scalar_one())


async def test_a_legal_person_registers_and_its_founder_becomes_admin(api: Api) -> None:
    client, refresh = await founder(api)
    team = (await client.data(REGISTER_TEAM, {"input": team_input()}))["registerTeam"]
    assert team["verificationStatus"] == "PENDING_REVIEW"
    assert team["legalVerification"] == "PENDING"
    assert team["status"] == "ACTIVE"
    renewed = (await api.data(REFRESH, {"t": refresh}))["refreshTokens"]
    assert {"role": "TEAM_ADMIN", "teamId": team["id"]} in renewed["viewer"]["grants"]
    admin = api.as_(renewed["accessToken"])
    edited = await admin.data(
        UPDATE, {"id": team["id"], "input": {"description": "社区服务", "personInCharge": "王新"}}
    )
    assert edited["updateTeam"]["description"] == "社区服务"
    assert edited["updateTeam"]["personInCharge"] == "王新"


async def test_bad_credit_codes_and_duplicates_write_nothing(api: Api, app: Starlette) -> None:
    client, _ = await founder(api)
    before = await _teams(app)
    code = credit_code()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert (
        code_of(await client.gql(REGISTER_TEAM, {"input": team_input(creditCode=bad)}))[1]
        == "CREDIT_CODE_CHECKSUM"
    )
    assert (
        code_of(await client.gql(REGISTER_TEAM, {"input": team_input(creditCode="123")}))[1]
        == "CREDIT_CODE_FORMAT"
    )
    assert (
        code_of(await client.gql(REGISTER_TEAM, {"input": team_input(creditCode=None)}))[1]
        == "CREDIT_CODE_FORMAT"
    )
    assert await _teams(app) == before
    assert "errors" not in await client.gql(REGISTER_TEAM, {"input": team_input(creditCode=code)})
    duplicate = await client.gql(REGISTER_TEAM, {"input": team_input(creditCode=code.lower())})
    assert code_of(duplicate)[1] == "DUPLICATE_CREDIT_CODE"
    assert await _teams(app) == before + 1


async def test_an_unregistered_group_needs_an_approved_contact_team(api: Api, tokens: dict[str, str]) -> None:
    client, _ = await founder(api)
    group = {"teamType": "UNREGISTERED_GROUP", "creditCode": None}
    missing = await client.gql(REGISTER_TEAM, {"input": team_input(**group)})
    assert code_of(missing)[1] == "CONTACT_TEAM_REQUIRED"
    pending = (await client.data(REGISTER_TEAM, {"input": team_input()}))["registerTeam"]
    invalid = await client.gql(REGISTER_TEAM, {"input": team_input(**group, contactTeamId=pending["id"])})
    assert code_of(invalid)[1] == "CONTACT_TEAM_INVALID"
    approved = await api.as_(tokens["demo_lixia"]).data(
        "{ teams(first: 1, filter: {teamType: LEGAL_PERSON, verificationStatus: APPROVED, status: ACTIVE}) { nodes { id name } } }"
    )
    contact = approved["teams"]["nodes"][0]
    ok = (await client.data(REGISTER_TEAM, {"input": team_input(**group, contactTeamId=contact["id"])}))[
        "registerTeam"
    ]
    assert ok["teamType"] == "UNREGISTERED_GROUP" and ok["creditCode"] is None
    assert ok["contactTeam"] is None or ok["contactTeam"]["name"] == contact["name"]
    assert ok["legalVerification"] == "NOT_REQUIRED"


async def test_review_happens_in_the_team_region(api: Api, tokens: dict[str, str]) -> None:
    client, _ = await founder(api)
    team = (await client.data(REGISTER_TEAM, {"input": team_input()}))["registerTeam"]
    xihu = await api.as_(tokens["demo_xihu"]).gql(REVIEW, {"id": team["id"], "ok": True, "r": ""})
    assert xihu["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    as_founder = await client.gql(REVIEW, {"id": team["id"], "ok": True, "r": ""})
    assert as_founder["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    jinan = api.as_(tokens["demo_jinan"])
    assert code_of(await jinan.gql(REVIEW, {"id": team["id"], "ok": False, "r": ""}))[1] == "REASON_REQUIRED"
    done = await jinan.data(REVIEW, {"id": team["id"], "ok": False, "r": "材料不全"})
    assert done["reviewTeam"] == {"verificationStatus": "REJECTED", "reviewReason": "材料不全"}
    again = await api.as_(tokens["demo_lixia"]).gql(REVIEW, {"id": team["id"], "ok": True, "r": ""})
    assert again["errors"][0]["extensions"]["code"] == "INVALID_STATE"


async def test_suspend_reactivate_and_dissolve(api: Api, tokens: dict[str, str]) -> None:
    client, _ = await founder(api)
    team = (await client.data(REGISTER_TEAM, {"input": team_input()}))["registerTeam"]
    lixia = api.as_(tokens["demo_lixia"])
    await lixia.data(REVIEW, {"id": team["id"], "ok": True, "r": ""})
    assert (
        code_of(await lixia.gql(STATUS, {"id": team["id"], "s": "SUSPENDED", "r": ""}))[1]
        == "REASON_REQUIRED"
    )
    assert (await lixia.data(STATUS, {"id": team["id"], "s": "SUSPENDED", "r": "投诉核查"}))[
        "setTeamStatus"
    ] == {"status": "SUSPENDED"}
    assert (await lixia.data(STATUS, {"id": team["id"], "s": "ACTIVE", "r": ""}))["setTeamStatus"][
        "status"
    ] == "ACTIVE"
    await lixia.data(STATUS, {"id": team["id"], "s": "DISSOLVED", "r": "自行解散"})
    final = await lixia.gql(STATUS, {"id": team["id"], "s": "ACTIVE", "r": ""})
    assert final["errors"][0]["extensions"]["code"] == "INVALID_STATE"
    team_admin = await api.as_(tokens["demo_team"]).gql(STATUS, {"id": team["id"], "s": "ACTIVE", "r": ""})
    assert team_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_the_team_admin_edits_the_profile(api: Api, tokens: dict[str, str]) -> None:
    client, _ = await founder(api)
    team = (await client.data(REGISTER_TEAM, {"input": team_input()}))["registerTeam"]
    other = await api.as_(tokens["demo_team"]).gql(
        UPDATE, {"id": team["id"], "input": {"name": "别人的队伍"}}
    )
    assert other["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "FORBIDDEN")
    region_admin = await api.as_(tokens["demo_lixia"]).gql(
        UPDATE, {"id": team["id"], "input": {"name": "改名"}}
    )
    assert region_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
