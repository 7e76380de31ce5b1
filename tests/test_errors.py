"""Every error carries a stable code; user mistakes are BAD_USER_INPUT; the unexpected is masked and logged."""

import logging

import pytest
from graphql import GraphQLError

from schema.errors import classify
from tests.conftest import Api

NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.mark.parametrize("bad_id", ["not-base64!", "Zm9v", "VW5rbm93bjox", "Vm9sdW50ZWVyOmFiYw=="])
async def test_bad_ids_are_bad_user_input(api: Api, tokens: dict[str, str], bad_id: str) -> None:
    body = await api.as_(tokens["demo_ministry"]).gql(NODE, {"id": bad_id})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "BAD_ID"
    assert body["data"] == {"node": None}


@pytest.mark.parametrize(
    ("args", "reason"),
    [("first: -1", "BAD_PAGE_SIZE"), ("first: 101", "BAD_PAGE_SIZE"), ('after: "garbage"', "BAD_CURSOR")],
)
async def test_bad_pagination_is_bad_user_input(api: Api, args: str, reason: str) -> None:
    body = await api.gql(f"{{ regions({args}) {{ totalCount }} }}")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == reason


async def test_messages_are_chinese_by_default_and_english_on_request(api: Api) -> None:
    zh = await api.gql('{ region(code: "999999999999") { name } }')
    en = (
        await api.post(
            '{ region(code: "999999999999") { name } }', None, **{"accept-language": "en-US,en;q=0.9"}
        )
    ).json()
    assert zh["errors"][0]["extensions"]["code"] == en["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert zh["errors"][0]["message"] == "未找到该对象"
    assert en["errors"][0]["message"] == "Not found"


async def test_syntax_and_validation_errors_are_coded(api: Api) -> None:
    parse = await api.gql("{ regions(first: 1) { ")
    assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    invalid = await api.gql("{ noSuchField }")
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_anonymous_gets_unauthenticated_on_management_lists(api: Api) -> None:
    body = await api.gql("{ volunteers(first: 1) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None


def test_unexpected_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    original = RuntimeError("database password is hunter2")
    error = GraphQLError("database password is hunter2", path=["x"], original_error=original)
    with caplog.at_level(logging.ERROR, logger="zhiyuan.errors"):
        masked = classify(error, "en")
    assert masked.message == "Internal server error"
    assert masked.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in masked.message
    assert any(r.exc_info and r.exc_info[1] is original for r in caplog.records)


async def test_nul_characters_are_refused_before_the_database(api: Api, tokens: dict[str, str]) -> None:
    client = api.as_(tokens["demo_ministry"])
    query = "query($n: String!) { volunteerByNumber(number: $n) { name } }"
    body = await client.gql(query, {"n": "37\x00"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "NUL_CHARACTER"}
    literal = await client.gql('{ volunteerByNumber(number: "37\\u0000") { name } }')
    assert literal["errors"][0]["extensions"]["reason"] == "NUL_CHARACTER"
    braced = await client.gql('{ volunteerByNumber(number: "37\\u{0}") { name } }')
    assert braced["errors"][0]["extensions"]["reason"] == "NUL_CHARACTER"
