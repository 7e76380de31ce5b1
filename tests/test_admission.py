"""Persisted queries, trusted documents, body size, rate limits and the execution timeout."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server import create_app
from settings import Settings
from tests.conftest import Api

QUERY = "{ regions(first: 2) { nodes { code } } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()


def apq(digest: str = DIGEST, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


@asynccontextmanager
async def variant(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app again over the same database, with some settings changed."""
    app: Starlette = create_app(dataclasses.replace(settings, **changes), migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_automatic_persisted_queries(api: Api) -> None:
    digest = hashlib.sha256(f"{QUERY} # {id(api)}".encode()).hexdigest()
    text = f"{QUERY} # {id(api)}"
    miss = (await api.client.post("/graphql", json=apq(digest))).json()
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"
    stored = (await api.client.post("/graphql", json=apq(digest, text))).json()
    assert len(stored["data"]["regions"]["nodes"]) == 2
    hit = (await api.client.post("/graphql", json=apq(digest))).json()
    assert hit["data"] == stored["data"]
    wrong = (await api.client.post("/graphql", json=apq("0" * 64, QUERY))).json()
    assert wrong["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    extensions = json.dumps(apq(digest)["extensions"])
    via_get = await api.client.get(
        "/graphql", params={"extensions": extensions}, headers={"accept": "application/json"}
    )
    assert via_get.status_code == 200, via_get.text
    assert via_get.json()["data"] == stored["data"]


async def test_trusted_documents_only(settings: Settings, tmp_path: Path, app: Starlette) -> None:
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": DIGEST, "body": QUERY, "name": "Regions", "type": "query"}],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    async with variant(settings, trusted_documents=str(path), gateway_secret="s3cret") as client:
        by_hash = (await client.post("/graphql", json=apq())).json()
        assert len(by_hash["data"]["regions"]["nodes"]) == 2
        listed_text = (await client.post("/graphql", json={"query": QUERY})).json()
        assert "errors" not in listed_text
        other = (await client.post("/graphql", json={"query": "{ regions(first: 3) { totalCount } }"})).json()
        assert other["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        unknown = (await client.post("/graphql", json=apq("1" * 64))).json()
        assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        gateway = await client.post(
            "/graphql", json={"query": "{ _service { sdl } }"}, headers={"x-zhiyuan-gateway": "s3cret"}
        )
        assert "@key" in gateway.json()["data"]["_service"]["sdl"]


async def test_oversized_bodies_are_refused(settings: Settings, app: Starlette) -> None:
    async with variant(settings, max_body_bytes=200) as client:
        big = {"query": QUERY, "variables": {"pad": "x" * 500}}
        response = await client.post("/graphql", json=big)
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 100

        streamed = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert (await client.post("/graphql", json={"query": "{ __typename }"})).status_code == 200


async def test_rate_limits_per_address_and_per_account(
    settings: Settings, app: Starlette, tokens: dict[str, str]
) -> None:
    async with variant(settings, rate_limit_anonymous=3, rate_limit_signed_in=5) as client:
        answers = [await client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["errors"][0]["extensions"]["retryAfter"] == int(refused.headers["retry-after"])
        auth = {"authorization": f"Bearer {tokens['demo_lixia']}"}
        signed = [
            await client.post("/graphql", json={"query": "{ __typename }"}, headers=auth) for _ in range(6)
        ]
        assert [a.status_code for a in signed] == [200] * 5 + [429]
        health = await client.get("/healthz")
        assert health.status_code == 200  # only the API is limited


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_slow_operations_time_out(settings: Settings, app: Starlette, tokens: dict[str, str]) -> None:
    async with variant(settings, execution_timeout=0.000001) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ volunteers(first: 100) { totalCount nodes { name } } }"},
            headers={"authorization": f"Bearer {tokens['demo_ministry']}"},
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"


async def test_public_certificate_pages_are_rate_limited(settings: Settings, app: Starlette) -> None:
    async with variant(settings, rate_limit_anonymous=2) as client:
        codes = [
            (await client.get("/verify", params={"number": "ZY1", "code": "AAAAAAAA"})).status_code
            for _ in range(3)
        ]
        assert codes[-1] == 429 and 429 not in codes[:2]


async def test_production_refuses_development_keys(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="development keys"):
        create_app(dataclasses.replace(settings, environment="production", uses_dev_keys=True))


async def test_introspection_can_be_switched_off_without_hiding_the_sdl(
    settings: Settings, app: Starlette
) -> None:
    async with variant(settings, introspection=False) as client:
        refused = (await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
        assert refused["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        nested = (
            await client.post(
                "/graphql",
                json={
                    "query": '{ region(code: "110000000000") { __type: name } a: __type(name: "Query") { name } }'
                },
            )
        ).json()
        assert nested["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        sdl = (await client.post("/graphql", json={"query": "{ __typename _service { sdl } }"})).json()
        assert sdl["data"]["__typename"] == "Query" and "@key" in sdl["data"]["_service"]["sdl"]
        for _ in range(2):  # the answer is remembered per query text: asked again, refused again
            again = (await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
            assert again["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
            plain = (await client.post("/graphql", json={"query": "{ __typename _service { sdl } }"})).json()
            assert "errors" not in plain and plain["data"]["__typename"] == "Query"
