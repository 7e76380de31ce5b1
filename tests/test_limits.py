"""Depth, alias, token and cost limits refuse before any resolver runs, each with its own code."""

from typing import Any

import pytest

from tests.conftest import Api


def _deep(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f'{{ region(code: "110101000000") {{ {inner} }} }}'


async def test_depth_limit(api: Api) -> None:
    ok = await api.gql(_deep(8))
    assert "errors" not in ok
    body = await api.gql(_deep(20))
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert body.get("data") is None


async def test_alias_limit(api: Api) -> None:
    aliases = " ".join(f'a{i}: region(code: "110000000000") {{ name }}' for i in range(31))
    body = await api.gql(f"{{ {aliases} }}")
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"


async def test_token_limit(api: Api) -> None:
    body = await api.gql("{ " + "__typename " * 6000 + "}")
    assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_TOKENS"


NESTED = """{ regions(first: 100) { nodes { name children(first: 100) { nodes { name
  children(first: 100) { nodes { name } } } } } } }"""


async def test_cost_is_reported_and_over_budget_refused(
    api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    small = await api.post("{ regions(first: 5) { nodes { name } } }")
    cost = small.json()["extensions"]["cost"]
    assert cost == {"requested": 1 + 5 * 2, "budget": 5000}
    with count_sql() as log:
        refused = (await api.post(NESTED)).json()
    assert refused["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert refused["errors"][0]["extensions"]["requested"] > 5000
    assert refused.get("data") is None
    assert len(log) == 0, log.report()  # refused before any resolver touched the database
    ministry = (await api.as_(tokens["demo_ministry"]).post(NESTED)).json()
    assert ministry["extensions"]["cost"]["budget"] == 200000
    assert (
        ministry["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    )  # 1M nodes is too much for anyone


async def test_variables_count_in_the_cost(api: Api) -> None:
    query = "query($n: Int!) { regions(first: $n) { nodes { name } } }"
    body = (await api.post(query, {"n": 40})).json()
    assert body["extensions"]["cost"]["requested"] == 1 + 40 * 2


async def test_repeated_queries_skip_parsing_and_validation(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema import operation_hooks

    validations: list[object] = []
    validate_document = operation_hooks.validate_document

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        validations.append(document)
        return validate_document(schema, document, rules)

    monkeypatch.setattr(operation_hooks, "validate_document", counted)
    query = "{ regions(first: 1) { totalCount } __typename }"
    before = operation_hooks._parse.cache_info()
    for _ in range(3):
        await api.data(query)
    after = operation_hooks._parse.cache_info()
    assert after.hits >= before.hits + 2, (before, after)
    assert len(validations) == 1  # the first request validated the document, the others found its errors


async def test_validation_errors_are_cached_with_the_document(api: Api) -> None:
    query = "{ regions(first: 1) { noSuchField } }"
    for _ in range(2):
        body = (await api.post(query)).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
