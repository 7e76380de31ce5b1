"""Export benchmark: N service records (default 1,000,000) streamed as CSV and XLSX through the real app.

    .venv/bin/python bench/exports.py [--rows 1000000] [--formats CSV,XLSX] [--tracemalloc]

A fresh SQLite database in a temporary folder (or DATABASE_URL), migrated, with the region tree and a small
demo set; the rows are inserted with Core inserts in one region. As the ministry demo account it calls
``createExport`` and then GET /exports/<token> straight through the ASGI app, discarding the body as it
arrives, and reports rows/s, bytes, the process's peak RSS sampled during the stream (VmHWM reset is not
portable, so VmRSS is sampled every 256 chunks) and, with --tracemalloc (slow), the Python heap peak.
Results: bench/RESULTS-exports.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ZHIYUAN_ENV", "test")

REGION = "630102000000"
CREATE = "mutation($i: CreateExportInput!) { createExport(input: $i) { url rowCount } }"


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def fill(app: Any, rows: int) -> None:
    from sqlalchemy import insert, select

    import models as m

    async with app.state.services.sessions() as session:
        volunteer = (await session.execute(select(m.Volunteer.id).limit(1))).scalar_one()
        team = (await session.execute(select(m.Team.id).limit(1))).scalar_one()
    base = {
        "volunteer_id": volunteer,
        "team_id": team,
        "region_code": REGION,
        "category": "COMMUNITY",
        "hours": Decimal("2.50"),
        "content": "社区志愿服务：环境整治与邻里探访",
        "provenance": "IMPORT",
        "status": "CONFIRMED",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    for start in range(0, rows, 50_000):
        batch = [
            {**base, "service_date": date(2026, 1 + i % 12, 1 + i % 28)}
            for i in range(start, min(rows, start + 50_000))
        ]
        async with app.state.services.writes() as session, session.begin():
            await session.execute(insert(m.ServiceRecord), batch)


async def stream(app: Any, path: str, trace: bool) -> dict[str, float]:
    received, chunks, peak_rss = 0, 0, rss_mib()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }

    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the response listens for a disconnect: none comes until it is done
            await done.wait()
            return {"type": "http.disconnect"}
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal received, chunks, peak_rss
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body":
            received += len(message.get("body", b""))
            chunks += 1
            if chunks % 256 == 0:
                peak_rss = max(peak_rss, rss_mib())

    before = rss_mib()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    await app(scope, receive, send)
    done.set()
    seconds = time.perf_counter() - started
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    if trace:
        tracemalloc.stop()
    return {
        "seconds": seconds,
        "bytes": received,
        "rss_before": before,
        "rss_peak": max(peak_rss, rss_mib()),
        "heap_peak": heap,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="CSV,XLSX")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/bench.db")
        os.environ["ZHIYUAN_VAR_DIR"] = f"{tmp}/var"
        from cli import load_regions, seed_demo
        from server import create_app
        from settings import load_settings

        settings = load_settings()
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await load_regions(settings)
            await seed_demo(settings, volunteers=50, seed=7, only_if_empty=True)
            started = time.perf_counter()
            await fill(app, args.rows)
            print(f"inserted {args.rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                login = await client.post(
                    "/graphql",
                    json={
                        "query": 'mutation { login(input: {username: "demo_ministry", password: "Demo@2026zy"}) { accessToken } }'
                    },
                )
                token = login.json()["data"]["login"]["accessToken"]
                for fmt in args.formats.split(","):
                    body = {
                        "query": CREATE,
                        "variables": {"i": {"source": {"serviceRecords": {"region": REGION}}, "format": fmt}},
                    }
                    started = time.perf_counter()
                    created = (
                        await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                    ).json()
                    counted = time.perf_counter() - started
                    ticket = created["data"]["createExport"]
                    result = await stream(
                        app, ticket["url"][ticket["url"].index("/exports/") :], args.tracemalloc
                    )
                    print(
                        f"{fmt}: {ticket['rowCount']:,} rows, createExport (count) {counted:.2f} s, stream "
                        f"{result['seconds']:.1f} s = {ticket['rowCount'] / result['seconds']:,.0f} rows/s, "
                        f"{result['bytes'] / 2**20:.1f} MiB, RSS {result['rss_before']:.0f} -> peak {result['rss_peak']:.0f} MiB, "
                        f"tracemalloc peak {result['heap_peak']:.1f} MiB",
                        flush=True,
                    )


if __name__ == "__main__":
    asyncio.run(main())
