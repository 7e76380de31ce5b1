"""A circuit breaker for the remote verifiers.

CLOSED: calls go through; ``failure_threshold`` consecutive failures open the circuit.
OPEN: calls are refused (the verifier answers RETRY without touching the network) for ``reset_after``
seconds, then the next call moves the circuit to HALF_OPEN.
HALF_OPEN: exactly one probe call goes through; its success closes the circuit, its failure opens it again
for another ``reset_after``. A probe that never reports back (its task was cancelled) is given up after
``reset_after`` and another probe is let through, so the circuit cannot stick half-open.

The clock is injectable (``time.monotonic`` by default) so tests need not sleep. Everything runs on one
event loop and no method awaits, so no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after < 0:
            raise ValueError("reset_after must not be negative")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started_at = 0.0

    @property
    def state(self) -> BreakerState:
        """The state as of now (an OPEN circuit whose time is up reads HALF_OPEN before its probe)."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go out now? In HALF_OPEN this hands out the single probe."""
        now = self._clock()
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if now - self._opened_at < self.reset_after:
                return False
            self._state = BreakerState.HALF_OPEN
            self._probe_started_at = now
            return True
        # HALF_OPEN with a probe out: refuse, unless that probe has been silent too long
        if now - self._probe_started_at >= self.reset_after:
            self._probe_started_at = now
            return True
        return False

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
