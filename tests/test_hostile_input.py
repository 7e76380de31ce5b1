"""Hostile input, generated: random bytes and JSON bodies, token soup made of the schema's own names, every
root field called with variables drawn from its argument types (and from junk), query strings, and the
extremes (1000-deep selections, 100 000-deep JSON, bodies at the size limit, thousands of aliases).

Whatever comes in, the answer is never a 5xx and never shows a stack trace; every JSON error carries an
``extensions.code``, and none of them is INTERNAL_SERVER_ERROR — a client's junk is the client's mistake.
Strawberry's plain-text 400s for bodies it cannot read are fine.

Examples are random on a developer's machine and fixed under CI (``derandomize``), so CI is reproducible
while local runs keep exploring; nothing is stored (``database=None``). ``HOSTILE_EXAMPLES=5000`` hunts longer.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from schema import schema
from tests.conftest import DEMO_PASSWORD, LOGIN

SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "150")),  # more for a longer hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("CI") == "true",
    database=None,
)
GQL = schema._schema
MAX_BODY = 1 << 20


@pytest.fixture(scope="module")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """From its own address: thousands of anonymous requests and failed sign-ins stay out of other tests'
    throttle and rate-limit counts."""
    transport = httpx.ASGITransport(app=app, client=("127.0.66.6", 6666))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="module")
async def bearer(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """Authorization headers by role: hostile queries reach the resolvers, not only the permission checks."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name in ("demo_volunteer", "demo_lixia", "demo_shandong"):
        body = (
            await client.post("/graphql", json={"query": LOGIN, "variables": {"u": name, "p": DEMO_PASSWORD}})
        ).json()
        headers[name] = {"authorization": f"Bearer {body['data']['login']['accessToken']}"}
    return headers


async def post(client: httpx.AsyncClient, payload: Any, **headers: str) -> httpx.Response:
    """As JSON the way a careless client writes it: lone surrogates escaped, Infinity and NaN as bare words."""
    body = json.dumps(payload).encode()
    return await client.post(
        "/graphql", content=body, headers={"content-type": "application/json", **headers}
    )


def check(response: httpx.Response) -> None:
    text = response.text
    assert response.status_code < 500, text[:500]
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    if not response.headers.get("content-type", "").startswith(("application/json", "application/graphql")):
        assert 400 <= response.status_code < 500, (response.status_code, text[:200])
        return
    body = response.json()
    errors = (body.get("errors") or []) if isinstance(body, dict) else []
    assert isinstance(errors, list), body
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code, error
        assert code != "INTERNAL_SERVER_ERROR", error


# --- strategies -----------------------------------------------------------------------------------------------

JUNK_TEXT = st.text(
    alphabet=st.characters(exclude_categories=(), codec=None), max_size=40
)  # control characters, lone surrogates, everything
INTERESTING = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "370102000000",
        "110101199003077777",
        "13912345678",
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "\x00",
        "null",
        "VXNlcjox",  # base64 "User:1"
        "Vm9sdW50ZWVyOjE=",  # base64 "Volunteer:1"
        "Vm9sdW50ZWVyOi0x",  # "Volunteer:-1"
        "Vm9sdW50ZWVyOjk5OTk5OTk5OTk5OTk5OTk5OTk5",  # huge id
        "YXJyYXljb25uZWN0aW9uOjA=",  # "arrayconnection:0"
        "2026-02-30",
        "9999-12-31T23:59:59Z",
        "1e999",
        "NaN",
        "𠜎𠜱𠝹" * 50,
        "a" * 5000,
    ]
)
STRINGS = st.one_of(INTERESTING, JUNK_TEXT, st.text(string.printable, max_size=80))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(STRINGS, inner, max_size=4),
    max_leaves=12,
)


def scalar_values(scalar: GraphQLScalarType) -> st.SearchStrategy[Any]:
    typed: dict[str, st.SearchStrategy[Any]] = {
        "Int": st.integers(-(2**40), 2**40),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
        "Date": st.dates().map(str),
        "DateTime": st.datetimes().map(lambda d: d.isoformat()),
        "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
        "JSON": JSON_VALUES,
        "_Any": st.fixed_dictionaries(
            {"__typename": st.sampled_from(["Volunteer", "Team", "Project", "Region", "Nope", ""])},
            optional={"id": STRINGS, "code": STRINGS},
        ),
    }
    return typed.get(scalar.name, STRINGS)


def values_for(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the right shape most of the time, junk of any shape now and then."""
    if isinstance(kind, GraphQLNonNull):
        return values_for(kind.of_type, depth)  # null now and then too: a null for a non-null argument
    inner: st.SearchStrategy[Any]
    if isinstance(kind, GraphQLList):
        element = values_for(kind.of_type, depth + 1)
        inner = st.lists(element, max_size=3) | element
    elif isinstance(kind, GraphQLEnumType):
        inner = st.sampled_from(list(kind.values)) | STRINGS
    elif isinstance(kind, GraphQLScalarType):
        inner = scalar_values(kind)
    elif isinstance(kind, GraphQLInputObjectType):
        if depth > 2:
            return st.just({})
        fields = kind.fields
        required = {
            n: values_for(f.type, depth + 1) for n, f in fields.items() if isinstance(f.type, GraphQLNonNull)
        }
        optional = {n: values_for(f.type, depth + 1) for n, f in fields.items() if n not in required}
        inner = st.fixed_dictionaries(required, optional=optional)
    else:  # pragma: no cover - every input type is one of the above
        raise AssertionError(kind)
    return st.one_of(inner, inner, inner, inner, inner, st.none(), JSON_VALUES)


def _fields(kind: Any) -> list[tuple[str, GraphQLField]]:
    """Fields a selection can take without arguments it would have to invent (required ones)."""
    return [
        (name, field)
        for name, field in sorted(getattr(kind, "fields", {}).items())
        if not any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values())
    ]


def selection(kind: Any, depth: int) -> st.SearchStrategy[str]:
    """A random selection set for ``kind``: some of its fields, nested up to ``depth``, pages of 0-3."""
    named = get_named_type(kind)
    if is_leaf_type(named):
        return st.just("")
    fields = _fields(named)
    if depth <= 0 or not fields:
        return st.just(" { __typename }")

    @st.composite
    def draw_set(draw: st.DrawFn) -> str:
        chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique_by=lambda f: f[0]))
        parts = ["__typename"]
        for name, field in chosen:
            paging = f"(first: {draw(st.integers(0, 3))})" if "first" in field.args else ""
            parts.append(f"{name}{paging}{draw(selection(field.type, depth - 1))}")
        return " { " + " ".join(parts) + " }"

    return draw_set()


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """(role, document, variables): a root field with arguments drawn from their types and a random selection
    under it; mutations only anonymously, so nothing here can change the shared demo data."""
    kind = draw(st.sampled_from(["query", "query", "query", "mutation"]))
    root = GQL.mutation_type if kind == "mutation" else GQL.query_type
    assert root is not None
    name = draw(st.sampled_from(sorted(root.fields)))
    field = root.fields[name]
    variables = draw(
        st.fixed_dictionaries({}, optional={a: values_for(s.type) for a, s in field.args.items()})
    )
    definitions = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{kind} Hostile({definitions})" if definitions else kind
    call = f"{name}({arguments})" if arguments else name
    below = draw(selection(field.type, 0 if kind == "mutation" else 3))
    roles = ["anonymous", "demo_volunteer", "demo_lixia", "demo_shandong"]
    role = "anonymous" if kind == "mutation" else draw(st.sampled_from(roles))
    return role, f"{head} {{ {call}{below} }}", variables


def _names() -> list[str]:
    names: set[str] = set()
    for kind in GQL.type_map.values():
        names.add(kind.name)
        for field_name, field in getattr(kind, "fields", {}).items():
            names.add(field_name)
            names.update(getattr(field, "args", {}))
    return sorted(names)


PUNCTUATION = ["{", "}", "(", ")", "[", "]", ":", "$", "!", "=", "@", "...", ",", "|", "&", '"', '"""', "#"]
KEYWORDS = [
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "true",
    "false",
    "null",
    "__typename",
    "__schema",
]
WORDS = [
    "@include(if: true)",
    "@skip(if: $x)",
    '"x"',
    "1",
    "-1",
    "1.5e3",
    "$x",
    "$first",
    "first: 1",
    "id: 1",
]
TOKENS = (
    st.sampled_from(PUNCTUATION + KEYWORDS + WORDS) | st.sampled_from(_names()) | JUNK_TEXT.map(str.strip)
)
SOUP = st.lists(TOKENS, max_size=60).map(" ".join)


# --- properties --------------------------------------------------------------------------------------------------


@SETTINGS
@given(
    body=st.binary(max_size=2048),
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql-response+json",
            "",
        ]
    ),
)
async def test_random_bytes(client: httpx.AsyncClient, body: bytes, content_type: str) -> None:
    check(await client.post("/graphql", content=body, headers={"content-type": content_type}))


@SETTINGS
@given(
    body=JSON_VALUES
    | st.fixed_dictionaries(
        {},
        optional={
            "query": JSON_VALUES | SOUP,
            "variables": JSON_VALUES,
            "operationName": JSON_VALUES,
            "extensions": JSON_VALUES,
        },
    )
)
async def test_random_json_bodies(client: httpx.AsyncClient, body: Any) -> None:
    check(
        await client.post(
            "/graphql", content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
    )


@SETTINGS
@given(
    document=SOUP,
    role=st.sampled_from(["anonymous", "demo_shandong"]),
    accept=st.sampled_from(["application/json", "application/graphql-response+json"]),
)
async def test_token_soup(
    client: httpx.AsyncClient, bearer: dict[str, dict[str, str]], document: str, role: str, accept: str
) -> None:
    headers = {"accept": accept, **bearer[role]}
    if role != "anonymous":
        document = document.replace("mutation", "query")  # signed in, nothing may write
    check(await post(client, {"query": document, "variables": {"x": True, "first": 1}}, **headers))


@SETTINGS
@given(call=calls())
async def test_every_root_field_with_drawn_arguments(
    client: httpx.AsyncClient, bearer: dict[str, dict[str, str]], call: tuple[str, str, dict[str, Any]]
) -> None:
    role, document, variables = call
    check(await post(client, {"query": document, "variables": variables}, **bearer[role]))


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
        STRINGS | SOUP | JSON_VALUES.map(json.dumps),
        max_size=4,
    )
)
async def test_query_strings(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    query = urlencode(params, errors="surrogatepass")  # lone surrogates become bytes that are no UTF-8
    check(await client.get(f"/graphql?{query}", headers={"accept": "application/json"}))


# --- the extremes, once each -------------------------------------------------------------------------------------

DEEP = "{" + " a {" * 1000 + " b" + " }" * 1000 + " }"
EXTREMES: dict[str, bytes] = {
    "selections 1000 deep": json.dumps({"query": DEEP}).encode(),
    "JSON 100000 deep": b'{"query": "{ __typename }", "variables": {"a": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}}",
    "a body of JSON 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "2000 aliases": json.dumps(
        {"query": "{" + " ".join(f"a{i}: __typename" for i in range(2000)) + "}"}
    ).encode(),
    "31 aliases": json.dumps(
        {"query": "{" + " ".join(f"a{i}: __typename" for i in range(31)) + "}"}
    ).encode(),
    "a string just under the body limit": json.dumps(
        {"query": "{ __typename }", "variables": {"x": "x" * (MAX_BODY - 100)}}
    ).encode(),
    "a string just over the body limit": json.dumps(
        {"query": "{ __typename }", "variables": {"x": "x" * MAX_BODY}}
    ).encode(),
    "a document of 200000 tokens": json.dumps({"query": "{ " + "__typename " * 200_000 + "}"}).encode(),
    "fragments that spread each other": json.dumps(
        {"query": "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"}
    ).encode(),
    "a null body": b"null",
    "a number body": b"5",
    "a list of non-objects": b"[1, 2]",
    "a batch": b'[{"query": "{ __typename }"}]',
    "NaN in variables": b'{"query": "query($f: Float) { __typename }", "variables": {"f": NaN}}',
    "a lone surrogate": b'{"query": "{ __typename \\ud800 }"}',
    "an integer beyond 64 bits": b'{"query": "query($n: Int) { regions(first: $n) { totalCount } }", "variables": {"n": 1'
    + b"0" * 400
    + b"}}",
    "unknown persisted-query version": b'{"extensions": {"persistedQuery": {"version": [], "sha256Hash": {}}}}',
    "an operation name that is an object": b'{"query": "{ __typename }", "operationName": {}}',
}


@pytest.mark.parametrize("body", EXTREMES.values(), ids=EXTREMES.keys())
async def test_extremes(client: httpx.AsyncClient, body: bytes) -> None:
    check(await client.post("/graphql", content=body, headers={"content-type": "application/json"}))
