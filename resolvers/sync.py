"""``cli.py sync``: pull a peer instance's change feed over HTTP and apply it page by page.

The ministry's instance pulls each province instance's feed (upload, 部省两级), and a province instance pulls
the ministry's feed of its subtree (flow-back, 回流). Each page is one transaction with its cursor
(resolvers/sync_apply.py), so an interrupted run loses nothing and repeats nothing when run again. The last
request of a run asks from the final cursor and gets an empty page: that tells the peer how far we got
(its ``sync_state.acked``), which the conflict rule needs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm  # type: ignore[import-untyped]

from models import SyncState
from models.db import make_write_session_factory
from resolvers.sync_apply import apply_page

log = logging.getLogger("zhiyuan.sync")

NODE = "query { changes(first: 0) { node } }"
PAGE = """
query Changes($since: String!, $first: Int!, $withPending: Boolean!) {
  changes(since: $since, first: $first) {
    node cursor hasMore pending @include(if: $withPending)
    changes { table key regionCode row }
  }
}
"""
LOGIN = """
mutation Login($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }
"""

PageHook = Callable[[int, str], Awaitable[None]]
"""Called with (page number, "applied") inside a page's transaction and (page number, "committed") after."""


class SyncError(RuntimeError):
    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True)
class Peer:
    url: str
    token: str = ""
    username: str = ""
    password: str = ""


@dataclass
class SyncReport:
    peer_node: int = -1
    pages: int = 0
    upserted: int = 0
    deleted: int = 0
    kept_local: int = 0
    ignored: int = 0
    cursor: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"sync from node {self.peer_node}: {self.pages} pages, {self.upserted} upserted, {self.deleted}"
            f" deleted, {self.kept_local} kept (owner wins), {self.ignored} ignored, cursor {self.cursor or '-'}"
            f" in {self.seconds:.1f} s"
        )


class _Client:
    def __init__(self, http: httpx.AsyncClient, peer: Peer) -> None:
        self.http, self.peer, self.token = http, peer, peer.token

    async def login(self) -> None:
        data = await self._post(LOGIN, {"u": self.peer.username, "p": self.peer.password}, retry=False)
        self.token = data["login"]["accessToken"]

    async def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if not self.token:
            await self.login()
        return await self._post(query, variables, retry=bool(self.peer.username))

    async def _post(self, query: str, variables: dict[str, Any], retry: bool) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            code = str(body["errors"][0].get("extensions", {}).get("code", "PEER_ERROR"))
            if code == "UNAUTHENTICATED" and retry:  # the access token expired during a long run
                await self.login()
                return await self._post(query, variables, retry=False)
            raise SyncError(code, str(body["errors"][0].get("message", "")))
        data: dict[str, Any] = body["data"]
        return data


async def sync_once(
    engine: AsyncEngine,
    own_node: int,
    peer: Peer,
    *,
    page_size: int = 500,
    progress: bool = True,
    on_page: PageHook | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> SyncReport:
    """Pull every page the peer has for us and apply it; returns what was done."""
    started = time.monotonic()
    writes = make_write_session_factory(engine)
    report = SyncReport()
    async with httpx.AsyncClient(base_url=peer.url, timeout=120, transport=transport) as http:
        client = _Client(http, peer)
        peer_node = int((await client.query(NODE, {}))["changes"]["node"])
        if (own_node == 0) == (peer_node == 0):
            raise SyncError("BAD_PEER", f"node {own_node} cannot exchange with node {peer_node}")
        report.peer_node = peer_node
        async with writes() as session:
            state = await session.get(SyncState, peer_node)
            cursor = state.cursor if state else ""
        bar: Any = None
        try:
            while True:
                data = await client.query(
                    PAGE, {"since": cursor, "first": page_size, "withPending": bar is None}
                )
                page = data["changes"]
                if bar is None:
                    bar = tqdm(
                        total=page["pending"],
                        unit="row",
                        desc=f"sync node {peer_node}",
                        disable=not progress,
                        file=sys.stderr,
                    )
                if not page["changes"]:
                    break
                async with writes() as session, session.begin():
                    applied = await apply_page(
                        session, peer_node, peer.url, page["changes"], page["cursor"], owner=own_node != 0
                    )
                    if on_page:
                        await on_page(report.pages + 1, "applied")
                report.pages += 1
                report.upserted += applied.upserted
                report.deleted += applied.deleted
                report.kept_local += applied.kept_local
                report.ignored += applied.ignored
                cursor = report.cursor = page["cursor"]
                if on_page:
                    await on_page(report.pages, "committed")
                bar.update(len(page["changes"]))
        finally:
            if bar is not None:
                bar.close()
    report.cursor = cursor
    report.seconds = time.monotonic() - started
    return report


def parse_interval(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``2h`` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    factor = units.get(value[-1:], 0)
    number = value[:-1] if factor else value
    if not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise ValueError(f"bad interval {text!r}: use e.g. 90s, 5m or 2h")
    return float(number) * (factor or 1)


async def sync_every(engine: AsyncEngine, own_node: int, peer: Peer, interval: float, **options: Any) -> None:
    """Run ``sync_once`` every ``interval`` seconds until cancelled; a failed run is logged and retried."""
    while True:
        try:
            report = await sync_once(engine, own_node, peer, **options)
            log.info(report.line())
        except (SyncError, httpx.HTTPError, DBAPIError) as error:  # e.g. a unique clash: retried next tick
            log.error("sync from %s failed: %s", peer.url, error)
        await asyncio.sleep(interval)
