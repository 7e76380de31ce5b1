"""A request leaves no reference cycles behind: everything it built (context, loaders, rows, pages, the
executor) is freed when the request ends, not when the cyclic garbage collector next runs — at 32 requests in
flight the collector had taken a sixth of the server's CPU (loaders/batch_loader.py,
schema/leaf_fields.py ``_helpers_without_cycle``; bench/PERF-NOTES.md, seventh pass)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import Api

OURS = (
    "schema.",
    "loaders.",
    "auth.",
    "models.",
    "graphql.",
    "strawberry.",
    "sqlalchemy.engine.",
    "starlette.",
)
"""The modules of the request's path; the test client's own objects (httpx) are not the server's."""

QUERIES = {
    "mobile": """{ viewer { volunteer { volunteerNumber name totalHours starLevel hoursToNextStar
        serviceRecords(first: 20, orderBy: [{field: SERVICE_DATE, direction: DESC}]) {
          nodes { serviceDate hours status content } } } } }""",
    "nested edges": """{ viewer { volunteer { serviceRecords(first: 5) { totalCount pageInfo { endCursor }
        edges { cursor node { project { name team { name region { name } } } } } }
        memberships { nodes { team { name } } } } } }""",
    "masked personal data": "{ viewer { volunteer { idNumber phone } } }",
    "refused": "{ volunteers(first: 3) { nodes { name } } }",
    "invalid": "{ nope }",
}


@contextmanager
def cyclic_garbage() -> Iterator[Counter[str]]:
    """The types (of the request path's modules) of the objects only the cyclic collector would free."""
    found: Counter[str] = Counter()
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        for thing in gc.garbage:
            name = f"{type(thing).__module__}.{type(thing).__qualname__}"
            if name.startswith(OURS):
                found[name] += 1
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


@pytest.mark.parametrize("name", list(QUERIES))
async def test_a_request_leaves_no_reference_cycles(api: Api, tokens: dict[str, str], name: str) -> None:
    client = api.as_(tokens["demo_volunteer"])
    await client.gql(QUERIES[name])  # warm: templates, plans and caches built
    with cyclic_garbage() as found:
        for _ in range(3):
            body = await client.gql(QUERIES[name])
            assert "data" in body or "errors" in body
    assert not found, found.most_common(10)


def test_the_check_sees_a_cycle() -> None:
    """The census finds a cycle of the request path's objects when there is one."""
    from loaders.page import Page

    with cyclic_garbage() as found:
        page = Page([], 0, False, 0)
        page.rows.append(page)
        del page
    assert found["loaders.page.Page"] == 1
