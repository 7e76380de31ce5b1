"""Login throttling: the ``LoginThrottle`` protocol and an in-process implementation.

Two independent limits apply to a login attempt:

* per account key (the normalised login name, whether or not such an account exists): ``max_failures``
  consecutive failures lock the key for ``lockout_seconds``; a success clears its counter;
* per client IP: more than ``ip_max_failures`` failures within a sliding window of ``lockout_seconds``
  lock the IP for ``lockout_seconds``, whichever accounts were tried (a success does not clear it).

The caller asks ``retry_after`` before checking the password and refuses the attempt while it returns a
number of seconds, then reports the outcome with ``record_failure`` or ``record_success``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from models.kv import KeyValueStore

__all__ = ["LoginThrottle", "MemoryLoginThrottle"]


class LoginThrottle(Protocol):
    """Where login failures are counted; an in-process and (later) a shared implementation."""

    async def retry_after(self, account_key: str, client_ip: str) -> int | None:
        """Seconds until this account and IP may try again, or None when allowed now."""
        ...

    async def record_failure(self, account_key: str, client_ip: str) -> None:
        """Count a failed login against both the account key and the client IP."""
        ...

    async def record_success(self, account_key: str, client_ip: str) -> None:
        """Clear the account key's failure counter (the IP window is left as it is)."""
        ...


@dataclass(slots=True)
class _AccountState:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(slots=True)
class _IpState:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    last_failure: float = 0.0


class MemoryLoginThrottle:
    """A ``LoginThrottle`` kept in this process's memory (one event loop; not shared between workers).

    Memory stays bounded: entries are kept in least-recently-failed order and expired ones are pruned
    from the front whenever a failure is recorded. An account's failure run is forgotten
    ``forget_after`` seconds after its last failure (and never before its lockout ends); an IP entry
    ``lockout_seconds`` after its last failure. Should more than ``max_entries`` keys or IPs still be
    live, the least recently failed are dropped.
    """

    def __init__(
        self,
        max_failures: int,
        lockout_seconds: int,
        ip_max_failures: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        forget_after: float = 86_400.0,
        max_entries: int = 100_000,
    ) -> None:
        if max_failures < 1 or ip_max_failures < 1:
            raise ValueError("max_failures and ip_max_failures must be at least 1")
        if lockout_seconds <= 0:
            raise ValueError("lockout_seconds must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_failures = max_failures
        self._lockout = float(lockout_seconds)
        self._ip_max_failures = ip_max_failures
        self._clock = clock
        self._account_ttl = max(float(forget_after), self._lockout)
        self._max_entries = max_entries
        self._accounts: OrderedDict[str, _AccountState] = OrderedDict()
        self._ips: OrderedDict[str, _IpState] = OrderedDict()

    def __len__(self) -> int:
        """Number of account keys and IPs currently remembered."""
        return len(self._accounts) + len(self._ips)

    async def retry_after(self, account_key: str, client_ip: str) -> int | None:
        now = self._clock()
        until = 0.0
        account = self._accounts.get(account_key)
        if account is not None:
            until = max(until, account.locked_until)
        ip = self._ips.get(client_ip)
        if ip is not None:
            until = max(until, ip.locked_until)
        if until <= now:
            return None
        return max(1, math.ceil(until - now))

    async def record_failure(self, account_key: str, client_ip: str) -> None:
        now = self._clock()
        self._prune(now)
        self._account_failure(account_key, now)
        self._ip_failure(client_ip, now)

    async def record_success(self, account_key: str, client_ip: str) -> None:
        self._accounts.pop(account_key, None)

    def _account_failure(self, key: str, now: float) -> None:
        state = self._accounts.get(key)
        if state is None:
            state = self._accounts[key] = _AccountState()
        elif state.locked_until > now:
            return  # already locked: the lockout is neither extended nor stacked
        self._accounts.move_to_end(key)
        state.last_failure = now
        state.failures += 1
        if state.failures >= self._max_failures:
            state.failures = 0
            state.locked_until = now + self._lockout
        if len(self._accounts) > self._max_entries:
            self._accounts.popitem(last=False)

    def _ip_failure(self, ip: str, now: float) -> None:
        state = self._ips.get(ip)
        if state is None:
            state = self._ips[ip] = _IpState()
        elif state.locked_until > now:
            return
        self._ips.move_to_end(ip)
        state.last_failure = now
        window = state.failures
        window.append(now)
        while window and window[0] <= now - self._lockout:
            window.popleft()
        if len(window) > self._ip_max_failures:
            window.clear()
            state.locked_until = now + self._lockout
        if len(self._ips) > self._max_entries:
            self._ips.popitem(last=False)

    def _prune(self, now: float) -> None:
        # Both dicts are ordered by last failure and every entry lives a fixed time after its last
        # failure, so the expired entries are exactly a prefix.
        while self._accounts:
            account = next(iter(self._accounts.values()))
            if account.last_failure + self._account_ttl > now:
                break
            self._accounts.popitem(last=False)
        while self._ips:
            ip = next(iter(self._ips.values()))
            if ip.last_failure + self._lockout > now:
                break
            self._ips.popitem(last=False)


class StoreLoginThrottle:
    """The same rules kept in a shared key-value store (Redis), so every worker counts the same failures.

    Account: ``max_failures`` failures within ``lockout_seconds`` of each other lock the account for
    ``lockout_seconds``; a success clears its count. Address: more than ``ip_max_failures`` failures in a window
    of ``lockout_seconds`` lock it until the window ends.
    """

    def __init__(
        self,
        store: KeyValueStore,
        max_failures: int,
        lockout_seconds: int,
        ip_max_failures: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.clock = store, clock
        self.max_failures, self.lockout, self.ip_max = max_failures, lockout_seconds, ip_max_failures

    async def _locked(self, key: str) -> int | None:
        until = await self.store.get(key)
        if until is None:
            return None
        remaining = float(until) - self.clock()
        return max(1, math.ceil(remaining)) if remaining > 0 else None

    async def retry_after(self, account_key: str, client_ip: str) -> int | None:
        waits = [
            w
            for w in (await self._locked(f"lt:al:{account_key}"), await self._locked(f"lt:il:{client_ip}"))
            if w
        ]
        return max(waits) if waits else None

    async def record_failure(self, account_key: str, client_ip: str) -> None:
        now = self.clock()
        if await self.store.incr(f"lt:af:{account_key}", self.lockout) >= self.max_failures:
            await self.store.set(f"lt:al:{account_key}", str(now + self.lockout), self.lockout)
            await self.store.delete(f"lt:af:{account_key}")
        if await self.store.incr(f"lt:if:{client_ip}", self.lockout) > self.ip_max:
            await self.store.set(f"lt:il:{client_ip}", str(now + self.lockout), self.lockout)

    async def record_success(self, account_key: str, client_ip: str) -> None:
        await self.store.delete(f"lt:af:{account_key}")
