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
