"""Through a real Apollo Gateway (npm @apollo/gateway, IntrospectAndCompose) over this subgraph and a second
one (tests/federation/insurance_subgraph.py), all on loopback: the caller's token is forwarded to both
subgraphs, entity fetches from the other subgraph go through Zhiyuan's scoped `_entities`, and jurisdiction,
masking and authentication hold through the gateway exactly as they do directly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import Api
from tests.federation import insurance_subgraph
from tests.federation.insurance_subgraph import Seen
from tests.live_server import serving
from tests.test_federation_composition import NPM, node_tools_or_skip

START_TIMEOUT = 30.0
"""Seconds the gateway may take to introspect both subgraphs, compose and listen."""
REQUEST_TIMEOUT = 15.0

IDS = "{ volunteers(first: 100) { nodes { id region { code } } } }"
LIXIA, XIHU = "370102", "330106"


@dataclass
class Federation:
    gateway: httpx.AsyncClient
    seen: list[Seen]
    """Requests the insurance subgraph received."""
    book: list[str]
    """Volunteer ids the insurance subgraph's ``policiesExpiringSoon`` lists, Lixia and Xihu alternating."""
    stderr: Path

    async def gql(self, query: str, token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.gateway.post("/", json={"query": query}, headers=headers)
        assert response.status_code == 200, (response.status_code, response.text, self.stderr.read_text())
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, token: str | None = None) -> dict[str, Any]:
        body = await self.gql(query, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


async def _book(api: Api, tokens: dict[str, str]) -> list[str]:
    rows = (await api.as_(tokens["demo_ministry"]).data(IDS))["volunteers"]["nodes"]
    lixia = [v["id"] for v in rows if v["region"]["code"].startswith(LIXIA)][:3]
    xihu = [v["id"] for v in rows if v["region"]["code"].startswith(XIHU)][:3]
    assert len(lixia) == len(xihu) == 3, "the demo data should have volunteers in both districts"
    return [vid for pair in zip(lixia, xihu, strict=True) for vid in pair]


async def _ready_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    while line := (await process.stdout.readline()).decode():
        if line.startswith("READY "):
            return line.split()[1]
    raise AssertionError(f"gateway exited ({await process.wait()}) before it was ready")


@pytest.fixture(scope="module")
async def federation(
    app: Starlette, api: Api, tokens: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Federation]:
    node = node_tools_or_skip()
    book = await _book(api, tokens)
    insurance = insurance_subgraph.create_app(book)
    stderr = tmp_path_factory.mktemp("gateway") / "stderr.log"
    async with serving(app) as zhiyuan_url, serving(insurance) as insurance_url:
        with stderr.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                node,
                str(NPM / "gateway.mjs"),
                "0",
                f"zhiyuan={zhiyuan_url}/graphql",
                f"insurance={insurance_url}/graphql",
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                cwd=NPM,
            )
        try:
            try:
                url = await asyncio.wait_for(_ready_line(process), timeout=START_TIMEOUT)
            except TimeoutError:
                pytest.fail(f"gateway not ready in {START_TIMEOUT}s: {stderr.read_text()}")
            assert url.startswith("http://127.0.0.1:"), url
            async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as client:
                yield Federation(client, insurance.state.seen, book, stderr)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=5)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            if process.stdout is not None:  # drain the closed pipe so its transport is not left behind
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.stdout.read(), timeout=5)


def _entity_requests(seen: list[Seen]) -> list[Seen]:
    return [s for s in seen if s.query and "_entities" in s.query]


async def test_a_query_spanning_both_subgraphs_forwards_the_token(
    federation: Federation, api: Api, tokens: dict[str, str]
) -> None:
    token = tokens["demo_lixia"]
    before = len(federation.seen)
    through = await federation.data(
        "{ volunteers(first: 5) { nodes { id name volunteerNumber insurancePolicies { policyNumber } } }"
        " teams(first: 3) { nodes { id name trainingSessions { title hours } } } }",
        token,
    )
    direct = await api.as_(token).data(
        "{ volunteers(first: 5) { nodes { id name volunteerNumber } } teams(first: 3) { nodes { id name } } }"
    )
    volunteers = through["volunteers"]["nodes"]
    assert len(volunteers) == 5
    assert [(v["id"], v["name"], v["volunteerNumber"]) for v in volunteers] == [
        (v["id"], v["name"], v["volunteerNumber"]) for v in direct["volunteers"]["nodes"]
    ]
    for v in volunteers:
        expected = [p.policy_number for p in insurance_subgraph.policies_of(v["id"])]
        assert [p["policyNumber"] for p in v["insurancePolicies"]] == expected
    teams = through["teams"]["nodes"]
    assert [(t["id"], t["name"]) for t in teams] == [(t["id"], t["name"]) for t in direct["teams"]["nodes"]]
    assert teams and all(t["trainingSessions"] for t in teams)

    fetches = _entity_requests(federation.seen[before:])
    assert fetches, "the gateway never asked the insurance subgraph for entities"
    assert {s.authorization for s in fetches} == {f"Bearer {token}"}
    resolved = {key for s in fetches for key in s.entities}
    assert {("Volunteer", v["id"]) for v in volunteers} <= resolved
    assert {("Team", t["id"]) for t in teams} <= resolved


ENTITY_QUERY = "{ policiesExpiringSoon { policyNumber volunteer { id name idNumber } } }"
DIRECT = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Volunteer { id name idNumber } } }"


@pytest.mark.parametrize("who", ["demo_lixia", "demo_xihu", "demo_ministry", None])
async def test_entities_from_zhiyuan_keep_jurisdiction_and_masking(
    federation: Federation, api: Api, tokens: dict[str, str], who: str | None
) -> None:
    token = tokens[who] if who else None
    before = len(federation.seen)
    body = await federation.gql(ENTITY_QUERY, token)
    assert "errors" not in body, body["errors"]
    through = body["data"]["policiesExpiringSoon"]
    direct = (await api.as_(token).data(DIRECT, {"ids": federation.book}))["nodes"]
    assert [p["policyNumber"] for p in through] == [
        insurance_subgraph.policies_of(vid)[0].policy_number for vid in federation.book
    ]
    # the same rows visible, the same values masked, as Zhiyuan answers `nodes(ids:)` directly
    assert [p["volunteer"] for p in through] == direct
    visible = [p["volunteer"] is not None for p in through]
    # a hidden volunteer is Zhiyuan's `_entities` answering null: the gateway nulls the nullable `volunteer`
    # and notes it under extensions.valueCompletion (not as an error)
    nulled = [e["path"][:3] for e in body.get("extensions", {}).get("valueCompletion", [])]
    assert nulled == [["policiesExpiringSoon", i, "volunteer"] for i, v in enumerate(visible) if not v]
    # each request forwarded its own caller's token, or none
    expected = f"Bearer {token}" if token else None
    assert {s.authorization for s in federation.seen[before:]} == {expected}
    if who == "demo_lixia":
        assert visible == [True, False] * 3  # the book alternates Lixia and Xihu volunteers
        assert all("*" in p["volunteer"]["idNumber"] for p in through if p["volunteer"])
    elif who == "demo_xihu":
        assert visible == [False, True] * 3
    elif who == "demo_ministry":
        assert all(visible)
    else:
        assert not any(visible)


async def test_anonymous_is_unauthenticated_through_the_gateway_as_directly(
    federation: Federation, api: Api
) -> None:
    query = "{ volunteers(first: 1) { nodes { name } } }"
    direct = await api.gql(query)
    through = await federation.gql(query)
    assert [e["extensions"]["code"] for e in direct["errors"]] == ["UNAUTHENTICATED"]
    assert [e["extensions"]["code"] for e in through["errors"]] == ["UNAUTHENTICATED"]
    assert through.get("data") is None
