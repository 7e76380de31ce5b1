"""Nested reads cost one statement per level, whatever the number of rows, and scoping adds none."""

from typing import Any

import pytest

from tests.conftest import DEMO_ACCOUNTS, Api

NESTED = """
query Nested($first: Int!) {
  volunteers(first: $first) {
    nodes {
      name
      serviceRecords(first: 10) {
        nodes { hours project { name team { name region { name } } } }
      }
    }
  }
}
"""
LEVELS = 5  # volunteers, records, projects, teams, regions


def _rows(data: dict[str, Any]) -> int:
    vols = data["volunteers"]["nodes"]
    return len(vols) + sum(len(v["serviceRecords"]["nodes"]) for v in vols)


@pytest.mark.parametrize("who", ["demo_ministry", "demo_shandong", "demo_lixia"])
async def test_nested_query_statement_count_is_flat(
    api: Api, tokens: dict[str, str], count_sql: Any, who: str
) -> None:
    client = api.as_(tokens[who])
    counts, rows = [], []
    for first in (10, 100):
        with count_sql() as log:
            data = await client.data(NESTED, {"first": first})
        counts.append(len(log))
        rows.append(_rows(data))
        assert len(log) <= LEVELS, log.report()
    assert (rows[1] > rows[0] and rows[1] >= 200) or who == "demo_lixia", rows
    assert counts[0] == counts[1], f"{counts} statements for {rows} rows"


async def test_scoping_adds_no_statements(api: Api, tokens: dict[str, str], count_sql: Any) -> None:
    counts = {}
    for who in ("demo_ministry", "demo_lixia", "demo_team", "demo_volunteer"):
        with count_sql() as log:
            await api.as_(tokens[who]).data(NESTED, {"first": 20})
        counts[who] = len(log)
    assert len(set(counts.values())) == 1, counts


async def test_total_count_rides_with_the_page(api: Api, tokens: dict[str, str], count_sql: Any) -> None:
    with count_sql() as log:
        data = await api.as_(tokens["demo_ministry"]).data(
            "{ teams(first: 3) { totalCount nodes { name } } }"
        )
    assert data["teams"]["totalCount"] >= 3
    assert len(log) == 1, log.report()


@pytest.mark.parametrize("who", DEMO_ACCOUNTS)
async def test_volunteer_total_counts_the_union_of_visible_sets_like_the_rows(
    api: Api, tokens: dict[str, str], count_sql: Any, who: str
) -> None:
    """Without filters a region admin's volunteers are counted as the union of the id sets they see (no
    volunteer row read); with a filter that keeps every row, by the rows. Both counts agree, in one statement."""
    client = api.as_(tokens[who])
    with count_sql() as log:
        plain = await client.data("{ volunteers(first: 2) { totalCount nodes { id } } }")
    assert len(log) == 1, log.report()
    everything = '{ volunteers(first: 2, filter: {createdAtAfter: "2000-01-01T00:00:00Z"}) { totalCount } }'
    filtered = await client.data(everything)
    assert plain["volunteers"]["totalCount"] == filtered["volunteers"]["totalCount"], who
    assert (plain["volunteers"]["totalCount"] > 0) == bool(plain["volunteers"]["nodes"])
