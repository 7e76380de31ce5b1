"""GraphQL over HTTP: the spec's own audit (npm graphql-http) against a live server, plus the rules we pin."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from starlette.applications import Starlette

from tests.conftest import Api
from tests.live_server import serving

NPM = Path(__file__).parent / "npm"


def _tools_or_skip() -> str:
    node = shutil.which("node")
    if node is None or not (NPM / "node_modules" / "graphql-http").is_dir():
        reason = "node and tests/npm/node_modules are needed (make test installs them where npm exists)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return node


async def test_the_graphql_over_http_audit_passes(app: Starlette) -> None:
    node = _tools_or_skip()
    async with serving(app) as base:
        process = await asyncio.create_subprocess_exec(
            node, str(NPM / "audit.mjs"), f"{base}/graphql", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    results = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    failing = [r for r in results if r["status"] != "ok"]
    assert len(results) >= 50
    assert not failing, failing


async def test_mutations_over_get_are_refused(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": 'mutation { logout(refreshToken: "x") }'})
    assert response.status_code == 405


async def test_graphql_response_media_type(api: Api) -> None:
    accept = {"accept": "application/graphql-response+json"}
    bad = await api.client.post("/graphql", json={"query": "{ nope }"}, headers=accept)
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in bad.json()
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    good = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=accept)
    assert good.status_code == 200 and good.json()["data"] == {"__typename": "Query"}
    legacy = await api.client.post("/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")


async def test_unsupported_media_type_and_malformed_json(api: Api) -> None:
    wrong = await api.client.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    assert wrong.status_code in (400, 415)
    broken = await api.client.post("/graphql", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400
