"""Observability through the real app: what the logs hold after a whole session, request ids, metrics,
readiness.

The log test captures everything the root logger emits at DEBUG (SQLAlchemy's statements with their
parameters, aiosqlite, the access lines, the unexpected-error tracebacks) through the handler that
``configure_logging`` installs in production, and looks there for every ID number, mobile number, password and
token the session sent or received.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from starlette.applications import Starlette

import models as m
from models.db import make_engine
from models.pii import PiiCipher
from schema.observability import configure_logging, redact
from tests.conftest import DEMO_PASSWORD, LOGIN, Api
from tests.registration_helpers import REGISTER, volunteer_input

REFRESH = """
mutation Refresh($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken } }
"""
VOLUNTEERS = """
query Revealed($n: Int!) {
  volunteers(first: $n, filter: {region: "370000000000"}) { nodes { id name idNumber phone } }
}
"""
SEARCH = "query Search($n: String) { volunteers(first: 1, filter: {nameContains: $n}) { totalCount } }"
VIEWER = "{ viewer { username } }"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
async def api_here(app: Starlette) -> AsyncIterator[Api]:
    """A client from its own address: the login throttle counts failures per address for the whole session."""
    transport = httpx.ASGITransport(app=app, client=("127.0.9.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


@contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Everything logged meanwhile, as the production handler (JSON, redacting) writes it; SQLAlchemy's
    statement log (which it keeps at WARNING unless asked) switched on as an operator debugging would."""
    root, sql = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    saved = root.handlers[:], root.level, sql.level
    stream = io.StringIO()
    configure_logging(level, json_logs=True, stream=stream)
    sql.setLevel(level)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        sql.setLevel(saved[2])


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics, by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_a_whole_session_leaves_no_personal_data_or_secret_in_the_logs(
    api_here: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = api_here
    secrets: list[str] = [DEMO_PASSWORD]
    with captured_logs() as logs:
        # given a province admin who may reveal, signed in and refreshed
        login = (await api.data(LOGIN, {"u": "demo_shandong", "p": DEMO_PASSWORD}))["login"]
        refreshed = (await api.data(REFRESH, {"t": login["refreshToken"]}))["refreshTokens"]
        secrets += [login["accessToken"], login["refreshToken"], *refreshed.values()]
        admin = api.as_(refreshed["accessToken"])

        # a registration: the volunteer's own ID number and phone come back unmasked
        values = volunteer_input()
        registered = (await api.data(REGISTER, {"input": values}))["registerVolunteer"]
        session = registered["session"]
        assert session["viewer"]["volunteer"]["idNumber"] == values["idNumber"]
        secrets += [values["idNumber"], values["phone"], values["password"]]
        secrets += [session["accessToken"], session["refreshToken"]]

        # a failing sign-in, with a wrong password of its own
        wrong = f"{values['password']}-wrong"
        failed = await api.gql(LOGIN, {"u": values["username"], "p": wrong})
        assert failed["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"
        secrets.append(wrong)

        # unmasked reads: the plain values pass through the resolvers and the audit writer
        nodes = (await admin.data(VOLUNTEERS, {"n": 20}))["volunteers"]["nodes"]
        assert len(nodes) == 20
        for node in nodes:
            assert "*" not in node["idNumber"] and "*" not in node["phone"], node
            secrets += [node["idNumber"], node["phone"]]

        # personal data in variables that fail coercion (echoed to the sender, never to the logs)
        bad = await api.gql(REGISTER, {"input": {"idNumber": values["idNumber"], "phone": values["phone"]}})
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
        # … in a GET query string, and in a search term
        via_get = await admin.client.get(
            "/graphql",
            params={"query": SEARCH, "variables": json.dumps({"n": values["phone"]})},
            headers={"accept": "application/json", "authorization": f"Bearer {refreshed['accessToken']}"},
        )
        assert via_get.status_code == 200 and "errors" not in via_get.json(), via_get.text
        # … and a tampered token
        tampered = refreshed["accessToken"][:-4] + "AAAA"
        refused = await api.as_(tampered).post(VIEWER)
        assert refused.status_code == 401 or "errors" in refused.json()
        secrets.append(tampered)

        # an unexpected error whose message and traceback carry the plain values
        original = PiiCipher.decrypt

        def exploding(cipher: PiiCipher, blob: bytes, column: str) -> str:
            plain = original(cipher, blob, column)
            raise RuntimeError(f"cannot show {column} {plain!r} (sent as {plain})")

        monkeypatch.setattr(PiiCipher, "decrypt", exploding)
        broken = await admin.gql(VOLUNTEERS, {"n": 2})
        monkeypatch.undo()
        codes = {e["extensions"]["code"] for e in broken["errors"]}
        assert codes == {"INTERNAL_SERVER_ERROR"}, broken
        assert not [s for s in secrets if s in json.dumps(broken, ensure_ascii=False)]

    output = logs.getvalue()
    lines = log_lines(logs)
    # then the logs saw the session: SQL with its parameters, access lines, the error with its traceback
    assert any(line["logger"].startswith("sqlalchemy.engine") for line in lines)
    assert sum(line["logger"] == "zhiyuan.access" for line in lines) == 9  # one per request above
    tracebacks = [line for line in lines if line["logger"] == "zhiyuan.errors"]
    assert tracebacks and all("RuntimeError: cannot show volunteer." in t["exception"] for t in tracebacks)
    assert len({t["request_id"] for t in tracebacks} - {"-"}) == 1  # all from the one failing request
    assert any(redact(node["phone"]) in output for node in nodes[:2])  # masked, so it was there to mask
    # and none of the session's personal data or secrets
    leaked = sorted({s for s in secrets if s in output})
    where = [
        f"{line['logger']}: {json.dumps(line, ensure_ascii=False).replace(s, '<LEAK>')[:300]}"
        for s in leaked
        for line in lines
        if s in json.dumps(line, ensure_ascii=False)
    ]
    assert not leaked, "\n".join([f"{len(leaked)} secret values in the logs:", *where[:10]])


async def test_request_ids_are_echoed_or_made_and_reach_the_logs_and_the_audit_trail(
    api_here: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    admin = api_here.as_(tokens["demo_shandong"])
    given = f"obs-{uuid.uuid4().hex[:12]}"
    with captured_logs() as logs:
        echoed = await admin.post(VOLUNTEERS, {"n": 1}, **{"x-request-id": given})
    made = await admin.post(VOLUNTEERS, {"n": 1})
    invalid = [
        (await admin.client.post("/graphql", json={"query": VIEWER}, headers={"x-request-id": bad}))
        for bad in (b"has space", b"x" * 41, "中文".encode(), b"a;b", b"")
    ]

    assert echoed.headers["x-request-id"] == given
    assert HEX32.fullmatch(made.headers["x-request-id"])
    assert all(HEX32.fullmatch(r.headers["x-request-id"]) for r in invalid)
    lines = log_lines(logs)
    assert lines and all(set(line) >= {"time", "level", "logger", "message", "request_id"} for line in lines)
    ours = [line for line in lines if line["request_id"] == given]
    access = [line for line in ours if line["logger"] == "zhiyuan.access"]
    assert len(access) == 1 and access[0]["path"] == "/graphql" and access[0]["status"] == 200
    assert any(line["logger"].startswith("sqlalchemy.engine") for line in ours)  # the SQL carries it too
    async with app.state.services.sessions() as session:
        audited = set(
            (
                await session.execute(
                    select(m.AuditEvent.request_id).where(
                        m.AuditEvent.request_id.in_([given, made.headers["x-request-id"]])  # type: ignore[attr-defined]
                    )
                )
            ).scalars()
        )
    assert audited == {given, made.headers["x-request-id"]}


async def test_metrics_count_requests_operations_errors_and_sql(api_here: Api, count_sql: Any) -> None:
    client = api_here.client
    before = await scrape(client)
    with count_sql() as sql:
        failed = await api_here.gql(LOGIN, {"u": f"nobody_{uuid.uuid4().hex[:8]}", "p": "Wrong#pass1"})
        await api_here.data("{ regions(first: 3) { nodes { code name parent { code } } } }")
        await api_here.data("{ __typename }")
    assert failed["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    after = await scrape(client)

    assert delta(before, after, "zhiyuan_graphql_errors_total", code="INVALID_CREDENTIALS") == 1
    assert delta(before, after, "zhiyuan_graphql_operations_total", operation_type="mutation") == 1
    assert delta(before, after, "zhiyuan_graphql_operations_total", operation_type="query") == 2
    assert (
        delta(before, after, "zhiyuan_http_requests_total", method="POST", path="/graphql", status="200") == 3
    )
    assert (
        delta(before, after, "zhiyuan_http_requests_total", method="GET", path="unmatched", status="404") == 1
    )
    assert (
        delta(before, after, "zhiyuan_http_requests_total", method="GET", path="/metrics", status="200") == 1
    )
    assert delta(before, after, "zhiyuan_http_request_seconds_count", method="POST", path="/graphql") == 3
    assert delta(before, after, "zhiyuan_http_request_seconds_sum", method="POST", path="/graphql") > 0
    assert delta(before, after, "zhiyuan_sql_statements_per_operation_count") == 3
    # every statement the engine saw, attributed to the operations; __typename sent none
    assert delta(before, after, "zhiyuan_sql_statements_per_operation_sum") == len(sql), sql.report()
    assert delta(before, after, "zhiyuan_sql_statements_per_operation_bucket", le="0.0") == 1


async def test_readiness_fails_when_the_database_does_not_answer(api_here: Api, app: Starlette) -> None:
    client = api_here.client
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    engine = (
        app.state.engine
    )  # swapped by hand: monkeypatch would delete the attribute from Starlette's State
    app.state.engine = make_engine("postgresql+asyncpg://zhiyuan@127.0.0.1:1/nothing", pool_pre_ping=False)
    try:
        with captured_logs("ERROR") as logs:
            down = await client.get("/readyz")
        assert (down.status_code, down.json()) == (503, {"status": "unavailable"})
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready
        assert [line["message"] for line in log_lines(logs)] == ["readiness check failed"]
    finally:
        await app.state.engine.dispose()
        app.state.engine = engine
    assert (await client.get("/readyz")).status_code == 200
