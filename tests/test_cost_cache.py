"""The operation cost is computed once per (query, operation name, variables); budgets stay per viewer."""

from __future__ import annotations

from tests.conftest import Api

QUERY = "query($n: Int!) { regions(first: $n) { nodes { name } } }"


async def test_cost_is_remembered_per_query_and_variables(api: Api, tokens: dict[str, str]) -> None:
    from schema.cost import _COSTS

    costs = []
    for n in (40, 7, 40, 7):
        body = (await api.post(QUERY, {"n": n})).json()
        costs.append(body["extensions"]["cost"]["requested"])
    assert costs == [1 + 40 * 2, 1 + 7 * 2, 1 + 40 * 2, 1 + 7 * 2]
    keys = [key for key in _COSTS if key[0] == QUERY]
    assert len(keys) == 2  # one entry per variables, reused by the repeats

    # the budget is the viewer's own, whoever asked the same query first
    anonymous = (await api.post(QUERY, {"n": 40})).json()["extensions"]["cost"]
    ministry = (await api.as_(tokens["demo_ministry"]).post(QUERY, {"n": 40})).json()["extensions"]["cost"]
    assert anonymous == {"requested": 81, "budget": 5000}
    assert ministry == {"requested": 81, "budget": 200000}
