"""The load generator's HTTP client, shared by the benchmark (bench/run.py) and the soak (bench/soak.py).

aiohttp, not httpx: measured on this machine against a trivial Starlette endpoint (bench/PERF-NOTES.md, sixth
pass), httpx's ``AsyncClient`` costs its process 1.0 ms of CPU per request at concurrency 1 and 3.7 ms at 32
(its connection pool is scanned under a lock on every request), aiohttp's 0.20 and 0.13 ms. With httpx the
client, not the server, was the bound at concurrency 8 and 32, for the floor as much as for GraphQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    sql_count: int
    """The server's ``x-sql-count`` header (statements the request ran), -1 when absent."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and b'"errors"' not in self.body


Post = Callable[[str, bytes, dict[str, str]], Awaitable[Answer]]


@asynccontextmanager
async def load_client(base: str, connections: int) -> AsyncIterator[Post]:
    """``post(path, body, headers) -> Answer`` over at most ``connections`` kept-alive connections."""
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def post(path: str, body: bytes, headers: dict[str, str]) -> Answer:
            async with session.post(path, data=body, headers=headers) as response:
                payload = await response.read()
                return Answer(response.status, payload, int(response.headers.get("x-sql-count", "-1")))

        yield post
