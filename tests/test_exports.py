"""Exports (导出): createExport and GET /exports/<token> through the real HTTP app.

Expected rows come from tests/visibility.py (the permission rules restated independently of scope()); the big
data set for the row limit and the flat-memory check is inserted with one Core insert and removed afterwards.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from sqlalchemy import delete, func, insert, select, text, update
from starlette.applications import Starlette

import models as m
from models.enums import AccountStatus, Role
from resolvers import statistics as stats
from resolvers.exports import ExportSpec, issue_link
from tests.conftest import DEMO_PASSWORD, Api, login
from tests.visibility import add_account, codes, db_id, person, remove_account, visible_ids

CREATE = """
mutation Export($input: CreateExportInput!) {
  createExport(input: $input) { url expiresAt rowCount filename columns }
}
"""
STATISTICS = """
query Stats($input: StatisticsInput!) {
  statistics(input: $input) { rows { keys { dimension value label } value } total }
}
"""
MARK = "导出测试村"
BIG_ROWS = 200_000
SMALL_ROWS = 20_000


def path_of(url: str) -> str:
    return url[url.index("/exports/") :]


async def create(api: Api, source: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = await api.gql(CREATE, {"input": {"source": source, **fields}})
    assert "errors" not in body, body["errors"]
    ticket: dict[str, Any] = body["data"]["createExport"]
    return ticket


async def export_csv(
    api: Api, source: dict[str, Any], **fields: Any
) -> tuple[dict[str, Any], list[list[str]]]:
    ticket = await create(api, source, format="CSV", **fields)
    response = await api.client.get(path_of(ticket["url"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return ticket, rows


async def export_xlsx(
    api: Api, source: dict[str, Any], **fields: Any
) -> tuple[dict[str, Any], list[list[Any]]]:
    ticket = await create(api, source, format="XLSX", **fields)
    response = await api.client.get(path_of(ticket["url"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(r) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]
    book.close()
    return ticket, rows


async def audit_count(app: Starlette, actor: int | None = None, action: str | None = None) -> int:
    statement = select(func.count()).select_from(m.AuditEvent)
    if actor is not None:
        statement = statement.where(m.AuditEvent.actor_id == actor)
    if action is not None:
        statement = statement.where(m.AuditEvent.action == action)
    async with app.state.services.sessions() as session:
        return int((await session.execute(statement)).scalar_one())


async def events_of(app: Starlette, jti: str) -> list[m.AuditEvent]:
    async with app.state.services.sessions() as session:
        found = (
            await session.execute(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(50))
        ).scalars()
        return [e for e in found if e.detail.get("export") == jti]


def jti_of(app: Starlette, url: str) -> str:
    import jwt

    return str(jwt.decode(path_of(url).removeprefix("/exports/"), options={"verify_signature": False})["jti"])


# --- lists and reports ----------------------------------------------------------------------------------


async def test_county_csv_holds_exactly_its_rows(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    lixia = api.as_(tokens["demo_lixia"])
    who = await person(app.state.services.sessions, "demo_lixia")
    expected = await visible_ids(app.state.services.sessions, m.Volunteer, who)

    ticket, rows = await export_csv(lixia, {"volunteers": {}})

    header, *data = rows
    assert header[:3] == ["ID", "志愿者编号", "姓名"] and "手机号码" in header
    assert ticket["columns"] == header and ticket["rowCount"] == len(expected) == len(data) > 0
    assert {db_id(r[0]) for r in data} == expected
    phones = [r[header.index("手机号码")] for r in data if r[header.index("手机号码")]]
    assert phones and all(re.fullmatch(r"1\d\d\*{4}\d{4}", p) for p in phones), phones[:3]
    ids = [r[header.index("证件号码")] for r in data]
    assert all("*" in i for i in ids)


async def test_another_countys_filter_gives_nothing(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    lixia = api.as_(tokens["demo_lixia"])
    for source in (
        {"volunteers": {"region": "330106000000"}},
        {"serviceRecords": {"region": "330106000000"}},
    ):
        ticket, rows = await export_csv(lixia, source)
        assert ticket["rowCount"] == 0 and len(rows) == 1  # the header only


async def test_xlsx_in_english_for_several_lists(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    jinan = api.as_(tokens["demo_jinan"])
    jinan.headers["accept-language"] = "en"
    who = await person(app.state.services.sessions, "demo_jinan")
    for source, model in (({"teams": {}}, m.Team), ({"serviceRecords": {}}, m.ServiceRecord)):
        ticket, rows = await export_xlsx(jinan, source)
        header, *data = rows
        assert header[0] == "ID" and "Region code" in header
        expected = await visible_ids(app.state.services.sessions, model, who)
        assert {db_id(r[0]) for r in data} == expected and ticket["rowCount"] == len(expected) > 0
        assert ticket["filename"].endswith(".xlsx")


async def test_chosen_columns_and_values(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    lixia = api.as_(tokens["demo_lixia"])
    columns = ["hours", "serviceDate", "status"]
    ticket, rows = await export_xlsx(lixia, {"serviceRecords": {"status": "CONFIRMED"}}, columns=columns)
    header, *data = rows
    assert header == ["服务时长（小时）", "服务日期", "记录状态"] and ticket["rowCount"] == len(data)
    assert data and all(r[2] == "CONFIRMED" and isinstance(r[0], int | float) for r in data)
    async with app.state.services.sessions() as session:
        who = await person(app.state.services.sessions, "demo_lixia")
        ids = await visible_ids(
            app.state.services.sessions, m.ServiceRecord, who, m.ServiceRecord.status == "CONFIRMED"
        )
        hours = (
            await session.execute(select(func.sum(m.ServiceRecord.hours)).where(m.ServiceRecord.id.in_(ids)))
        ).scalar_one()
    assert round(sum(Decimal(str(r[0])) for r in data), 2) == hours


async def test_volunteer_exports_only_own_records(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    me = api.as_(tokens["demo_volunteer"])
    who = await person(app.state.services.sessions, "demo_volunteer")
    ticket, rows = await export_csv(me, {"serviceRecords": {}}, columns=["id", "volunteerId"])
    owners = {db_id(r[1]) for r in rows[1:]}
    assert owners <= {who.volunteer_id} and ticket["rowCount"] == len(rows) - 1
    _, mine = await export_csv(me, {"volunteers": {}}, columns=["volunteerNumber", "phone", "idNumber"])
    assert len(mine) == 2 and "*" not in mine[1][1] + mine[1][2], "your own data is never masked"


@pytest.mark.parametrize("fmt", ["CSV", "XLSX"])
async def test_statistics_report(app: Starlette, api: Api, tokens: dict[str, str], fmt: str) -> None:
    jinan = api.as_(tokens["demo_jinan"])
    report = {"measure": "VOLUNTEERS", "groupBy": ["CHILD_REGION", "SEX"]}
    figures = (await jinan.data(STATISTICS, {"input": report}))["statistics"]["rows"]

    ticket = await create(jinan, {"statistics": report}, format=fmt)
    response = await jinan.client.get(path_of(ticket["url"]))
    assert response.status_code == 200
    if fmt == "CSV":
        rows: list[list[Any]] = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    header, *data = rows
    assert header == ["下级区划代码", "区划名称", "性别", "志愿者人数"]
    expected = [
        [r["keys"][0]["value"], r["keys"][0]["label"], r["keys"][1]["value"], Decimal(r["value"])]
        for r in figures
    ]
    assert [[a, b, c, Decimal(str(d))] for a, b, c, d in data] == expected and ticket["rowCount"] == len(
        expected
    ) > 0


@pytest.mark.parametrize(
    ("measure", "dimension"),
    [
        (measure.value, d.value)
        for measure, spec in stats.SPECS.items()
        for d in sorted(spec.dimensions, key=str)
    ],
)
async def test_every_measure_and_dimension_exports(
    api: Api, tokens: dict[str, str], measure: str, dimension: str
) -> None:
    """Each measure with each dimension its spec allows downloads with a column header per key, or is refused
    with the very code the report itself gives (a missing header used to fail the download)."""
    report: dict[str, Any] = {"measure": measure, "groupBy": [dimension]}
    if dimension in ("DAY", "WEEK"):
        report["from"] = (date.today() - timedelta(days=60)).isoformat()
        report["to"] = date.today().isoformat()
    ministry = api.as_(tokens["demo_ministry"])
    direct = await ministry.gql(STATISTICS, {"input": report})
    if "errors" in direct:
        refused = await ministry.gql(CREATE, {"input": {"source": {"statistics": report}, "format": "CSV"}})
        assert codes(refused) == codes(direct) and refused["data"] is None
        return
    ticket = await create(ministry, {"statistics": report})
    response = await ministry.client.get(path_of(ticket["url"]))
    assert response.status_code == 200
    header, *data = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(data) == ticket["rowCount"] == len(direct["data"]["statistics"]["rows"]) and all(header)


# --- masking, reveal, audit -----------------------------------------------------------------------------


async def test_reveal_unmasks_and_is_audited(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    columns = ["volunteerNumber", "idNumber", "phone"]
    source = {"volunteers": {"region": "370102000000"}}

    _, masked = await export_csv(shandong, source, columns=columns)
    ticket, revealed = await export_csv(shandong, source, columns=columns, reveal=True)

    assert len(masked) == len(revealed) > 1
    assert all("*" in r[1] for r in masked[1:])
    assert all(re.fullmatch(r"\d{17}[\dX]", r[1]) for r in revealed[1:])
    number, id_number = revealed[1][0], revealed[1][1]
    shown = await shandong.data(f'{{ volunteerByNumber(number: "{number}") {{ idNumber }} }}')
    assert shown["volunteerByNumber"]["idNumber"] == id_number

    events = await events_of(app, jti_of(app, ticket["url"]))
    actions = sorted(e.action for e in events)
    assert actions == ["EXPORT", "EXPORT_DOWNLOAD", "REVEAL_ID_NUMBER", "REVEAL_PHONE"]
    export = next(e for e in events if e.action == "EXPORT")
    shandong_id = (await person(app.state.services.sessions, "demo_shandong")).account_id
    assert export.actor_id == shandong_id and export.subject_type == "Export"
    assert export.detail["rows"] == len(revealed) - 1 and export.detail["filter"] == {
        "region": "370102000000"
    }
    assert export.detail["format"] == "CSV" and export.detail["list"] == "volunteers"


async def test_team_admin_reveals_the_phones_it_organises(
    app: Starlette, api: Api, tokens: dict[str, str]
) -> None:
    team = api.as_(tokens["demo_team"])
    listed = await team.data(
        "{ volunteers(first: 100) { totalCount nodes { volunteerNumber phone idNumber } } }"
    )
    shown = {n["volunteerNumber"]: n for n in listed["volunteers"]["nodes"]}
    assert 0 < listed["volunteers"]["totalCount"] <= 100

    columns = ["volunteerNumber", "phone", "idNumber"]
    _, masked = await export_csv(team, {"volunteers": {}}, columns=columns)
    ticket, revealed = await export_csv(team, {"volunteers": {}}, columns=columns, reveal=True)

    assert {r[0]: r[1] for r in revealed[1:]} == {k: n["phone"] or "" for k, n in shown.items()}
    assert any("*" not in r[1] and r[1] for r in revealed[1:])
    assert all("*" in r[1] for r in masked[1:] if r[1])
    assert all("*" in r[2] for r in revealed[1:]), "the team-contacts rule reveals phones only"
    actions = sorted(e.action for e in await events_of(app, jti_of(app, ticket["url"])))
    assert actions == ["EXPORT", "EXPORT_DOWNLOAD", "REVEAL_PHONE"]


async def test_reveal_without_the_right_is_refused_and_writes_nothing(
    app: Starlette, api: Api, tokens: dict[str, str]
) -> None:
    before = await audit_count(app)
    body = await api.as_(tokens["demo_lixia"]).gql(
        CREATE, {"input": {"source": {"volunteers": {}}, "reveal": True}}
    )
    assert codes(body) == ["FORBIDDEN"] and body["errors"][0]["extensions"]["reason"] == "REVEAL_NOT_ALLOWED"
    assert await audit_count(app) == before


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "extra", "code", "reason"),
    [
        ({"volunteers": {"region": "3701"}}, {}, "BAD_USER_INPUT", "REGION_UNKNOWN"),
        ({"volunteers": {}, "teams": {}}, {}, "BAD_USER_INPUT", "EXPORT_SOURCE"),
        ({}, {}, "BAD_USER_INPUT", "EXPORT_SOURCE"),
        ({"volunteers": {}}, {"columns": ["name", "password"]}, "BAD_USER_INPUT", "UNKNOWN_COLUMN"),
        ({"volunteers": {}}, {"columns": ["name", "name"]}, "BAD_USER_INPUT", "DUPLICATE_COLUMN"),
        (
            {"projects": {"startsAtAfter": "2026-02-01T00:00:00Z", "startsAtBefore": "2026-01-01T00:00:00Z"}},
            {},
            "BAD_USER_INPUT",
            "BAD_PERIOD",
        ),
        (
            {"statistics": {"measure": "VOLUNTEERS", "groupBy": ["TEAM"]}},
            {},
            "BAD_USER_INPUT",
            "UNKNOWN_DIMENSION",
        ),
        (
            {"statistics": {"measure": "VOLUNTEERS"}},
            {"columns": ["value"]},
            "BAD_USER_INPUT",
            "COLUMNS_NOT_FOR_REPORT",
        ),
    ],
)
async def test_bad_input_is_coded_and_writes_nothing(
    app: Starlette,
    api: Api,
    tokens: dict[str, str],
    source: dict[str, Any],
    extra: dict[str, Any],
    code: str,
    reason: str,
) -> None:
    before = await audit_count(app)
    body = await api.as_(tokens["demo_jinan"]).gql(CREATE, {"input": {"source": source, **extra}})
    assert codes(body) == [code] and body["errors"][0]["extensions"]["reason"] == reason, body
    assert await audit_count(app) == before


async def test_permissions_are_the_list_fields(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    anonymous = await api.gql(CREATE, {"input": {"source": {"regions": {}}}})
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    # auditEvents needs a region admin: a volunteer may not export it any more than list it
    for field in ("auditEvents", "teams"):
        listed = await api.as_(tokens["demo_volunteer"]).gql(f"{{ {field}(first: 1) {{ totalCount }} }}")
        exported = await api.as_(tokens["demo_volunteer"]).gql(CREATE, {"input": {"source": {field: {}}}})
        assert codes(exported) == codes(listed)
    assert codes(exported) == []


# --- links ----------------------------------------------------------------------------------------------


async def test_links_are_refused_with_codes(app: Starlette, api: Api, tokens: dict[str, str]) -> None:
    services = app.state.services
    jinan = api.as_(tokens["demo_jinan"])
    who = await person(services.sessions, "demo_jinan")
    ticket = await create(jinan, {"teams": {}})
    path = path_of(ticket["url"])

    other = await api.client.get(path, headers={"authorization": f"Bearer {tokens['demo_lixia']}"})
    assert other.status_code == 403 and other.json()["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "reason": "EXPORT_OTHER_ACCOUNT",
    }
    own = await api.client.get(path, headers={"authorization": f"Bearer {tokens['demo_jinan']}"})
    assert own.status_code == 200

    from auth.viewer import Viewer

    viewer = Viewer(account_id=who.account_id, username="demo_jinan")
    spec = ExportSpec(source="teams", format="CSV")
    expired = issue_link(services, viewer, spec, "t1", datetime.now(UTC) - timedelta(hours=1))
    response = await api.client.get(f"/exports/{expired}", headers={"accept-language": "en"})
    assert (
        response.status_code == 410
        and response.json()["errors"][0]["extensions"]["code"] == "EXPORT_LINK_EXPIRED"
    )
    assert response.json()["errors"][0]["message"] == "The download link has expired; export again"

    head, claims, signature = path.removeprefix("/exports/").split(".")
    forged = f"{head}.{claims}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    for token in (forged, tokens["demo_jinan"], "not-a-token"):
        refused = await api.client.get(f"/exports/{token}")
        assert (
            refused.status_code == 401
            and refused.json()["errors"][0]["extensions"]["code"] == "EXPORT_LINK_INVALID"
        )
    # and an export link is no access token
    as_bearer = await api.client.post(
        "/graphql", json={"query": "{ viewer { username } }"}, headers={"authorization": f"Bearer {path[9:]}"}
    )
    assert as_bearer.status_code == 401


async def test_disabled_account_cannot_download(app: Starlette, api: Api) -> None:
    grant = m.RoleGrant(role=Role.REGION_ADMIN, region_code="370102000000")
    account = await add_account(app, "export_tmp01", DEMO_PASSWORD, grant)
    try:
        admin = api.as_(await login(api, "export_tmp01"))
        ticket = await create(admin, {"teams": {}})
        async with app.state.services.sessions() as session, session.begin():
            await session.execute(
                update(m.Account).where(m.Account.id == account).values(status=AccountStatus.DISABLED)
            )
        refused = await api.client.get(path_of(ticket["url"]))
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"] == {
            "code": "UNAUTHENTICATED",
            "reason": "ACCOUNT_DISABLED",
        }
    finally:
        await remove_account(app, account)


# --- the big data set: row limits and flat memory -------------------------------------------------------


@pytest.fixture(scope="module")
async def big_set(app: Starlette) -> AsyncIterator[str]:
    """200,000 regions (village-level codes no region tree holds, under 630102 西宁市城东区, a county no other
    test uses) inserted with Core inserts and removed afterwards; the first SMALL_ROWS are named ``导出测试村A…``
    (the very first with a leading ``=``), the rest ``导出测试村B…``.
    Regions, because the table carries no triggers: the bulk set neither slows down nor feeds other tests."""
    codes_ = [f"630102{500 + i // 999:03d}{1 + i % 999:03d}" for i in range(BIG_ROWS)]
    rows = [
        {
            "code": code,
            "name": f"{'=' if i == 0 else ''}{MARK}{'A' if i < SMALL_ROWS else 'B'}{i:06d}",
            "level": 5,
            "parent_code": None,
        }
        for i, code in enumerate(codes_)
    ]
    async with app.state.services.writes() as session, session.begin():
        for start in range(0, BIG_ROWS, 50_000):
            await session.execute(insert(m.Region), rows[start : start + 50_000])
    del rows
    try:
        yield MARK
    finally:
        async with app.state.services.writes() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                # The rows are ours and nothing references them: skip PostgreSQL's per-row foreign-key checks
                # (a scan of each unindexed referencing column per deleted region, ~2 minutes for 200,000).
                await session.execute(text("SET LOCAL session_replication_role = replica"))
            await session.execute(delete(m.Region).where(m.Region.level == 5, m.Region.name.like(f"{MARK}%")))


async def test_row_limit_refuses_before_anything_is_written(app: Starlette, api: Api, big_set: str) -> None:
    grant = m.RoleGrant(role=Role.REGION_ADMIN, region_code="630102000000")
    account = await add_account(app, "export_tmp02", DEMO_PASSWORD, grant)
    try:
        county = api.as_(await login(api, "export_tmp02"))
        before = await audit_count(app)
        body = await county.gql(
            CREATE, {"input": {"source": {"regions": {"nameContains": big_set}}, "format": "XLSX"}}
        )
        assert codes(body) == ["EXPORT_ROW_LIMIT"] and body["errors"][0]["extensions"]["max"] == 100_000
        assert await audit_count(app) == before
        narrowed = await create(county, {"regions": {"nameContains": big_set + "A"}})
        assert narrowed["rowCount"] == SMALL_ROWS
    finally:
        await remove_account(app, account)


async def _stream_peak(app: Starlette, path: str) -> tuple[int, int, bytes]:
    """GET ``path`` straight through the ASGI app, discarding the body as it arrives (a client that buffers
    would measure itself): ``(bytes received, tracemalloc peak during the stream, first bytes)``."""
    received, head = 0, b""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    status = 0

    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the response listens for a disconnect: none comes until it is done
            await done.wait()
            return {"type": "http.disconnect"}
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal received, head, status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            received += len(chunk)
            if len(head) < 4096:
                head += chunk[:4096]

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await app(scope, receive, send)
        done.set()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    return received, peak, head


@pytest.mark.parametrize("fmt", ["CSV", "XLSX"])
async def test_memory_stays_flat(
    app: Starlette, api: Api, tokens: dict[str, str], big_set: str, fmt: str
) -> None:
    ministry = api.as_(tokens["demo_ministry"])
    peaks: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for rows, mark in ((SMALL_ROWS, big_set + "A"), (BIG_ROWS, big_set)):
        ticket = await create(ministry, {"regions": {"nameContains": mark}}, format=fmt)
        assert ticket["rowCount"] == rows
        sizes[rows], peaks[rows], head = await _stream_peak(app, path_of(ticket["url"]))
        if fmt == "CSV":
            # the first name starts with "=": written with a leading apostrophe, never as a formula
            first = "\ufeff区划代码,名称,级别,上级区划代码\r\n630102500001,'=导出测试村A000000,5,\r\n"
            assert head.startswith(first.encode())
    assert sizes[BIG_ROWS] > 9 * sizes[SMALL_ROWS], sizes  # ten times the rows really went through
    # Flat: ten times the rows need hardly more memory than a tenth of them, and well under 16 MiB.
    assert peaks[BIG_ROWS] < peaks[SMALL_ROWS] * 1.25 + 2**20 and peaks[BIG_ROWS] < 16 * 2**20, peaks
