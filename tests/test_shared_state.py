"""State that workers share through Redis: the key-value store, and login throttling across two real
server processes (two workers) on one database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from models.kv import RedisStore
from settings import Settings
from tests.live_server import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parent.parent


def _redis_or_skip() -> None:
    with socket.socket() as sock:
        sock.settimeout(1)
        if sock.connect_ex(("127.0.0.1", 6379)) == 0:
            return
    reason = "Redis does not answer at 127.0.0.1:6379"
    if os.environ.get("CI"):
        pytest.fail(f"CI requires Redis: {reason}")
    pytest.skip(reason)


async def test_redis_store_operations() -> None:
    _redis_or_skip()
    store = RedisStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        assert await store.get("k") is None
        await store.set("k", "v", ttl=30)
        assert await store.get("k") == "v"
        assert [await store.incr("c", ttl=30) for _ in range(3)] == [1, 2, 3]
        ttl = await store.client.ttl(store.prefix + "c")
        assert 0 < ttl <= 30  # the window is set once, not pushed back by each increment
        await store.delete("k")
        assert await store.get("k") is None
    finally:
        await store.client.delete(store.prefix + "c")
        await store.aclose()


@pytest.fixture
def two_workers(settings: Settings, app: object) -> Iterator[list[str]]:
    """Two server processes on two loopback ports, one database, one Redis."""
    _redis_or_skip()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ZHIYUAN_VAR_DIR": str(settings.var_dir),
        "ZHIYUAN_ENV": "test",
        "REDIS_URL": REDIS_URL,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env={**env, "PORT": str(port)})
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


LOGIN = 'mutation($u: String!) { login(input: {username: $u, password: "Wrong#pass1"}) { accessToken } }'


async def test_login_throttling_holds_across_workers(two_workers: list[str], settings: Settings) -> None:
    username = f"nobody_{uuid.uuid4().hex[:10]}"
    codes = []
    async with httpx.AsyncClient(timeout=10) as client:
        for attempt in range(settings.login_max_failures + 1):
            url = two_workers[attempt % 2]  # alternate between the workers
            body = (
                await client.post(f"{url}/graphql", json={"query": LOGIN, "variables": {"u": username}})
            ).json()
            codes.append(body["errors"][0]["extensions"]["code"])
            await asyncio.sleep(0)
    assert codes[: settings.login_max_failures] == ["INVALID_CREDENTIALS"] * settings.login_max_failures
    assert codes[-1] == "ACCOUNT_LOCKED"  # each worker alone saw only half of the failures
