"""Fixtures: one migrated database with the region tree and the demo data for the whole session, the real
ASGI app over httpx, role-bound clients, and a SQL statement counter."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

os.environ["ZHIYUAN_ENV"] = "test"

from settings import Settings, load_settings
from tests.database import create_database, drop_database

DEMO_PASSWORD = "Demo@2026zy"


@dataclass
class Api:
    """The HTTP app as a client sees it, optionally signed in."""

    client: httpx.AsyncClient
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        hdrs = {**self.headers, **headers}
        if self.token:
            hdrs.setdefault("authorization", f"Bearer {self.token}")
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=hdrs
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **headers)
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token, dict(self.headers))


@pytest.fixture(scope="session")
async def settings(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    tmp: Path = tmp_path_factory.mktemp("zhiyuan")
    url, pg_name = await create_database(tmp)
    os.environ["DATABASE_URL"] = url
    os.environ["ZHIYUAN_VAR_DIR"] = str(tmp / "var")
    yield load_settings()
    if pg_name:
        await drop_database(pg_name)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    from cli import load_regions, seed_demo
    from server import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await load_regions(settings)
        await seed_demo(settings, volunteers=300, seed=7, only_if_empty=True)
        yield application


@pytest.fixture(scope="session")
async def api(app: Starlette) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


LOGIN = """
mutation Login($u: String!, $p: String!) {
  login(input: {username: $u, password: $p}) { accessToken refreshToken expiresIn viewer { username } }
}
"""


async def login(api: Api, username: str, password: str = DEMO_PASSWORD) -> str:
    body = await api.gql(LOGIN, {"u": username, "p": password})
    assert "errors" not in body, body
    token: str = body["data"]["login"]["accessToken"]
    return token


DEMO_ACCOUNTS = (
    "demo_ministry",
    "demo_shandong",
    "demo_jinan",
    "demo_lixia",
    "demo_xihu",
    "demo_team",
    "demo_volunteer",
)
"""The demo accounts (models/demo_data.py), one per role and level; password DEMO_PASSWORD."""


@pytest.fixture(scope="session")
async def tokens(api: Api) -> dict[str, str]:
    """Access tokens of the demo accounts, by username."""
    return {name: await login(api, name) for name in DEMO_ACCOUNTS}


TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


@dataclass
class SqlLog:
    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        return "\n".join(f"[{i}] {s}" for i, s in enumerate(self.statements, 1))


@pytest.fixture
def count_sql(app: Starlette) -> Any:
    """``with count_sql() as log:`` records every statement the app's engine sends."""

    @contextmanager
    def counter() -> Iterator[SqlLog]:
        log = SqlLog()
        engine = app.state.engine.sync_engine

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            text = " ".join(statement.split())
            if (
                text.upper() not in TRANSACTION_CONTROL
            ):  # SQLite's explicit BEGIN (models/db.py) is not a query
                log.statements.append(text)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield log
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counter
