"""Two deployment modes, proven on loopback: the ministry's instance (national) and Shandong's own instance
(province:37), each a real uvicorn server over its own database, exchange their change feeds with
``resolvers/sync.py`` — the code behind ``cli.py sync``.

Given both sides write through the GraphQL API (registrations, a team, an admin, a project whose post is
removed, a Zhejiang volunteer applying to a Shandong team, and one team edited on both sides), when each side pulls the other's feed, then every synced table
holds the same rows for the 370000 subtree on both, and the conflicting edit holds the province's value (the
owner region wins). A sync interrupted inside its third page and run again ends with the same rows as the
source: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from auth.passwords import Passwords
from models import RoleGrant
from models.change_log import is_synced, region_sql
from models.db import make_write_session_factory
from models.enums import Role
from resolvers.peers import create_peer_account
from resolvers.sync import Peer, SyncReport, sync_every, sync_once
from resolvers.sync_apply import account_refs
from settings import ROOT, Settings
from tests.conftest import DEMO_PASSWORD
from tests.database import create_database, drop_database
from tests.live_server import serving
from tests.registration_helpers import adult_id, credit_code, unique
from tests.test_projects import ADD_POST, CREATE, REMOVE_POST, project_input
from tests.visibility import insert_account

PEER_PASSWORD = "Peer#Sync2026"
PROVINCE = "37"
LOGIN = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }"
REGISTER = """mutation($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) { volunteerNumber session { accessToken } } }"""
REGISTER_TEAM = "mutation($input: RegisterTeamInput!) { registerTeam(input: $input) { id } }"
UPDATE_TEAM = (
    "mutation($id: ID!, $d: String!) { updateTeam(teamId: $id, input: {description: $d}) { description } }"
)
MY_TEAM = "{ viewer { grants { role teamId } } }"
CREATE_ADMIN = "mutation($input: CreateAdminInput!) { createAdmin(input: $input) { id } }"


@dataclass
class Instance:
    settings: Settings
    engine: AsyncEngine
    url: str
    http: httpx.AsyncClient

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = (
            await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        ).json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        body = await self.gql(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> str:
        token: str = (await self.data(LOGIN, {"u": username, "p": password}))["login"]["accessToken"]
        return token

    async def sync_from(self, peer: Instance, peer_user: str, **options: Any) -> SyncReport:
        own = self.settings.node_id
        return await sync_once(
            self.engine,
            own,
            Peer(peer.url, username=peer_user, password=PEER_PASSWORD),
            progress=False,
            **options,
        )


@asynccontextmanager
async def instance(base: Settings, tmp: Path, mode: str, demo: bool) -> AsyncIterator[Instance]:
    from cli import load_regions, seed_demo
    from server import create_app

    tmp.mkdir()
    url, pg_name = await create_database(tmp)
    settings = dataclasses.replace(base, database_url=url, deployment_mode=mode)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            await load_regions(settings)
            if demo:
                await seed_demo(settings, volunteers=150, seed=37, only_if_empty=True)
            async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                yield Instance(settings, app.state.engine, base_url, http)
    finally:
        if pg_name:
            await drop_database(pg_name)


@asynccontextmanager
async def pair(settings: Settings, tmp: Path) -> AsyncIterator[tuple[Instance, Instance]]:
    """The ministry's instance with demo data and an empty Shandong instance, each with the other's peer
    service account."""
    async with (
        instance(settings, tmp / "national", "national", demo=True) as national,
        instance(settings, tmp / "province", f"province:{PROVINCE}", demo=False) as province,
    ):
        for side, user, code in ((national, "peer_sd", PROVINCE), (province, "peer_mca", None)):
            writes = make_write_session_factory(side.engine)
            await create_peer_account(side.settings, writes, user, PEER_PASSWORD, code)
        yield national, province


def _plain(value: Any) -> Any:
    """JSON columns come back as dicts and lists on PostgreSQL: compare their canonical text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


async def subtree(engine: AsyncEngine) -> dict[str, set[tuple[Any, ...]]]:
    """Every synced table's rows in the province subtree, as comparable tuples. References to accounts outside
    the subtree (the ministry admin who created a row) are never sent to a province and read as None."""
    tables = [t for t in SQLModel.metadata.sorted_tables if is_synced(t.name)]
    found: dict[str, set[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in tables:
            region = region_sql(table.name, {c.name for c in table.columns}, "src")
            if region is None:
                continue
            rows = await conn.execute(
                text(f"SELECT * FROM {table.name} src WHERE substr({region}, 1, 2) = :p"), {"p": PROVINCE}
            )
            found[table.name] = {tuple((k, _plain(v)) for k, v in row.items()) for row in rows.mappings()}
        accounts = {dict(row)["id"] for row in found.get("account", set())}
        for table in tables:
            refs = set(account_refs(table))
            if table.name in found and refs:
                found[table.name] = {
                    tuple((k, None if k in refs and v not in accounts else v) for k, v in row)
                    for row in found[table.name]
                }
    return found


def assert_same(left: dict[str, set[tuple[Any, ...]]], right: dict[str, set[tuple[Any, ...]]]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        missing, extra = left[name] - right[name], right[name] - left[name]
        assert not missing and not extra, f"{name}: {len(missing)} rows differ, e.g. {sorted(missing)[:1]}"


def volunteer(region: str) -> dict[str, Any]:
    n = unique()
    return {
        "name": "同步测试",
        "idNumber": adult_id(region[:6]),
        "phone": f"137{n:08d}",
        "username": f"sync_user_{n:06d}",
        "password": "Regist3r#ok",
        "regionCode": region,
    }


async def test_both_sides_write_and_converge_with_the_owner_winning(
    settings: Settings, tmp_path: Path
) -> None:
    async with pair(settings, tmp_path) as (national, province):
        # given the province instance has received its subtree from the ministry (flow-back, 回流)
        first = await province.sync_from(national, "peer_sd")
        assert first.upserted > 0 and first.kept_local == 0
        team_admin_nat = await national.login("demo_team")
        team_admin_prov = await province.login("demo_team")  # the account came with the flow-back
        team_id = next(
            g["teamId"]
            for g in (await province.data(MY_TEAM, token=team_admin_prov))["viewer"]["grants"]
            if g["role"] == "TEAM_ADMIN"
        )

        # when both sides write through the API
        mine = await province.data(REGISTER, {"input": volunteer("370102000000")})
        founder = mine["registerVolunteer"]["session"]["accessToken"]
        team = {
            "name": f"同步测试服务队{unique()}",
            "teamType": "LEGAL_PERSON",
            "regionCode": "370102000000",
            "personInCharge": "李负责",
            "contactName": "王联系",
            "contactPhone": "13900001111",
            "creditCode": credit_code("370102"),
        }
        await province.data(REGISTER_TEAM, {"input": team}, token=founder)
        project = await province.data(CREATE, {"input": project_input(team_id)}, token=team_admin_prov)
        project_id = project["createProject"]["id"]
        post = await province.data(
            ADD_POST, {"id": project_id, "input": {"name": "撤销岗位", "quota": 3}}, token=team_admin_prov
        )
        await province.data(REMOVE_POST, {"id": post["addPost"]["id"]}, token=team_admin_prov)
        outside = await province.gql(REGISTER, {"input": volunteer("330106000000")})
        assert outside["errors"][0]["extensions"]["code"] == "OUT_OF_JURISDICTION"
        assert outside["errors"][0]["extensions"]["reason"] == "OUTSIDE_INSTANCE"

        rollout = 'mutation { setProvinceStatus(provinceCode: "330000000000", status: TRIAL) { status } }'
        local_ministry = await insert_account(
            make_write_session_factory(province.engine),
            "local_mca",
            Passwords(1, 1024).hash(DEMO_PASSWORD),
            RoleGrant(account_id=0, role=Role.MINISTRY_ADMIN),
        )
        refused = await province.gql(rollout, token=await province.login("local_mca"))
        assert local_ministry and refused["errors"][0]["extensions"]["reason"] == "OUTSIDE_INSTANCE"

        await national.data(REGISTER, {"input": volunteer("370103000000")})
        visitor = (await national.data(REGISTER, {"input": volunteer("330106000000")}))["registerVolunteer"]
        apply = "mutation($id: ID!) { applyToTeam(teamId: $id) { status } }"
        await national.data(apply, {"id": team_id}, token=visitor["session"]["accessToken"])
        ministry = await national.login("demo_ministry")
        admin = {
            "username": f"sd_admin_{unique():05d}",
            "password": "Adm1n#Sync",
            "regionCode": "370000000000",
        }
        await national.data(CREATE_ADMIN, {"input": admin}, token=ministry)
        await national.data(UPDATE_TEAM, {"id": team_id, "d": "部里修改"}, token=team_admin_nat)
        await province.data(UPDATE_TEAM, {"id": team_id, "d": "省里修改"}, token=team_admin_prov)

        # and each side pulls the other's feed: flow-back first, so the province meets the ministry's edit of
        # the team it changed itself, then the upload
        back = await province.sync_from(national, "peer_sd")
        up = await national.sync_from(province, "peer_mca")

        # then the rows agree, and the owner's edit of the shared team holds on both sides
        assert up.upserted > 0 and up.deleted >= 1 and back.kept_local >= 1
        assert_same(await subtree(national.engine), await subtree(province.engine))
        for side, token in ((national, team_admin_nat), (province, team_admin_prov)):
            query = "query($id: ID!) { node(id: $id) { ... on Team { description } } }"
            assert (await side.data(query, {"id": team_id}, token=token))["node"]["description"] == "省里修改"

        # and the Zhejiang volunteer who applied to the Shandong team came along with the application
        async with province.engine.connect() as conn:
            query = text("SELECT region_code FROM volunteer WHERE volunteer_number = :n")
            copied = (await conn.execute(query, {"n": visitor["volunteerNumber"]})).scalar_one()
        assert copied == "330106000000"

        # and a second round moves nothing but its own confirmations
        again = await national.sync_from(province, "peer_mca"), await province.sync_from(national, "peer_sd")
        assert [r.upserted + r.deleted for r in again] == [0, 0]

        # and when the ministry applied a province edit but stopped before confirming it, then edited the row
        # again, the province still keeps its version, sends it once more, and both sides end with it
        await province.data(UPDATE_TEAM, {"id": team_id, "d": "省里再改"}, token=team_admin_prov)

        async def stop_before_confirming(number: int, stage: str) -> None:
            if stage == "committed":
                raise Killed

        with pytest.raises(Killed):
            await national.sync_from(province, "peer_mca", on_page=stop_before_confirming)
        await national.data(UPDATE_TEAM, {"id": team_id, "d": "部里再改"}, token=team_admin_nat)
        kept = await province.sync_from(national, "peer_sd")
        await national.sync_from(province, "peer_mca")
        assert kept.kept_local >= 1
        assert_same(await subtree(national.engine), await subtree(province.engine))
        for side, token in ((national, team_admin_nat), (province, team_admin_prov)):
            query = "query($id: ID!) { node(id: $id) { ... on Team { description } } }"
            assert (await side.data(query, {"id": team_id}, token=token))["node"]["description"] == "省里再改"


class Killed(Exception):
    pass


async def test_a_sync_killed_halfway_resumes_without_loss_or_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    async with pair(settings, tmp_path) as (national, province):
        cursors: list[str] = []

        async def kill_in_third_page(number: int, stage: str) -> None:
            if stage == "committed":
                async with province.engine.connect() as conn:
                    cursors.append((await conn.execute(text("SELECT cursor FROM sync_state"))).scalar_one())
            if number == 3 and stage == "applied":
                raise Killed  # inside the page's transaction, after its rows were written

        with pytest.raises(Killed):
            await province.sync_from(national, "peer_sd", page_size=40, on_page=kill_in_third_page)
        assert len(cursors) == 2
        partial = await subtree(province.engine)

        resumed_from: list[str] = []

        async def note(number: int, stage: str) -> None:
            if number == 1 and stage == "applied":
                async with province.engine.connect() as conn:
                    resumed_from.append(
                        (await conn.execute(text("SELECT cursor FROM sync_state"))).scalar_one()
                    )

        rest = await province.sync_from(national, "peer_sd", page_size=40, on_page=note)
        source, copy = await subtree(national.engine), await subtree(province.engine)
        assert resumed_from == [cursors[-1]]  # the rerun starts after the last committed page, not from zero
        assert rest.pages > 1
        assert sum(len(rows) for rows in partial.values()) < sum(len(rows) for rows in copy.values())
        assert_same(source, copy)
        async with province.engine.connect() as conn:
            numbers = (
                await conn.execute(text("SELECT count(*), count(DISTINCT volunteer_number) FROM volunteer"))
            ).one()
        assert numbers[0] == numbers[1] == len(source["volunteer"])


async def _pages(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT coalesce(sum(pages), 0) FROM sync_state"))).scalar_one())


async def _cli_sync(province: Instance, national: Instance) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": province.settings.database_url,
        "ZHIYUAN_DEPLOYMENT_MODE": province.settings.deployment_mode,
        "ZHIYUAN_VAR_DIR": str(province.settings.var_dir),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "cli.py",
        "sync",
        "--peer",
        national.url,
        "--credentials",
        f"peer_sd:{PEER_PASSWORD}",
        "--page-size",
        "5",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_sync_killed_with_sigkill_resumes_and_runs_on_a_schedule(
    settings: Settings, tmp_path: Path
) -> None:
    async with pair(settings, tmp_path) as (national, province):
        # given `cli.py sync` is killed (SIGKILL) after a few pages of the initial load
        killed = await _cli_sync(province, national)
        for _ in range(3000):
            if await _pages(province.engine) >= 3 or killed.returncode is not None:
                break
            await asyncio.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        await killed.wait()
        assert killed.returncode == -signal.SIGKILL
        done_before = await _pages(province.engine)
        assert done_before >= 3

        # when it runs again
        rerun = await _cli_sync(province, national)
        out, err = await rerun.communicate()
        assert rerun.returncode == 0, err.decode()

        # then it went on from where it stopped, showed its progress, and nothing is missing or doubled
        assert "sync from node 0" in out.decode() and "sync node 0" in err.decode()
        assert ": 0 pages" not in out.decode()  # the first run had not finished
        assert_same(await subtree(national.engine), await subtree(province.engine))

        # and on a schedule, a later registration on the ministry's side arrives by itself
        task = asyncio.create_task(
            sync_every(
                province.engine,
                37,
                Peer(national.url, username="peer_sd", password=PEER_PASSWORD),
                0.2,
                progress=False,
            )
        )
        try:
            number = (await national.data(REGISTER, {"input": volunteer("370103000000")}))[
                "registerVolunteer"
            ]["volunteerNumber"]
            found = None
            for _ in range(300):
                async with province.engine.connect() as conn:
                    query = text("SELECT id FROM volunteer WHERE volunteer_number = :n")
                    found = (await conn.execute(query, {"n": number})).scalar_one_or_none()
                if found is not None:
                    break
                await asyncio.sleep(0.05)
            assert found is not None
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
