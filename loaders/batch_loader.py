"""The base of the service's loaders: a DataLoader whose batch function is its own ``_load`` method, without
a reference cycle.

``DataLoader(load_fn=self._load)`` keeps a bound method of the loader on the loader: a reference cycle, so a
request's loaders — their caches, the rows and pages of the whole request — outlived the request until the
cyclic garbage collector ran, and at 32 requests in flight the collector took a sixth of the server's CPU
(bench/PERF-NOTES.md, seventh pass). The batch function here reaches the loader through a weak reference; the
loader is alive whenever a batch runs (strawberry's dispatch holds it).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")


class BatchLoader(DataLoader[K, V]):
    def __init__(self, **options: Any) -> None:
        loader = weakref.ref(self)

        async def load(keys: Sequence[K]) -> Sequence[V]:
            alive = loader()
            assert alive is not None, "a batch runs while its loader is referenced"
            return await alive._load(keys)

        super().__init__(load_fn=load, **options)

    async def _load(self, keys: Sequence[K]) -> Sequence[V]:
        raise NotImplementedError
