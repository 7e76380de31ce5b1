"""Server-side cost of the mobile operation against the floor, in-process: no client, no socket, no noise.

bench/run.py measures what a client sees over loopback HTTP, with client, server and database sharing two
cores. This tool calls the same ASGI app (bench/server_variant.py: the service plus ``POST /floor/mobile``)
directly, one request at a time after a warm-up, and reports per request, for GraphQL and for the floor:

* ``--measure instructions`` (default): CPU instructions of the server process counted by valgrind's
  callgrind, collection switched on only around the measured requests. Repeatable to a fraction of a percent
  whatever else the machine does, so a change's effect shows without a quiet machine (bench/PERF-NOTES.md,
  fifth pass). Needs valgrind; the process runs ~5x slower under it.
* ``--measure cpu``: CPU milliseconds (``time.process_time``) — noisy on a shared machine.
* ``--measure calls``: Python function calls (cProfile), and the 40 costliest functions.

The database must hold the demo accounts (``cli.py setup``, or a generated tier in bench/.data). The viewer is
the demo volunteer's account with the volunteer who has the most service records among the first thousand,
as bench/run.py mints its mobile tokens. Environment: ``DATABASE_URL`` and ``ZHIYUAN_VAR_DIR`` as for the
server (``--tier M --backend postgres`` sets them for a generated tier).

    .venv/bin/python bench/inprocess.py --tier M --backend postgres
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/demo .venv/bin/python bench/inprocess.py
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

Message = dict[str, Any]
TARGETS = {"graphql": "/graphql", "floor": "/floor/mobile"}
_CHILD = "ZHIYUAN_INPROCESS_CHILD"


def tier_environment(tier: str, backend: str) -> dict[str, str]:
    """DATABASE_URL and ZHIYUAN_VAR_DIR of a tier bench/run.py generated."""
    from run import VAR, db_url

    return {"DATABASE_URL": db_url(tier, backend), "ZHIYUAN_VAR_DIR": str(VAR)}


async def _request(app: Any, path: str, body: bytes, token: str) -> bytes:
    """One POST through the ASGI app; the response body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()  # no disconnect while the response is written
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    chunks: list[bytes] = []
    status: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != [200]:
        raise SystemExit(f"{path} answered {status}: {b''.join(chunks)[:500]!r}")
    return b"".join(chunks)


async def _requests(app: Any, path: str, body: bytes, token: str, count: int, concurrency: int) -> None:
    """``count`` requests, ``concurrency`` at a time (that many clients, each sending its share in turn)."""
    clients = max(1, concurrency)

    async def client(share: int) -> None:
        for _ in range(share):
            await _request(app, path, body, token)

    await asyncio.gather(*(client(count // clients + (i < count % clients)) for i in range(clients)))


async def _viewer_token() -> str:
    """A token as bench/run.py mints them: the demo volunteer's account, the volunteer with most records."""
    from sqlalchemy import text

    from auth.tokens import TokenService
    from models.db import make_engine
    from settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            account = (
                await conn.execute(text("SELECT id FROM account WHERE username = 'demo_volunteer'"))
            ).scalar_one()
            vid, name = (
                await conn.execute(
                    text(
                        "SELECT v.id, v.name FROM volunteer v JOIN (SELECT volunteer_id, count(*) AS n"
                        " FROM service_record WHERE volunteer_id <= 1000 GROUP BY volunteer_id) r"
                        " ON r.volunteer_id = v.id ORDER BY r.n DESC, v.id LIMIT 1"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    tokens = TokenService(settings.jwt_keys, settings.jwt_active_kid, settings.access_token_ttl)
    return tokens.issue_access(str(account), {"name": name, "vid": vid, "grants": []})


async def _serve(run: Callable[[Any, str], Awaitable[None]]) -> None:
    """Start the app (lifespan), hand it to ``run`` with a token, stop it."""
    import server_variant

    app = server_variant.build()
    token = await _viewer_token()
    startup: asyncio.Queue[Message] = asyncio.Queue()
    replies: asyncio.Queue[Message] = asyncio.Queue()
    await startup.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, startup.get, replies.put)
    )
    started = await replies.get()
    if started["type"] != "lifespan.startup.complete":
        raise SystemExit(f"the app did not start: {started}")
    try:
        await run(app, token)
    finally:
        await startup.put({"type": "lifespan.shutdown"})
        await replies.get()
        await lifespan


def _callgrind(switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


async def _measure(app: Any, token: str, args: argparse.Namespace) -> None:
    from run import MOBILE

    body = orjson.dumps({"query": args.query or MOBILE})
    answers = {name: orjson.loads(await _request(app, path, body, token)) for name, path in TARGETS.items()}
    if args.query:
        if "errors" in answers["graphql"]:
            raise SystemExit(f"the query failed: {answers['graphql']['errors']}")
    elif answers["graphql"]["data"] != answers["floor"]["data"]:  # GraphQL adds extensions.cost
        raise SystemExit(
            f"the floor answers other data than GraphQL:\n{answers['graphql']}\n{answers['floor']}"
        )
    for name in args.targets.split(","):
        path = TARGETS[name]

        async def requests(count: int, path: str = path) -> None:
            await _requests(app, path, body, token, count, args.concurrency)

        await requests(args.warmup)
        if args.measure == "instructions":
            _callgrind("on")
            await requests(args.requests)
            _callgrind("off")
            subprocess.run(
                ["callgrind_control", "-d", name, str(os.getpid())], check=True, capture_output=True
            )
        elif args.measure == "cpu":
            started = time.process_time()
            await requests(args.requests)
            print(f"{name}\tcpu_ms\t{(time.process_time() - started) * 1000 / args.requests:.3f}", flush=True)
        else:
            profile = cProfile.Profile(time.thread_time)  # the event loop's thread: not the driver's
            profile.enable()
            await requests(args.requests)
            profile.disable()
            stats = pstats.Stats(profile)
            print(f"{name}\tcalls\t{stats.total_calls / args.requests:.0f}", flush=True)  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(40)
            if args.calls_out:
                stats.dump_stats(
                    f"{args.calls_out}.{name}.prof"
                )  # for pstats / snakeviz: callers, cumulative


def _instructions(argv: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Run this tool again under callgrind; instructions per request of each target, from its dumps."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("--measure instructions needs valgrind (apt install valgrind), or use --measure cpu")
    out = Path(args.workdir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("callgrind.out*"):
        old.unlink()
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}/callgrind.out",
        sys.executable,
        __file__,
        *argv,
    ]
    subprocess.run(command, check=True, env={**os.environ, _CHILD: "1"}, stderr=subprocess.DEVNULL)
    found: dict[str, float] = {}
    for dump in out.glob("callgrind.out*"):
        text = dump.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: dump (\S+)", text, re.M)
        total = re.search(r"^totals: (\d+)", text, re.M)
        if trigger and total and trigger.group(1) in TARGETS:
            found[trigger.group(1)] = int(total.group(1)) / args.requests
    return found


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measure", choices=["instructions", "cpu", "calls"], default="instructions")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=100, help="requests before measuring")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight at once (as bench/run.py's clients): what concurrency adds per request",
    )
    parser.add_argument("--targets", default="graphql,floor")
    parser.add_argument("--tier", help="use a tier bench/run.py generated (with --backend)")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--query", help="another GraphQL document instead of the mobile operation (to split its cost)"
    )
    parser.add_argument("--calls-out", help="with --measure calls: write PREFIX.<target>.prof (cProfile)")
    parser.add_argument(
        "--workdir", default="/tmp/zhiyuan-inprocess", help="where callgrind writes its dumps"
    )
    args = parser.parse_args(argv)
    if args.tier:
        os.environ.update(tier_environment(args.tier, args.backend))
    from run import base_env  # the benchmark server's settings: no rate limit, no background workers

    for key, value in base_env(os.environ.get("DATABASE_URL", "")).items():
        if key.startswith(("ZHIYUAN_", "LOG_LEVEL")) and key != "ZHIYUAN_VAR_DIR":
            os.environ[key] = value
    if args.measure == "instructions" and not os.environ.get(_CHILD):
        found = _instructions(argv, args)
        for name in args.targets.split(","):
            print(f"{name:8s} {found.get(name, float('nan')) / 1e6:8.3f} M instructions per request")
        if "graphql" in found and "floor" in found:
            print(f"floor / graphql: {found['floor'] / found['graphql']:.1%}")
        return
    loop_factory = None
    if os.environ.get("INPROCESS_UVLOOP") == "1":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_serve(lambda app, token: _measure(app, token, args)))


if __name__ == "__main__":
    main()
