"""An admin of a real county that holds no data sees nothing but public reference data, through every root field.

The account administers 天山区 (650102, 乌鲁木齐): 新疆 is not among the demo data's provinces, which the fixture
checks. The root fields come from the schema itself, so a new root field without coverage here fails
``test_every_root_field_is_covered``; lookups use real ids and keys as the ministry sees them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)
from sqlalchemy import select
from starlette.applications import Starlette

import models as m
from schema import schema
from tests.conftest import Api, login
from tests.supervision_world import ensure_supervision_rows
from tests.visibility import add_account, codes, col, count, remove_account

EMPTY_COUNTY = "650102000000"  # 天山区
USERNAME, PASSWORD = "empty_tianshan", "Empty@2026zy"
REGIONAL_TABLES = (
    m.Volunteer,
    m.Team,
    m.TeamMembership,
    m.Project,
    m.Post,
    m.SignInPoint,
    m.SignUp,
    m.Attendance,
    m.ServiceRecord,
    m.Certificate,
    m.AuditEvent,
)

QUERY: GraphQLObjectType = schema._schema.query_type
PUBLIC_REFERENCE = {
    "_service",
    "region",
    "regions",
    "provinceStatuses",
    "defaultProvinceStatus",
    "verifyCertificate",
    "certificateSigningKey",
    "publicProjects",
}
"""The SDL, the region tree, the provinces' rollout status, certificate verification by number and code
with the signing key, and the public search of published projects: the same for every viewer."""
LOOKUPS = {
    "node",
    "nodes",
    "viewer",
    "volunteerByNumber",
    "teamByCreditCode",
    "_entities",
    "statistics",
    "changes",
    "trialFeedback",
    "trialFeedbackSummary",
}
"""Root fields tested one by one below (``statistics``: in tests/test_statistics.py, every measure; ``changes``:
in tests/test_change_feed.py, the peer of a province without rows; ``trialFeedback``: below)."""
NOT_FETCHABLE = {"Account"}
"""Node types that ``node`` refuses for everybody (BAD_ID): accounts are not browsable."""


def _node_type(field: GraphQLField) -> str | None:
    """The node type's name when ``field`` returns a connection, else None."""
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType) or not named.name.endswith("Connection"):
        return None
    return get_named_type(named.fields["nodes"].type).name


CONNECTIONS = {
    name: node
    for name, field in QUERY.fields.items()
    if name not in PUBLIC_REFERENCE and (node := _node_type(field)) is not None
}
FILTERS = {
    "volunteers": '{region: "370102000000"}',
    "teams": '{region: "370102000000"}',
    "memberships": "{status: JOINED}",
    "projects": '{region: "370102000000"}',
    "posts": '{nameContains: "%(post_name)s"}',
    "signUps": "{status: ACCEPTED}",
    "attendances": "{status: CLOSED}",
    "serviceRecords": '{region: "370102000000", status: CONFIRMED}',
    "certificates": "{status: ISSUED}",
    "correctionRequests": "{status: OPEN}",
    "auditEvents": '{region: "370000000000", action: "REVEAL_ID_NUMBER"}',
    "supervisionAlerts": '{region: "370000000000", status: OPEN}',
    "spotChecks": '{region: "370000000000", status: PUBLISHED}',
}
"""A filter per root list that matches rows for the ministry (checked), so that an empty answer means scope."""
NESTED_IDS = {"SignInPoint": "{ projects(first: 50) { nodes { signInPoints(first: 5) { nodes { id } } } } }"}
"""Node types without a root list, and where the ministry finds their ids."""


def _order_by(field: GraphQLField) -> str:
    """``orderBy: [{field: <first key>, direction: DESC}]`` when the list can be ordered."""
    if "orderBy" not in field.args:
        return ""
    order = get_named_type(field.args["orderBy"].type)
    assert isinstance(order, GraphQLInputObjectType)
    keys = get_named_type(order.fields["field"].type)
    assert isinstance(keys, GraphQLEnumType)
    return f"orderBy: [{{field: {next(iter(keys.values))}, direction: DESC}}],"


@pytest.fixture(scope="module")
async def ministry(app: Starlette, api: Api, tokens: dict[str, str]) -> Api:
    await _ensure_open_correction_request(app)
    await ensure_supervision_rows(app)  # an alert and a published spot check in 山东
    shandong = api.as_(tokens["demo_shandong"])
    await shandong.data('{ volunteers(first: 1, filter: {region: "370102000000"}) { nodes { idNumber } } }')
    return api.as_(tokens["demo_ministry"])  # ... and the audit trail now has a 山东 REVEAL_ID_NUMBER event


async def _ensure_open_correction_request(app: Starlette) -> None:
    """The demo data has no correction requests (申诉): file one on a 山东 record so the list has a row."""
    async with app.state.services.writes() as session, session.begin():
        existing = (await session.execute(select(m.CorrectionRequest.id).limit(1))).first()
        if existing:
            return
        record = (
            (
                await session.execute(
                    select(m.ServiceRecord)
                    .where(m.ServiceRecord.region_code.like("37%"))
                    .order_by(m.ServiceRecord.id)
                )
            )
            .scalars()
            .first()
        )
        assert record is not None
        session.add(
            m.CorrectionRequest(
                record_id=record.id,
                volunteer_id=record.volunteer_id,
                team_id=record.team_id,
                region_code=record.region_code,
                reason="时长少记了半小时",
            )
        )


@pytest.fixture(scope="module")
async def empty(app: Starlette, api: Api) -> AsyncIterator[Api]:
    sessions = app.state.services.sessions
    async with sessions() as session:
        region = await session.get(m.Region, EMPTY_COUNTY)
    assert region is not None and region.level == 3 and region.retired_year is None
    for table in REGIONAL_TABLES:
        assert await count(sessions, table, col(table, "region_code").like("650102%")) == 0, table
    account_id = await add_account(
        app,
        USERNAME,
        PASSWORD,
        m.RoleGrant(account_id=0, role="REGION_ADMIN", region_code=EMPTY_COUNTY),
    )
    yield api.as_(await login(api, USERNAME, PASSWORD))
    await remove_account(app, account_id)


async def _post_name(app: Starlette) -> str:
    async with app.state.services.sessions() as session:
        return str((await session.execute(select(m.Post.name).order_by(m.Post.id).limit(1))).scalar_one())


def test_every_root_field_is_covered() -> None:
    uncovered = set(QUERY.fields) - PUBLIC_REFERENCE - LOOKUPS - set(CONNECTIONS)
    assert not uncovered, f"root fields without an impossible-scope test: {sorted(uncovered)}"
    filterable = {name for name in CONNECTIONS if "filter" in QUERY.fields[name].args}
    assert filterable <= set(FILTERS), f"give these lists a filter here: {sorted(filterable - set(FILTERS))}"


def test_every_node_type_is_covered() -> None:
    node = schema._schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    node_types = {t.name for t in schema._schema.get_possible_types(node)}
    reachable = set(CONNECTIONS.values()) | set(NESTED_IDS) | NOT_FETCHABLE | {"Region"}
    assert node_types <= reachable, f"no id source for node types: {sorted(node_types - reachable)}"


EMPTY_PAGE = {
    "totalCount": 0,
    "nodes": [],
    "edges": [],
    "pageInfo": {"hasNextPage": False, "startCursor": None, "endCursor": None},
}
PAGE_FIELDS = "totalCount nodes { id } edges { cursor } pageInfo { hasNextPage startCursor endCursor }"


@pytest.mark.parametrize("name", sorted(CONNECTIONS))
async def test_lists_are_empty(app: Starlette, ministry: Api, empty: Api, name: str) -> None:
    field = QUERY.fields[name]
    filter_ = FILTERS[name] % {"post_name": await _post_name(app)} if name in FILTERS else ""
    filter_arg = f"filter: {filter_}," if filter_ else ""
    order_arg = _order_by(field)
    variants = ["", filter_arg, order_arg, filter_arg + order_arg]
    for args in variants:
        page = (
            await ministry.data(f"{{ {name}({args} first: 2) {{ totalCount pageInfo {{ endCursor }} }} }}")
        )[name]
        assert page["totalCount"] > 0, f"{name}({args}) matches nothing even for the ministry"
        cursor = page["pageInfo"]["endCursor"]
        data = await empty.data(f"{{ {name}({args} first: 100) {{ {PAGE_FIELDS} }} }}")
        assert data[name] == EMPTY_PAGE, args
        past = await empty.data(
            f'{{ {name}({args} first: 100, after: "{cursor}") {{ totalCount nodes {{ id }} }} }}'
        )
        assert past[name] == {"totalCount": 0, "nodes": []}, args
    own = await empty.data(f"{{ {name}(first: 0) {{ totalCount }} }}")
    assert own[name]["totalCount"] == 0


async def _ids_by_type(ministry: Api) -> dict[str, list[str]]:
    """A few real global ids of every fetchable Node type, as the ministry sees them."""
    found: dict[str, list[str]] = {}
    for name, node in CONNECTIONS.items():
        nodes = (await ministry.data(f"{{ {name}(first: 3) {{ nodes {{ id }} }} }}"))[name]["nodes"]
        found.setdefault(node, []).extend(n["id"] for n in nodes)
    for node, query in NESTED_IDS.items():
        data = await ministry.data(query)
        ids = [n["id"] for p in data["projects"]["nodes"] for n in p["signInPoints"]["nodes"]]
        found[node] = ids[:3]
    for node, ids in found.items():
        assert ids, f"the ministry sees no {node}: nothing to probe with"
    return found


async def test_node_lookups_find_nothing(ministry: Api, empty: Api) -> None:
    ids = await _ids_by_type(ministry)
    flat = [i for group in ids.values() for i in group]
    seen = (await ministry.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": flat}))["nodes"]
    assert all(n is not None for n in seen)
    for node_type, group in ids.items():
        for global_id in group:
            body = await empty.gql("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
            assert body["data"] == {"node": None}, node_type
            assert codes(body) == ["NOT_FOUND"], node_type
    body = await empty.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": flat})
    assert "errors" not in body and body["data"] == {"nodes": [None] * len(flat)}


async def test_public_nodes_stay_public(empty: Api) -> None:
    region = await empty.data('{ node(id: "UmVnaW9uOjM3MDEwMjAwMDAwMA==") { ... on Region { code name } } }')
    assert region["node"] == {"code": "370102000000", "name": "历下区"}
    data = await empty.data('{ region(code: "650102000000") { name } regions { totalCount } }')
    assert data["region"]["name"] == "天山区" and data["regions"]["totalCount"] > 0


async def test_lookups_by_key_find_nothing(ministry: Api, empty: Api) -> None:
    keys = await ministry.data(
        "{ volunteers(first: 5) { nodes { volunteerNumber } } teams(first: 20) { nodes { creditCode } } }"
    )
    numbers = [v["volunteerNumber"] for v in keys["volunteers"]["nodes"]]
    credit_codes = [t["creditCode"] for t in keys["teams"]["nodes"] if t["creditCode"]]
    assert numbers and credit_codes
    for number in numbers:
        body = await empty.gql("query($n: String!) { volunteerByNumber(number: $n) { id } }", {"n": number})
        assert body["data"] == {"volunteerByNumber": None} and codes(body) == ["NOT_FOUND"]
    for code in credit_codes:
        body = await empty.gql("query($c: String!) { teamByCreditCode(creditCode: $c) { id } }", {"c": code})
        assert body["data"] == {"teamByCreditCode": None} and codes(body) == ["NOT_FOUND"]


def _entity_keys() -> dict[str, list[str]]:
    """Key fields of every federation entity type, from the schema's @key directives."""
    union = schema._schema.get_type("_Entity")
    assert isinstance(union, GraphQLUnionType)
    keys: dict[str, list[str]] = {}
    for member in union.types:
        definition: Any = schema.get_type_by_name(member.name)
        keys[member.name] = [d.fields for d in definition.directives if type(d).__name__ == "Key"]
    return keys


async def test_entities_resolve_to_nothing(ministry: Api, empty: Api) -> None:
    representations: list[dict[str, Any]] = []
    for entity, keys in _entity_keys().items():
        if entity == "Region":
            continue
        lists = [name for name, node in CONNECTIONS.items() if node == entity]
        assert lists, f"no root list to find {entity} keys with"
        nodes = (await ministry.data(f"{{ {lists[0]}(first: 20) {{ nodes {{ {' '.join(keys)} }} }} }}"))[
            lists[0]
        ]["nodes"]
        for key in keys:
            value = next(n[key] for n in nodes if n[key])
            representations.append({"__typename": entity, key: value})
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    seen = (await ministry.data(query, {"r": representations}))["_entities"]
    assert all(e is not None for e in seen)
    assert (await empty.data(query, {"r": representations}))["_entities"] == [None] * len(representations)
    region = await empty.data(query, {"r": [{"__typename": "Region", "code": "370102000000"}]})
    assert region["_entities"] == [{"__typename": "Region"}]


async def test_viewer_is_only_the_grant(empty: Api) -> None:
    data = await empty.data("{ viewer { username grants { role regionCode } volunteer { id } } }")
    assert data["viewer"] == {
        "username": USERNAME,
        "grants": [{"role": "REGION_ADMIN", "regionCode": EMPTY_COUNTY}],
        "volunteer": None,
    }


async def test_trial_feedback_is_not_a_countys(ministry: Api, empty: Api) -> None:
    """Forms belong to provinces: a county admin reads none of them, nor the summary."""
    assert (await empty.data("{ trialFeedback { provinceCode } }"))["trialFeedback"] == []
    body = await empty.gql('{ trialFeedback(provinceCode: "650000000000") { provinceCode } }')
    assert body["data"] is None and codes(body) == ["FORBIDDEN"]
    body = await empty.gql("{ trialFeedbackSummary { submitted } }")
    assert body["data"] is None and codes(body) == ["FORBIDDEN"]
    summary = await ministry.gql("{ trialFeedbackSummary { submitted } }")
    assert "errors" not in summary  # the same query, refused above, is the ministry's to ask
