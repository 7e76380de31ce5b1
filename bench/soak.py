"""Soak mode of the benchmark harness (``bench/run.py --soak SECONDS``): one graphql server under a steady mix
of read operations for a long time, its resident memory sampled every few seconds, to show whether memory
grows under load (caches without bounds, per-request state kept alive, leaks in a driver).

Reported: RSS mean of the first and the last minute, their difference, the least-squares slope of RSS over the
run after the first minute (MB per minute), the maximum, requests/s and p50/p95 per minute, and errors. The
target (issue 9) is "no growth": here the last minute's mean within 5 % of the first minute's and a slope
below 0.5 MB/min. Mutations are not soaked: their inputs are used up (each sign-up pair once).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from load import Post, load_client

READ_OPS = ("mobile", "team_admin", "county", "province", "public")


class _Server(Protocol):
    def rss_mb(self) -> float: ...


@dataclass
class Soak:
    ops: list[str]
    seconds: float
    concurrency: int
    interval: float
    warmup: float = 0.0
    """Seconds of the same load before the clock starts (caches filling: parsed queries, compiled SQL,
    tokens, page caches); the report covers the steady state after it."""
    warmup_rss: tuple[float, float] = (float("nan"), float("nan"))
    """RSS at the start and at the end of the warm-up."""
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    """(seconds since start, RSS MB, MB held by SQLite itself: page caches, statements; NaN on PostgreSQL)."""
    done: list[tuple[float, str, float, bool]] = field(default_factory=list)
    """(finish time since start, op, latency s, ok) per request."""
    first_error: str = ""

    def mean_rss(self, low: float, high: float, column: int = 1) -> float:
        values = [s[column] for s in self.samples if low <= s[0] < high and s[column] == s[column]]  # not NaN
        return sum(values) / len(values) if values else float("nan")

    def slope_mb_per_min(self, after: float = 60.0) -> float:
        points = [(t / 60, rss) for t, rss, _ in self.samples if t >= after]
        if len(points) < 2:
            return float("nan")
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        var = sum((x - mx) ** 2 for x, _ in points)
        return sum((x - mx) * (y - my) for x, y in points) / var if var else float("nan")

    def minutes(self) -> list[dict[str, Any]]:
        rows = []
        for minute in range(int(self.seconds // 60 + (1 if self.seconds % 60 else 0))):
            low, high = minute * 60, min((minute + 1) * 60, self.seconds)
            hits = sorted(lat for t, _, lat, _ in self.done if low <= t < high)
            span = high - low
            rows.append(
                {
                    "minute": minute + 1,
                    "rps": len(hits) / span if span else 0.0,
                    "p50": hits[len(hits) // 2] * 1000 if hits else float("nan"),
                    "p95": hits[min(len(hits) - 1, int(0.95 * len(hits)))] * 1000 if hits else float("nan"),
                    "rss": self.mean_rss(low, high),
                    "sqlite": self.mean_rss(low, high, 2),
                }
            )
        return rows


async def run_soak(
    base: str,
    server: _Server,
    sources: dict[str, Any],
    ops: list[str],
    seconds: float,
    concurrency: int,
    interval: float = 5.0,
    warmup: float = 0.0,
) -> Soak:
    """Drive ``ops`` round-robin (each worker takes the next op in turn) at ``concurrency``: ``warmup`` seconds
    unrecorded, then ``seconds`` recorded."""
    soak = Soak(ops, seconds, concurrency, interval, warmup)
    counter = [0]
    async with load_client(base, concurrency) as post:
        if warmup:
            before = server.rss_mb()
            await _load(post, sources, ops, counter, time.perf_counter() + warmup, concurrency)
            soak.warmup_rss = (before, server.rss_mb())
        start = time.perf_counter()
        stop_at = start + seconds

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                op = ops[counter[0] % len(ops)]
                counter[0] += 1
                req = sources[op]()
                t0 = time.perf_counter()
                answer = await post(req.path, req.body, req.headers)
                t1 = time.perf_counter()
                if not answer.ok and not soak.first_error:
                    soak.first_error = f"{op}: {answer.body[:300].decode(errors='replace')}"
                soak.done.append((t1 - start, op, t1 - t0, answer.ok))

        async def sampler() -> None:
            # its own connection: the workers keep every connection of theirs busy with slow requests
            async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
                while (now := time.perf_counter()) < stop_at:
                    rss = server.rss_mb()
                    try:
                        engine = (await probe.get("/bench/sqlite-memory")).json()["used"] / 2**20
                    except (httpx.HTTPError, ValueError, KeyError):
                        engine = float("nan")
                    soak.samples.append((now - start, rss, engine))
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - now)))

        await asyncio.gather(sampler(), *(worker() for _ in range(concurrency)))
    return soak


async def _load(
    post: Post,
    sources: dict[str, Any],
    ops: list[str],
    counter: list[int],
    until: float,
    n: int,
) -> None:
    """The soak's load without recording it (the warm-up)."""

    async def worker() -> None:
        while time.perf_counter() < until:
            op = ops[counter[0] % len(ops)]
            counter[0] += 1
            req = sources[op]()
            await post(req.path, req.body, req.headers)

    await asyncio.gather(*(worker() for _ in range(n)))


def _count(value: object) -> str:
    """A row count with thousands separators, or ``?`` when the tier's metadata does not hold it."""
    return f"{value:,}" if isinstance(value, int) else "?"


def write_soak_report(soak: Soak, meta: dict[str, Any], tier: str, backend: str, path: Path) -> str:
    total = soak.seconds
    first, last = soak.mean_rss(0, 60), soak.mean_rss(total - 60, total + 1)
    growth = last - first
    slope = soak.slope_mb_per_min()
    peak = max((rss for _, rss, _ in soak.samples), default=float("nan"))
    engine_first, engine_last = soak.mean_rss(0, 60, 2), soak.mean_rss(total - 60, total + 1, 2)
    errors = sum(1 for *_, ok in soak.done if not ok)
    met = growth <= 0.05 * first and slope < 0.5
    warm = (
        f", after {soak.warmup:g} s of the same load unrecorded (RSS {soak.warmup_rss[0]:.1f} -> "
        f"{soak.warmup_rss[1]:.1f} MB during it)"
        if soak.warmup
        else ""
    )
    lines = [
        f"### Soak: tier {tier} on {backend} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {total:g} s, "
        f"concurrency {soak.concurrency}, ops {', '.join(soak.ops)} round-robin",
        "",
        f"Data: {_count(meta.get('rows'))} rows ({_count(meta.get('counts', {}).get('service_record'))} service "
        f"records). Server RSS sampled every {soak.interval:g} s ({len(soak.samples)} samples){warm}.",
        "",
        f"- RSS first minute {first:.1f} MB, last minute {last:.1f} MB: growth {growth:+.1f} MB "
        f"({growth / first:+.1%}); slope after the first minute {slope:+.2f} MB/min; peak {peak:.1f} MB",
        f"- of which SQLite's own allocations (every connection's page cache, prepared statements): first minute "
        f"{engine_first:.1f} MB, last minute {engine_last:.1f} MB ({engine_last - engine_first:+.1f} MB); "
        f"RSS without them {first - engine_first:.1f} -> {last - engine_last:.1f} MB "
        f"({(last - engine_last) - (first - engine_first):+.1f} MB)",
        f"- {len(soak.done):,} requests, {len(soak.done) / total:.1f} req/s, errors {errors}",
        f"- target (no growth: last minute within 5 % of the first, slope < 0.5 MB/min): "
        f"{'met' if met else 'NOT met'}",
        "",
        "| minute | req/s | p50 ms | p95 ms | RSS MB (mean) | SQLite MB (mean) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in soak.minutes():
        lines.append(
            f"| {row['minute']} | {row['rps']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | {row['rss']:.1f} "
            f"| {row['sqlite']:.1f} |"
        )
    if soak.first_error:
        lines += ["", f"First error: `{soak.first_error[:200]}`"]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    samples = path.parent / ".data" / f"soak-{tier}-{backend}.json"
    if samples.parent.exists():
        samples.write_text(json.dumps({"samples": soak.samples, "minutes": soak.minutes()}))
    return text
