"""The app answers through real HTTP with the region tree and demo data loaded."""

from tests.conftest import Api

PROVINCES = "{ regions(first: 40) { totalCount nodes { code name level } } }"


async def test_provinces_are_public(api: Api) -> None:
    data = await api.data(PROVINCES)
    assert data["regions"]["totalCount"] == 34
    names = {n["name"] for n in data["regions"]["nodes"]}
    assert {"北京市", "山东省", "浙江省"} <= names


async def test_health(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}


CHILDREN = """{ region(code: "370100000000") { name children(first: 100) { totalCount nodes { name retiredYear } } } }"""
RETIRED = """{ region(code: "110000000000") {
  children(first: 100, filter: {current: false}) { nodes { code name retiredYear } } } }"""


async def test_region_children_are_current_unless_asked(api: Api) -> None:
    jinan = (await api.data(CHILDREN))["region"]
    assert jinan["name"] == "济南市"
    assert all(n["retiredYear"] is None for n in jinan["children"]["nodes"])
    assert "历下区" in {n["name"] for n in jinan["children"]["nodes"]}
    retired = (await api.data(RETIRED))["region"]["children"]["nodes"]
    assert retired and all(n["retiredYear"] for n in retired)
