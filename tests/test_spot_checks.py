"""Spot checks (抽查) through the HTTP app: the draw (uniform, deterministic per seed, both sampling paths
checked against the same draw computed here), findings, publication, who sees what, and refusals.

The world lives in 南宁: 江南区 (home team and county admin) and 西乡塘区 (other team and its county admin),
with the city admin of 南宁 above both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

import models as m
from models.enums import RecordStatus
from resolvers import spot_checks
from tests.conftest import Api
from tests.record_world import World, code_of, make_world, region_grant
from tests.supervision_world import add_records, today
from tests.visibility import db_id, gid

JIANGNAN, XIXIANGTANG, NANNING = "450105000000", "450107000000", "450100000000"

CREATE = """
mutation($region: String!, $size: Int!, $seed: Int) {
  createSpotCheck(regionCode: $region, size: $size, seed: $seed) {
    id regionCode sampleSize seed status summary { finding count }
    items(first: 100) { totalCount nodes { id draw finding note record { id status hours } } }
  }
}
"""
FINDING = """
mutation($id: ID!, $finding: SpotCheckFinding!, $note: String) {
  recordSpotCheckFinding(itemId: $id, finding: $finding, note: $note) { id finding note checkedAt }
}
"""
PUBLISH = "mutation($id: ID!) { publishSpotCheck(spotCheckId: $id) { id status publishedAt summary { finding count } } }"
LIST = "{ spotChecks(first: 100) { totalCount nodes { id status regionCode summary { finding count } } } }"


@pytest.fixture(scope="module")
async def world(app: Starlette, api: Api, tokens: dict[str, str]) -> World:
    w = await make_world(app, api, tokens, JIANGNAN, XIXIANGTANG)
    w.admins["xixiangtang"] = await w.admin(region_grant(XIXIANGTANG))
    w.admins["nanning"] = await w.admin(region_grant(NANNING))
    volunteers = [await w.volunteer() for _ in range(3)]
    rows: list[dict[str, Any]] = []
    for n in range(12):
        for team in ("home", "other"):
            rows.append(
                {
                    "volunteer_id": volunteers[n % 3].volunteer_id,
                    "team_id": w.teams[team],
                    "hours": 2,
                    "service_date": today() - timedelta(days=n + 1),
                    "status": RecordStatus.PENDING if n % 4 == 3 else RecordStatus.CONFIRMED,
                }
            )
    await add_records(w, rows)
    return w


async def confirmed_in(w: World, region: str) -> list[int]:
    async with w.sessions() as session:
        r = m.ServiceRecord
        statement = select(r.id).where(
            r.status == RecordStatus.CONFIRMED, r.region_code.like(f"{region[:6]}%")
        )  # type: ignore[arg-type,attr-defined]
        return sorted((await session.execute(statement)).scalars())


async def id_range(w: World) -> tuple[int, int]:
    async with w.sessions() as session:
        low, high = (
            await session.execute(select(func.min(m.ServiceRecord.id), func.max(m.ServiceRecord.id)))
        ).one()  # type: ignore[arg-type]
        return int(low), int(high)


def record_ids(check: dict[str, Any]) -> list[int]:
    return [db_id(n["record"]["id"]) for n in check["items"]["nodes"]]


async def spot_check_rows(w: World) -> int:
    async with w.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(m.SpotCheck))).scalar_one())


async def test_draw_is_the_seeded_permutation_of_the_id_range(world: World) -> None:
    """The id-probe path: the first ``size`` confirmed 江南 records in the seeded draw order, nothing else."""
    county = world.as_(world.admins["county"])
    check = (await county.data(CREATE, {"region": JIANGNAN, "size": 5, "seed": 20260101}))["createSpotCheck"]
    assert (check["status"], check["seed"], check["sampleSize"], check["summary"]) == (
        "DRAFT",
        20260101,
        5,
        None,
    )
    eligible = set(await confirmed_in(world, JIANGNAN))
    low, high = await id_range(world)
    draw = spot_checks.draws(20260101, low, high, min(high - low + 1, spot_checks.PROBE_BUDGET))
    expected = [i for i in draw if i in eligible][:5]
    assert record_ids(check) == expected
    assert [n["draw"] for n in check["items"]["nodes"]] == list(range(5))
    assert all(n["record"]["status"] == "CONFIRMED" and n["finding"] is None for n in check["items"]["nodes"])
    again = (await county.data(CREATE, {"region": JIANGNAN, "size": 5, "seed": 20260101}))["createSpotCheck"]
    assert record_ids(again) == expected and again["id"] != check["id"]


async def test_sample_larger_than_the_region_takes_every_confirmed_record(world: World) -> None:
    county = world.as_(world.admins["county"])
    check = (await county.data(CREATE, {"region": JIANGNAN, "size": 500, "seed": 7}))["createSpotCheck"]
    assert sorted(record_ids(check)) == await confirmed_in(world, JIANGNAN)
    assert check["items"]["totalCount"] == len(await confirmed_in(world, JIANGNAN)) == 9


async def test_sparse_region_falls_back_to_hash_order(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a probe budget too small for the region's share of the ids, the sample is the region's confirmed
    records ordered by the seeded hash: the same draw computed here."""
    monkeypatch.setattr(spot_checks, "PROBE_BUDGET", 8)
    county = world.as_(world.admins["county"])
    seed = 99
    check = (await county.data(CREATE, {"region": JIANGNAN, "size": 4, "seed": seed}))["createSpotCheck"]
    eligible = await confirmed_in(world, JIANGNAN)
    key = lambda i: ((i * spot_checks.HASH_MULTIPLIER + seed) % spot_checks.HASH_MODULUS, i)  # noqa: E731
    assert record_ids(check) == sorted(eligible, key=key)[:4]


async def test_random_seed_is_kept(world: World) -> None:
    county = world.as_(world.admins["county"])
    check = (await county.data(CREATE, {"region": JIANGNAN, "size": 2}))["createSpotCheck"]
    assert 0 <= check["seed"] < 2**31
    low, high = await id_range(world)
    eligible = set(await confirmed_in(world, JIANGNAN))
    draw = spot_checks.draws(check["seed"], low, high, min(high - low + 1, spot_checks.PROBE_BUDGET))
    assert record_ids(check) == [i for i in draw if i in eligible][:2]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"region": JIANGNAN, "size": 0}, ("BAD_USER_INPUT", "SAMPLE_SIZE")),
        ({"region": JIANGNAN, "size": 501}, ("BAD_USER_INPUT", "SAMPLE_SIZE")),
        ({"region": JIANGNAN, "size": 3, "seed": -1}, ("BAD_USER_INPUT", "SEED_RANGE")),
        ({"region": "45010", "size": 3}, ("BAD_USER_INPUT", "REGION_UNKNOWN")),
        ({"region": XIXIANGTANG, "size": 3}, ("OUT_OF_JURISDICTION", None)),
        ({"region": "450105001000", "size": 3}, ("INVALID_STATE", "NO_RECORDS_TO_SAMPLE")),
    ],
)
async def test_bad_input_writes_nothing(
    world: World, variables: dict[str, Any], expected: tuple[str, str | None]
) -> None:
    before = await spot_check_rows(world)
    body = await world.as_(world.admins["county"]).gql(CREATE, variables)
    assert code_of(body) == expected
    assert await spot_check_rows(world) == before


async def test_full_flow_and_visibility(world: World, app: Starlette, tokens: dict[str, str]) -> None:
    county, city = world.as_(world.admins["county"]), world.as_(world.admins["nanning"])
    other = world.as_(world.admins["xixiangtang"])
    check = (await county.data(CREATE, {"region": JIANGNAN, "size": 3, "seed": 5}))["createSpotCheck"]
    items = check["items"]["nodes"]
    # a draft is its author's: the city admin neither lists it nor writes to it; the ministry sees it, may not write
    assert check["id"] not in {n["id"] for n in (await city.data(LIST))["spotChecks"]["nodes"]}
    body = await city.gql(FINDING, {"id": items[0]["id"], "finding": "OK"})
    assert code_of(body) == ("NOT_FOUND", None)
    ministry = world.as_("demo_ministry")
    body = await ministry.gql(FINDING, {"id": items[0]["id"], "finding": "OK"})
    assert code_of(body) == ("FORBIDDEN", None)
    # findings: a problem needs a note; the item must exist
    body = await county.gql(FINDING, {"id": items[0]["id"], "finding": "HOURS_MISMATCH"})
    assert code_of(body) == ("BAD_USER_INPUT", "NOTE_REQUIRED")
    body = await county.gql(FINDING, {"id": gid("SpotCheckItem", 10**9), "finding": "OK"})
    assert code_of(body) == ("NOT_FOUND", None)
    body = await county.gql(FINDING, {"id": check["id"], "finding": "OK"})
    assert code_of(body) == ("BAD_USER_INPUT", "BAD_ID")
    done = await county.data(
        FINDING, {"id": items[0]["id"], "finding": "HOURS_MISMATCH", "note": " 实际 1.5 小时 "}
    )
    assert done["recordSpotCheckFinding"]["note"] == "实际 1.5 小时"
    await county.data(FINDING, {"id": items[1]["id"], "finding": "OK"})
    body = await county.gql(PUBLISH, {"id": check["id"]})
    assert code_of(body) == ("INVALID_STATE", "SPOT_CHECK_INCOMPLETE")
    assert body["errors"][0]["extensions"]["unchecked"] == 1
    await county.data(FINDING, {"id": items[2]["id"], "finding": "OK"})
    await county.data(
        FINDING, {"id": items[1]["id"], "finding": "NO_EVIDENCE", "note": "无签到照片"}
    )  # changed mind
    audits = await world.audit_count("SPOT_CHECK_PUBLISHED")
    published = (await county.data(PUBLISH, {"id": check["id"]}))["publishSpotCheck"]
    assert published["status"] == "PUBLISHED" and published["publishedAt"]
    assert {s["finding"]: s["count"] for s in published["summary"]} == {
        "HOURS_MISMATCH": 1,
        "NO_EVIDENCE": 1,
        "OK": 1,
    }
    assert await world.audit_count("SPOT_CHECK_PUBLISHED") == audits + 1
    # published: frozen, and readable by the region's admins and upper levels only
    body = await county.gql(FINDING, {"id": items[2]["id"], "finding": "FALSE_RECORD", "note": "x"})
    assert code_of(body) == ("INVALID_STATE", "SPOT_CHECK_PUBLISHED")
    assert code_of(await county.gql(PUBLISH, {"id": check["id"]})) == (
        "INVALID_STATE",
        "SPOT_CHECK_PUBLISHED",
    )
    for reader in (city, county, ministry):
        seen = {n["id"]: n for n in (await reader.data(LIST))["spotChecks"]["nodes"]}
        assert seen[check["id"]]["summary"] == published["summary"]
    assert check["id"] not in {n["id"] for n in (await other.data(LIST))["spotChecks"]["nodes"]}
    assert (await other.gql("query($id: ID!) { node(id: $id) { id } }", {"id": check["id"]}))["data"][
        "node"
    ] is None
    xihu = (await world.api.as_(tokens["demo_xihu"]).data(LIST))["spotChecks"]["nodes"]
    assert check["id"] not in {n["id"] for n in xihu}


async def test_list_costs_one_statement_per_level(world: World, count_sql: Callable[[], Any]) -> None:
    county = world.as_(world.admins["county"])
    query = (
        "{ spotChecks(first: 20) { nodes { id items(first: 5) { nodes { finding record { hours } } } } } }"
    )
    with count_sql() as log:
        nodes = (await county.data(query))["spotChecks"]["nodes"]
    assert len(nodes) >= 4 and all(n["items"]["nodes"] for n in nodes)
    assert len(log) == 3, log.report()


@pytest.mark.parametrize(("who", "code"), [(None, "UNAUTHENTICATED"), ("home", "FORBIDDEN")])
async def test_only_region_admins_check(world: World, who: str | None, code: str) -> None:
    client = world.as_(world.admins[who] if who else None)
    for query, variables in (
        (CREATE, {"region": JIANGNAN, "size": 1}),
        (FINDING, {"id": gid("SpotCheckItem", 1), "finding": "OK"}),
        (PUBLISH, {"id": gid("SpotCheck", 1)}),
    ):
        assert code_of(await client.gql(query, variables))[0] == code


def test_draws_are_seeded_permutations() -> None:
    """Both ways of drawing give distinct ids of the range, reproducibly, with every id equally likely first."""
    assert sorted(spot_checks.draws(3, 10, 29, 20)) == list(range(10, 30))  # small range: a shuffle
    large = list(spot_checks.draws(3, 1, 10**9, 5000))  # large range: draws skipping repeats
    assert len(set(large)) == 5000 and all(1 <= i <= 10**9 for i in large)
    assert large == list(spot_checks.draws(3, 1, 10**9, 5000)) != list(spot_checks.draws(4, 1, 10**9, 5000))
    for high, limit in ((10, 10), (1000, 10)):
        first = Counter(
            (next(spot_checks.draws(seed, 1, high, limit)) - 1) * 10 // high for seed in range(2000)
        )
        assert sorted(first) == list(range(10)) and all(140 <= n <= 260 for n in first.values()), first
