"""A small shared key-value store for state that several workers must agree on: persisted queries, rate
limits and login throttling. In process by default; Redis when ``REDIS_URL`` is set (deploy/, issue 7)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol


class KeyValueStore(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: int | None = None) -> None: ...
    async def incr(self, key: str, ttl: int) -> int:
        """Add one to a counter that expires ``ttl`` seconds after it was created; returns the new value."""
        ...

    async def delete(self, key: str) -> None: ...


class MemoryStore:
    """Bounded LRU with expiry; one per process."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self.max_entries = max_entries

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return item

    def _put(self, key: str, value: str, expires: float | None) -> None:
        self._data[key] = (value, expires)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def get(self, key: str) -> str | None:
        item = self._live(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: str, ttl: int | None = None) -> None:
        self._put(key, value, time.monotonic() + ttl if ttl else None)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl: int) -> int:
        item = self._live(key)
        if item is None:
            self._put(key, "1", time.monotonic() + ttl)
            return 1
        value = int(item[0]) + 1
        self._put(key, str(value), item[1])
        return value


class RedisStore:
    """The same operations on Redis, shared by every worker and instance that points at it."""

    def __init__(self, url: str, prefix: str = "zhiyuan:") -> None:
        from redis.asyncio import Redis

        self.client = Redis.from_url(url, decode_responses=True)
        self.prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self.client.get(self.prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: int | None = None) -> None:
        await self.client.set(self.prefix + key, value, ex=ttl)

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def incr(self, key: str, ttl: int) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(self.prefix + key)
            pipe.expire(self.prefix + key, ttl, nx=True)
            value, _ = await pipe.execute()
        return int(value)

    async def aclose(self) -> None:
        await self.client.aclose()


def build_store(redis_url: str) -> KeyValueStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
