"""Federation entity resolution (`_entities`) goes through the same scoped, batched loaders."""

from typing import Any

from tests.conftest import Api

ENTITIES = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Volunteer { name volunteerNumber }
    ... on Team { name }
    ... on Region { name }
  }
}
"""
IDS = "{ volunteers(first: 100) { nodes { id volunteerNumber region { code } } } teams(first: 100) { nodes { id creditCode region { code } } } }"


async def _rows(api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    return await api.as_(tokens["demo_ministry"]).data(IDS)


async def test_entities_are_scoped_like_every_other_read(api: Api, tokens: dict[str, str]) -> None:
    rows = await _rows(api, tokens)
    lixia = [v for v in rows["volunteers"]["nodes"] if v["region"]["code"].startswith("370102")][:2]
    xihu = [v for v in rows["volunteers"]["nodes"] if v["region"]["code"].startswith("330106")][:2]
    xihu_team = next(t for t in rows["teams"]["nodes"] if t["region"]["code"].startswith("330106"))
    reps = (
        [{"__typename": "Volunteer", "id": v["id"]} for v in lixia]
        + [{"__typename": "Volunteer", "id": v["id"]} for v in xihu]
        + [{"__typename": "Volunteer", "volunteerNumber": xihu[0]["volunteerNumber"]}]
        + [
            {"__typename": "Team", "creditCode": xihu_team["creditCode"]},
            {"__typename": "Team", "id": xihu_team["id"]},
        ]
        + [{"__typename": "Region", "code": "330106000000"}]
    )
    as_lixia = (await api.as_(tokens["demo_lixia"]).data(ENTITIES, {"reps": reps}))["_entities"]
    assert [e is not None for e in as_lixia] == [True, True, False, False, False, False, False, True]
    as_ministry = (await api.as_(tokens["demo_ministry"]).data(ENTITIES, {"reps": reps}))["_entities"]
    assert all(e is not None for e in as_ministry)
    anonymous = (await api.data(ENTITIES, {"reps": reps}))["_entities"]
    assert anonymous[:7] == [None] * 7 and anonymous[7] == {"name": "西湖区"}


async def test_entities_are_batched(api: Api, tokens: dict[str, str], count_sql: Any) -> None:
    rows = await _rows(api, tokens)
    reps = [{"__typename": "Volunteer", "id": v["id"]} for v in rows["volunteers"]["nodes"][:50]]
    with count_sql() as log:
        data = await api.as_(tokens["demo_ministry"]).data(ENTITIES, {"reps": reps})
    assert len(data["_entities"]) == 50
    assert len(log) == 1, log.report()


async def test_malformed_entity_id_is_bad_user_input(api: Api, tokens: dict[str, str]) -> None:
    body = await api.as_(tokens["demo_ministry"]).gql(
        ENTITIES, {"reps": [{"__typename": "Volunteer", "id": "VGVhbTox"}]}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_representations_are_bad_user_input(api: Api) -> None:
    for reps in (
        [{"__typename": "NoSuchType", "id": "x"}],
        [{"__typename": "Project"}],
        [{"__typename": "Region"}],
    ):
        body = await api.gql(ENTITIES, {"reps": reps})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def test_representations_that_are_not_objects_are_bad_user_input(api: Api) -> None:
    for reps in (False, [1], ["x"], [None]):
        body = await api.gql(ENTITIES, {"reps": reps})
        assert body["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), (
            body
        )
