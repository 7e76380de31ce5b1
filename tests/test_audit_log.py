"""The audit log (审计日志) as admins query it: sensitive reads, grants and record corrections, each visible to
the admins whose jurisdiction holds the subject's region and to no one else, with filters by action, subject
type and actor."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

import models as m
from models.enums import Role
from tests.conftest import Api
from tests.record_world import PASSWORD, World, make_world, region_grant
from tests.visibility import codes, gid

KUNMING_PROVINCE, KUNMING, WUHUA, PANLONG = "530000000000", "530100000000", "530102000000", "530103000000"
EVENTS = """
query($f: AuditEventFilter) {
  auditEvents(filter: $f, first: 100) { totalCount nodes { action subjectType subjectId regionCode actorId } }
}
"""
REVEAL = "query($id: ID!) { node(id: $id) { ... on Volunteer { idNumber } } }"
CORRECT = """mutation($id: ID!, $r: String!, $h: Decimal) {
  correctRecord(recordId: $id, reason: $r, hours: $h) { id } }"""
CREATE_ADMIN = """mutation($input: CreateAdminInput!) { createAdmin(input: $input) { id } }"""


async def events(api: Api, **filter_: Any) -> list[tuple[str, str, str | None, int | None]]:
    found = (await api.data(EVENTS, {"f": {"region": KUNMING_PROVINCE, **filter_}}))["auditEvents"]
    assert found["totalCount"] == len(found["nodes"])
    return sorted((e["action"], e["subjectType"], e["regionCode"], e["actorId"]) for e in found["nodes"])


@pytest.fixture(scope="module")
async def trail(app: Starlette, api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    """In 云南省, which no other test uses: a reveal and a correction in 五华区, a grant for 昆明市."""
    w: World = await make_world(app, api, tokens, WUHUA, PANLONG)
    province = await w.admin(
        m.RoleGrant(role=Role.REGION_ADMIN, region_code=KUNMING_PROVINCE, can_reveal=True)
    )
    city = await w.admin(region_grant(KUNMING))
    panlong = await w.admin(region_grant(PANLONG))
    who = await w.volunteer()
    record = await w.record(who, w.teams["home"], "3", date.today() - timedelta(days=3))

    await w.as_(province).data(REVEAL, {"id": gid("Volunteer", who.volunteer_id)})
    corrected = {"id": gid("ServiceRecord", record), "r": "少记了半小时", "h": "3.5"}
    await w.as_(w.admins["home"]).data(CORRECT, corrected)
    new_admin = {"username": "kunming_city2", "password": PASSWORD, "regionCode": KUNMING}
    await w.as_(province).data(CREATE_ADMIN, {"input": new_admin})
    return {
        "province": w.as_(province),
        "city": w.as_(city),
        "county": w.as_(w.admins["county"]),
        "panlong": w.as_(panlong),
        "team": w.as_(w.admins["home"]),
        "ids": {"province": province.account_id, "team": w.admins["home"].account_id},
        "lixia": api.as_(tokens["demo_lixia"]),
        "ministry": api.as_(tokens["demo_ministry"]),
        "volunteer": w.as_(who),
    }


async def test_each_admin_sees_the_events_of_its_jurisdiction(trail: dict[str, Any]) -> None:
    ids = trail["ids"]
    reveal = ("REVEAL_ID_NUMBER", "Volunteer", WUHUA, ids["province"])
    correction = ("RECORD_CORRECTED", "ServiceRecord", WUHUA, ids["team"])
    grant = ("GRANT_REGION_ADMIN", "Account", KUNMING, ids["province"])
    for who in ("province", "ministry", "city"):
        assert await events(trail[who]) == sorted([reveal, correction, grant]), who
    assert await events(trail["county"]) == sorted([reveal, correction])  # 五华区: not the city's grant
    assert await events(trail["panlong"]) == []  # the neighbouring county sees none of it
    assert await events(trail["lixia"]) == []  # nor does another province's county


async def test_filters(trail: dict[str, Any]) -> None:
    ids = trail["ids"]
    city = trail["city"]
    by_action = await events(city, actionIn=["REVEAL_ID_NUMBER", "GRANT_REGION_ADMIN"])
    assert [e[0] for e in by_action] == ["GRANT_REGION_ADMIN", "REVEAL_ID_NUMBER"]
    assert [e[0] for e in await events(city, subjectType="ServiceRecord")] == ["RECORD_CORRECTED"]
    assert {e[3] for e in await events(city, actorId=ids["province"])} == {ids["province"]}
    assert await events(city, actorId=ids["team"], actionIn=["GRANT_REGION_ADMIN"]) == []


@pytest.mark.parametrize(
    ("who", "code"), [("team", "FORBIDDEN"), ("volunteer", "FORBIDDEN"), (None, "UNAUTHENTICATED")]
)
async def test_only_region_admins_read_the_log(
    api: Api, trail: dict[str, Any], who: str | None, code: str
) -> None:
    client = trail[who] if who else api.as_(None)
    body = await client.gql(EVENTS, {"f": {"region": KUNMING_PROVINCE}})
    assert body["data"] is None and codes(body) == [code]
