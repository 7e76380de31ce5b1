"""A nested page reads the columns its selection needs (schema/selection.py, ``row_columns``), and answers the
same as when it reads them all: through fragments, ``edges { node }``, aliases with different selections of
the same list, and fields with resolvers (which get every column)."""

import re
from typing import Any

import pytest

from models import ServiceRecord as ServiceRecordRow
from schema.assembly import schema as app_schema
from schema.types.base import row_columns
from schema.types.record import ServiceRecord
from tests.conftest import Api

NAMES = app_schema.config.name_converter
RECORDS = "serviceRecords(first: 5, orderBy: [{field: SERVICE_DATE, direction: DESC}])"


def _record_select(log: Any) -> str:
    """The statement that read the records page."""
    (statement,) = [s for s in log.statements if "FROM service_record" in s]
    return statement


def _selected_columns(statement: str) -> set[str]:
    head = statement.split(" FROM ", 1)[0].removeprefix("SELECT ")
    return {re.split(r"[ .]", part.strip())[-1].strip('"') for part in head.split(",")}


async def _records(api: Api, token: str, selection: str, fragments: str = "") -> tuple[Any, Any]:
    query = f"{{ viewer {{ volunteer {{ {RECORDS} {{ {selection} }} }} }} }} {fragments}"
    data = await api.as_(token).data(query)
    return data["viewer"]["volunteer"][RECORDS.split("(")[0]], query


async def test_a_page_of_plain_fields_reads_only_their_columns(
    api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    with count_sql() as log:
        page, _ = await _records(api, tokens["demo_volunteer"], "nodes { serviceDate hours }")
    assert page["nodes"], "the demo volunteer has service records"
    columns = _selected_columns(_record_select(log))
    assert {"service_date", "hours", "id", "volunteer_id"} <= columns
    assert not {"content", "created_at", "confirmed_at", "void_reason", "started_at"} & columns, columns


async def test_the_pruned_page_answers_what_the_full_page_answers(
    api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    """``id`` is a plain field too; ``project`` has a resolver, so that page reads every column."""
    fields = "id serviceDate hours status content category createdAt"
    pruned, _ = await _records(api, tokens["demo_volunteer"], f"nodes {{ {fields} }}")
    with count_sql() as log:
        full, _ = await _records(api, tokens["demo_volunteer"], f"nodes {{ {fields} project {{ name }} }}")
    assert "content" in _selected_columns(_record_select(log))
    assert "created_at" in _selected_columns(_record_select(log))
    assert [{k: v for k, v in n.items() if k != "project"} for n in full["nodes"]] == pruned["nodes"]


async def test_fragments_and_edges_count_as_selected(
    api: Api, tokens: dict[str, str], count_sql: Any
) -> None:
    with count_sql() as log:
        page, _ = await _records(
            api,
            tokens["demo_volunteer"],
            "totalCount edges { cursor node { ...Day } } nodes { ... on ServiceRecord { content } }",
            "fragment Day on ServiceRecord { serviceDate }",
        )
    columns = _selected_columns(_record_select(log))
    assert {"service_date", "content"} <= columns and "hours" not in columns, columns
    assert page["totalCount"] >= len(page["edges"]) > 0
    assert all(e["node"]["serviceDate"] for e in page["edges"])
    assert all(n["content"] for n in page["nodes"])


async def test_aliases_of_one_list_with_different_fields_each_get_theirs(
    api: Api, tokens: dict[str, str]
) -> None:
    """The loader's key includes the columns: a page cached for one selection is not served to another."""
    query = f"""{{ viewer {{ volunteer {{
      a: {RECORDS} {{ nodes {{ hours }} }}
      b: {RECORDS} {{ nodes {{ content serviceDate }} }}
    }} }} }}"""
    data = (await api.as_(tokens["demo_volunteer"]).data(query))["viewer"]["volunteer"]
    assert len(data["a"]["nodes"]) == len(data["b"]["nodes"]) > 0
    assert all(n["hours"] for n in data["a"]["nodes"])
    assert all(n["content"] and n["serviceDate"] for n in data["b"]["nodes"])


@pytest.mark.parametrize(
    ("selected", "kept", "dropped"),
    [
        ({"hours"}, {"id", "hours", "volunteer_id", "team_id", "region_code"}, {"content", "created_at"}),
        (set(), {"id", "volunteer_id", "project_id"}, {"hours", "status", "service_date"}),
    ],
)
def test_row_columns_keeps_keys_and_references(selected: set[str], kept: set[str], dropped: set[str]) -> None:
    columns = row_columns(ServiceRecord, ServiceRecordRow, frozenset(selected), NAMES)
    assert columns is not None
    assert kept <= set(columns) and not dropped & set(columns)


def test_row_columns_reads_everything_for_a_resolver_field() -> None:
    assert row_columns(ServiceRecord, ServiceRecordRow, frozenset({"hours", "project"}), NAMES) is None
    assert row_columns(ServiceRecord, ServiceRecordRow, frozenset({"noSuchField"}), NAMES) is None
