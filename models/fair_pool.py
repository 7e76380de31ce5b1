"""A connection pool whose waiters are served first come, first served.

SQLAlchemy's ``AsyncAdaptedQueuePool`` keeps idle connections in an ``asyncio.Queue``. When every connection
is checked out, a request waits in ``Queue.get()``; a returned connection wakes the first waiter, but until
that waiter runs, anyone calling ``get`` takes the connection — ``asyncio.Queue`` checks for an item before
it looks at who waited. Under a full pool, newcomers kept overtaking the requests that had waited longest: at
32 concurrent mobile requests on PostgreSQL (30 connections at most) p95 was 3.3 × p50 (bench/RESULTS.md).

``FairQueue`` hands a returned connection straight to the longest waiter; idle connections are only ever
queued when nobody waits, so a newcomer can never pass a waiter.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Generic, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

T = TypeVar("T")


class FairQueue(QueueCommon[T], Generic[T]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize, self.use_lifo = maxsize, use_lifo
        self._items: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a waiter that timed out or was cancelled is skipped
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool returns connections without blocking

    def get_nowait(self) -> T:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._items or not block:
            return self.get_nowait()
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(asyncio.wait_for(asyncio.shield(waiter), timeout))
        except BaseException as error:  # timed out, or the waiting request was cancelled
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over just as the wait ended: pass it on
            else:
                waiter.cancel()  # put_nowait skips it
            if isinstance(error, TimeoutError):
                raise Empty() from None
            raise


class FairAsyncPool(AsyncAdaptedQueuePool):
    """``AsyncAdaptedQueuePool`` with ``FairQueue``: ``create_async_engine(url, poolclass=FairAsyncPool)``."""

    _queue_class: Any = FairQueue
