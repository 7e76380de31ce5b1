"""Tests for auth.throttle.MemoryLoginThrottle with a fake clock."""

from __future__ import annotations

import pytest

from auth.throttle import LoginThrottle, MemoryLoginThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **overrides: int) -> MemoryLoginThrottle:
    params = {"max_failures": 3, "lockout_seconds": 60, "ip_max_failures": 10} | overrides
    return MemoryLoginThrottle(clock=clock, **params)


def test_implements_protocol(clock: FakeClock) -> None:
    throttle: LoginThrottle = make(clock)
    assert throttle is not None


async def test_lockout_after_n_failures(clock: FakeClock) -> None:
    throttle = make(clock)
    for _ in range(2):
        await throttle.record_failure("alice", "10.0.0.1")
        assert await throttle.retry_after("alice", "10.0.0.1") is None
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") == 60
    assert await throttle.retry_after("alice", "10.0.0.2") == 60  # the account, from any IP
    assert await throttle.retry_after("bob", "10.0.0.1") is None  # the IP is not locked
    clock.advance(20.5)
    assert await throttle.retry_after("alice", "10.0.0.1") == 40


async def test_unlock_after_lockout(clock: FakeClock) -> None:
    throttle = make(clock)
    for _ in range(3):
        await throttle.record_failure("alice", "10.0.0.1")
    clock.advance(59.9)
    assert await throttle.retry_after("alice", "10.0.0.1") == 1
    clock.advance(0.1)
    assert await throttle.retry_after("alice", "10.0.0.1") is None
    # A fresh run of failures is needed to lock again.
    await throttle.record_failure("alice", "10.0.0.1")
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") is None
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") == 60


async def test_failures_while_locked_do_not_extend(clock: FakeClock) -> None:
    throttle = make(clock)
    for _ in range(3):
        await throttle.record_failure("alice", "10.0.0.1")
    clock.advance(30)
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") == 30


async def test_success_resets_account_counter(clock: FakeClock) -> None:
    throttle = make(clock)
    await throttle.record_failure("alice", "10.0.0.1")
    await throttle.record_failure("alice", "10.0.0.1")
    await throttle.record_success("alice", "10.0.0.1")
    await throttle.record_failure("alice", "10.0.0.1")
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") is None
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") == 60


async def test_success_does_not_clear_ip(clock: FakeClock) -> None:
    throttle = make(clock, ip_max_failures=2)
    for name in ("a", "b", "c"):
        await throttle.record_failure(name, "10.0.0.9")
    await throttle.record_success("d", "10.0.0.9")
    assert await throttle.retry_after("d", "10.0.0.9") == 60


async def test_ip_lock_across_many_accounts(clock: FakeClock) -> None:
    throttle = make(clock, ip_max_failures=5)
    for i in range(5):
        await throttle.record_failure(f"user{i}", "203.0.113.7")
    assert await throttle.retry_after("someone", "203.0.113.7") is None
    await throttle.record_failure("user5", "203.0.113.7")
    assert await throttle.retry_after("someone", "203.0.113.7") == 60
    assert await throttle.retry_after("someone", "203.0.113.8") is None
    clock.advance(60)
    assert await throttle.retry_after("someone", "203.0.113.7") is None


async def test_ip_window_slides(clock: FakeClock) -> None:
    throttle = make(clock, ip_max_failures=3)
    for i in range(3):
        await throttle.record_failure(f"user{i}", "203.0.113.7")
        clock.advance(25)
    # The first failure is now 75 s old and out of the 60 s window.
    await throttle.record_failure("user3", "203.0.113.7")
    assert await throttle.retry_after("x", "203.0.113.7") is None
    await throttle.record_failure("user4", "203.0.113.7")
    assert await throttle.retry_after("x", "203.0.113.7") == 60


async def test_unknown_usernames_are_throttled_like_known_ones(clock: FakeClock) -> None:
    throttle = make(clock)
    for i in range(3):
        await throttle.record_failure("no-such-user", f"10.0.0.{i}")
    assert await throttle.retry_after("no-such-user", "10.0.0.200") == 60


async def test_expired_entries_are_pruned(clock: FakeClock) -> None:
    throttle = MemoryLoginThrottle(3, 60, 10, clock, forget_after=120)
    for i in range(50):
        await throttle.record_failure(f"user{i}", f"10.0.{i}.1")
    assert len(throttle) == 100
    clock.advance(61)
    await throttle.record_failure("late", "10.9.9.9")
    assert len(throttle) == 50 + 1 + 1  # IP entries gone, account runs remembered for forget_after
    clock.advance(60)
    await throttle.record_failure("later", "10.9.9.8")
    assert len(throttle) == 2 + 1  # late/later accounts and the later IP


async def test_failure_run_is_forgotten_after_quiet_period(clock: FakeClock) -> None:
    throttle = MemoryLoginThrottle(3, 60, 100, clock, forget_after=300)
    await throttle.record_failure("alice", "10.0.0.1")
    await throttle.record_failure("alice", "10.0.0.1")
    clock.advance(301)
    await throttle.record_failure("alice", "10.0.0.1")
    assert await throttle.retry_after("alice", "10.0.0.1") is None


async def test_max_entries_bounds_memory(clock: FakeClock) -> None:
    throttle = MemoryLoginThrottle(3, 60, 10, clock, max_entries=10)
    for i in range(100):
        await throttle.record_failure(f"user{i}", f"10.0.{i}.1")
    assert len(throttle) == 20


def test_constructor_validation(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        make(clock, max_failures=0)
    with pytest.raises(ValueError):
        make(clock, ip_max_failures=0)
    with pytest.raises(ValueError):
        make(clock, lockout_seconds=0)
