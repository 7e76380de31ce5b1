"""Benchmark harness: generate a data tier, start real uvicorn servers, drive the canonical operations over
loopback HTTP at concurrency 1/8/32, and write bench/RESULTS.md and bench/results.png (see bench/README.md).

    python bench/run.py --tier S --backend sqlite --duration 5 [--skip-generate] [--ops mobile,public]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from load import load_client

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
VAR = DATA / "var"
PY = sys.executable
TIERS = {"S": 100_000, "M": 2_000_000, "XS": 2_000}
"""Volunteers per tier (the issue's S and M)."""
RECORDS_PER_VOLUNTEER = 10.0
"""Service records per volunteer on average: S has 1,000,000 records, M 20,000,000 (seed-demo
--records-per-volunteer; sign-ups alone give ~1.9, the rest is earlier service, see models/demo_data.py)."""
BULK_LOAD_REVISION = "0004"
"""The data is loaded at this revision and the later migrations run after it: 0005 (statistics rollups) and
0007 (change feed) install per-row triggers on the base tables and back-fill what exists with one INSERT ...
SELECT per table. Loading first and back-filling after gives the same database as loading under the triggers,
at a third of the cost (measured: 13,400 rows/s under their 87 triggers against 38,000 without, SQLite, 60,000
volunteers). Raise it when a later migration changes a base table the generator writes."""
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PORT = 8765
CONCURRENCY: tuple[int, ...] = (1, 8, 32)
SEED = 20210317
PASSWORD = "Demo@2026zy"

os.environ.setdefault("ZHIYUAN_VAR_DIR", str(VAR))
sys.path.insert(0, str(ROOT))


def db_url(tier: str, backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{DATA / f'{tier}-sqlite.db'}"
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/zhiyuan_bench_{tier.lower()}"


def base_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "ZHIYUAN_VAR_DIR": str(VAR),
        "ZHIYUAN_ENV": "development",
        "ZHIYUAN_RATE_LIMIT_ANONYMOUS": "100000000",
        "ZHIYUAN_RATE_LIMIT_SIGNED_IN": "100000000",
        "ZHIYUAN_ACCESS_TTL": "86400",
        "ZHIYUAN_VERIFICATION_INTERVAL": "0",
        "ZHIYUAN_ATTENDANCE_SWEEP_INTERVAL": "0",
        "ZHIYUAN_GRAPHIQL": "0",
        "LOG_LEVEL": "WARNING",
    }


# --- data -------------------------------------------------------------------------------------------------


def generate(tier: str, backend: str) -> dict[str, Any]:
    """Fresh database, migrations, regions, then ``seed-demo``: timed; returns counts and rows/s."""
    url = db_url(tier, backend)
    DATA.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DATA / f'{tier}-sqlite.db'}{suffix}").unlink(missing_ok=True)
    else:
        name = f"zhiyuan_bench_{tier.lower()}"
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True)
    env = base_env(url)
    migrate = [
        PY,
        "-c",
        "import sys; from models.migrate import upgrade; upgrade(sys.argv[1], sys.argv[2])",
        url,
    ]
    subprocess.run([*migrate, BULK_LOAD_REVISION], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([PY, "cli.py", "load-regions"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()  # stderr (the progress bar with rows/s) goes to the terminal or log
    out = subprocess.run(
        [PY, "cli.py", "seed-demo", "--volunteers", str(TIERS[tier]), "--seed", str(SEED),
         "--records-per-volunteer", str(RECORDS_PER_VOLUNTEER)],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    counts = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    print(f"generated {sum(counts.values()):,} rows in {seconds:.0f} s; migrating to head...", flush=True)
    started = time.perf_counter()
    subprocess.run([*migrate, "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    head_seconds = time.perf_counter() - started
    vacuum_seconds = 0.0
    if backend == "postgres":  # the state autovacuum brings a live database to: visibility map and hint bits
        started = time.perf_counter()  # set (index-only scans; no first reader rewriting 31 M rows' hints)
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        subprocess.run(["psql", plain, "-qc", "VACUUM (ANALYZE)"], check=True)
        vacuum_seconds = time.perf_counter() - started
    triggers = count_triggers(url)
    meta = {"tier": tier, "backend": backend, "seconds": round(seconds, 1), "counts": counts,
            "loaded_at_revision": BULK_LOAD_REVISION, "head_seconds": round(head_seconds, 1),
            "vacuum_seconds": round(vacuum_seconds, 1),
            "triggers": triggers, "generated_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}  # fmt: skip
    meta["rows"] = sum(counts.values())
    meta["rows_per_s"] = round(meta["rows"] / seconds)
    (DATA / f"{tier}-{backend}.json").write_text(json.dumps(meta, indent=1))
    print(f"generated {meta['rows']:,} rows in {seconds:.0f} s = {meta['rows_per_s']:,} rows/s; migrations "
          f"after the load (back-fills) {head_seconds:.0f} s; {triggers} triggers now", flush=True)  # fmt: skip
    return meta


def count_triggers(url: str) -> int:
    """Triggers in the database (a change feed's triggers slow bulk loads; reported with the rate)."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(str(DATA / Path(url.rsplit("/", 1)[1]))) as db:
            return int(db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0])
    name = url.rsplit("/", 1)[1]
    sql = "SELECT count(*) FROM information_schema.triggers"
    out = subprocess.run(["psql", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, "-tAc", sql],
                         check=True, capture_output=True, text=True)  # fmt: skip
    return int(out.stdout.strip() or 0)


# --- servers ----------------------------------------------------------------------------------------------


class Server:
    def __init__(self, url: str, variant: str, profile: str | None = None) -> None:
        env = base_env(url) | {"PORT": str(PORT), "HOST": "127.0.0.1"}
        if variant == "nobatch":
            env["BENCH_NO_BATCH"] = "1"
        command = [PY, str(BENCH / "server_variant.py")]
        if profile:
            command = [shutil.which("py-spy") or "py-spy", "record", "-o", profile, "-f", "speedscope",
                       "--rate", "200", "--", *command]  # fmt: skip
        self.profiled = bool(profile)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env)
        self.variant = variant
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        self.pid = self._server_pid()

    def _server_pid(self) -> int:
        if self.profiled:  # the python child of py-spy
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            return int(children[0])
        return self.proc.pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(2)  # SIGINT: uvicorn (and py-spy) shut down cleanly
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- operations -------------------------------------------------------------------------------------------

MOBILE = """query Mobile { viewer { volunteer {
  volunteerNumber name sex realNameStatus totalHours recordCount starLevel hoursToNextStar
  serviceRecords(first: 20, orderBy: [{field: SERVICE_DATE, direction: DESC}]) {
    nodes { serviceDate hours status content } } } } }"""
TEAM_ADMIN = """query TeamMembers($team: ID!, $year: Date!) { node(id: $team) { ... on Team { name
  members(first: 50, filter: {status: JOINED}) { totalCount nodes { role joinedAt volunteer {
    volunteerNumber name totalHours starLevel
    serviceRecords(first: 50, filter: {status: CONFIRMED, serviceDateAfter: $year}) { totalCount nodes { hours } }
  } } } } } }"""
COUNTY = """query Dashboard { volunteers(first: 10, orderBy: [{field: CREATED_AT, direction: DESC}]) {
    totalCount nodes { volunteerNumber name realNameStatus createdAt } }
  teams(first: 10) { totalCount nodes { name status verificationStatus } }
  projects(first: 10, filter: {status: PUBLISHED}) { totalCount nodes { name category startsAt endsAt } }
  serviceRecords(first: 10, filter: {status: PENDING}) { totalCount nodes { serviceDate hours } } }"""
PROVINCE = """query Teams($after: String) { teams(first: 50, after: $after) { totalCount pageInfo { endCursor }
  nodes { name region { name } projects(first: 10) { totalCount nodes { name status
    signUps(first: 1) { totalCount } } } } } }"""
PUBLIC = """query Search($region: String!, $category: ProjectCategory) {
  publicProjects(first: 20, filter: {region: $region, category: $category}) { totalCount nodes {
    name category startsAt endsAt teamName region { name } posts { name quota available } } } }"""
SIGN_UP = "mutation SignUp($post: ID!) { signUp(postId: $post) { id status } }"
CHECK_IN = """mutation CheckIn($signUp: ID!, $qr: String!, $key: String!) {
  checkIn(signUpId: $signUp, qrToken: $qr, idempotencyKey: $key) { id status method checkInAt } }"""
"""The mobile client's check-in: the volunteer scans the code the organiser shows at a sign-in point
(``attendanceQrToken(projectId, signInPointId)``, valid ``checkin_qr_ttl`` seconds) and sends it with a
retry key; with a QR token the server keeps no coordinates."""

LIST_LEVELS = {"mobile": 2, "team_admin": 4, "county": 4, "province": 4, "public": 3, "floor_mobile": 2,
               "signUp": None, "checkIn": None}  # fmt: skip
"""Levels that load rows, per operation: each list (connection) and each batched lookup below it (a to-one
such as ``region``, the viewer's volunteer) is one level, as in tests/test_sql_counts.py; a volunteer loaded
by key carries its hour totals (``starLevel``), joined. mobile: volunteer, records. team_admin: team,
members, volunteers, records. county: 4 sibling lists. province: teams, regions, projects, sign-ups. public: projects, posts,
regions. The target is statements per request <= levels whatever the row counts."""
DESCRIPTIONS = {
    "mobile": "volunteer: profile, star level, last 20 records",
    "team_admin": "team admin: 50 members with hours this year",
    "county": "county admin dashboard (4 counts + lists)",
    "province": "province admin: 50 teams, projects, sign-up counts",
    "public": "anonymous publicProjects by region+category",
    "signUp": "signUp(postId) mutation",
    "checkIn": "checkIn(signUpId, qrToken, idempotencyKey) mutation (scanned QR code)",
    "floor_mobile": "floor: bare Starlette + raw SQL + orjson (mobile)",
}


@dataclass
class Request:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Result:
    op: str
    variant: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)
    rss_mb: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    first_error: str = ""
    exhausted: bool = False

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def gql(query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Request:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return Request("/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(), headers)


class Fixtures:
    """Tokens and ids the operations need, looked up once per run (deterministically ordered)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def sql(self, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
        from sqlalchemy import create_engine, text

        sync_url = self.url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
        if "psycopg" in sync_url:
            sync_url = sync_url.replace("+psycopg", "")  # psycopg2 if present; else fall back below
        try:
            engine = create_engine(sync_url)
            with engine.connect() as conn:
                return list(conn.execute(text(statement), params or {}).all())
        except ModuleNotFoundError:
            return asyncio.run(self._async_sql(statement, params))

    async def _async_sql(self, statement: str, params: dict[str, Any] | None) -> list[Any]:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.url)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(statement), params or {})).all())
        finally:
            await engine.dispose()

    def now(self) -> Any:
        """The current instant as a bind value: SQLite stores UTC text, asyncpg wants a datetime."""
        now = datetime.now(UTC)
        return now if "postgresql" in self.url else now.replace(tzinfo=None).isoformat(" ")

    def prepare(self, base: str) -> None:
        from settings import load_settings

        settings = self.settings = load_settings()
        self.qr_codes: dict[tuple[int, int], tuple[str, float]] = {}
        import resolvers.checkin_presence  # noqa: F401  (the app's modules: seconds to import)
        from auth.tokens import TokenService

        self.tokens = TokenService(settings.jwt_keys, settings.jwt_active_kid, 86400)
        self.login = {name: self._login(base, name) for name in ("demo_volunteer", "demo_team", "demo_lixia",
                                                                 "demo_shandong")}  # fmt: skip
        me = httpx.post(f"{base}/graphql", json={"query": "{ viewer { accountId grants { teamId } } }"},
                        headers={"authorization": f"Bearer {self.login['demo_team']}"}).json()  # fmt: skip
        self.team_gid = next(g["teamId"] for g in me["data"]["viewer"]["grants"] if g["teamId"])
        self.account_id = int(self.sql("SELECT id FROM account WHERE username = 'demo_volunteer'")[0][0])
        # mobile: 200 volunteers with records, the same ones for GraphQL and the floor
        rows = self.sql("SELECT v.id, v.name FROM volunteer v WHERE EXISTS (SELECT 1 FROM service_record r"
                        " WHERE r.volunteer_id = v.id) ORDER BY v.id LIMIT 200")  # fmt: skip
        self.mobile_tokens = [self.volunteer_token(vid, name) for vid, name in rows]
        counties = self.sql("SELECT region_code, count(*) FROM project WHERE status = 'PUBLISHED'"
                            " GROUP BY region_code ORDER BY count(*) DESC LIMIT 8")  # fmt: skip
        self.public_regions = [c for c, _ in counties]
        self.categories = [None, "COMMUNITY", "EDUCATION", "HEALTH", "ENVIRONMENT"]
        self.sign_up_pairs = self._sign_up_pairs()
        self.check_in_pairs = self._check_in_pairs()
        print(
            f"fixtures: {len(self.sign_up_pairs)} sign-up pairs, {len(self.check_in_pairs)} check-in pairs",
            flush=True,
        )

    def _login(self, base: str, name: str) -> str:
        query = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }"
        body = {"query": query, "variables": {"u": name, "p": PASSWORD}}
        answer = httpx.post(f"{base}/graphql", json=body, timeout=30).json()
        return str(answer["data"]["login"]["accessToken"])

    def volunteer_token(self, vid: int, name: str) -> str:
        """Minted with the server's dev JWT key: generated volunteers have no accounts of their own, so the
        subject is demo_volunteer's account (audit rows need a real account) and ``vid`` varies."""
        return self.tokens.issue_access(str(self.account_id), {"name": name, "vid": vid, "grants": []})

    def _sign_up_pairs(self) -> list[tuple[str, int]]:
        """(token, post id): volunteers of a county with no sign-ups, each once, on open PUBLIC posts there."""
        now = self.now()
        posts = self.sql(
            "SELECT po.id, p.region_code FROM post po JOIN project p ON p.id = po.project_id"
            " WHERE p.status = 'PUBLISHED' AND p.signup_scope = 'PUBLIC' AND p.starts_at > :now"
            " AND coalesce(p.min_age, 0) <= 18 AND coalesce(p.max_age, 0) IN (0, 70) ORDER BY po.id",
            {"now": now},
        )
        by_county: dict[str, list[int]] = {}
        for post_id, region in posts:
            by_county.setdefault(region, []).append(post_id)
        pairs: list[tuple[str, int]] = []
        for region, post_ids in sorted(by_county.items(), key=lambda kv: -len(kv[1])):
            vols = self.sql(
                "SELECT v.id, v.name FROM volunteer v WHERE v.region_code = :r AND v.real_name_status = 'PASSED'"
                " AND v.birth_date BETWEEN '1960-01-01' AND '2000-01-01' AND NOT EXISTS (SELECT 1 FROM sign_up s WHERE"
                " s.volunteer_id = v.id) ORDER BY v.id LIMIT 4000",
                {"r": region},
            )
            for i, (vid, name) in enumerate(vols):
                pairs.append((self.volunteer_token(vid, name), post_ids[i % len(post_ids)]))
        random.Random(SEED).shuffle(pairs)
        return pairs

    def _check_in_pairs(self) -> list[tuple[str, int, int, int]]:
        """(token, sign-up id, project id, sign-in point id): ACCEPTED sign-ups of projects running now, each
        volunteer once (one open check-in per volunteer), at the project's first sign-in point."""
        now = self.now()
        rows = self.sql(
            "SELECT s.id, v.id, v.name, p.id, min(sp.id) FROM sign_up s"
            " JOIN project p ON p.id = s.project_id JOIN post po ON po.id = s.post_id"
            " JOIN volunteer v ON v.id = s.volunteer_id JOIN sign_in_point sp ON sp.project_id = p.id"
            " WHERE s.status = 'ACCEPTED' AND p.status = 'PUBLISHED'"
            " AND coalesce(po.starts_at, p.starts_at) < :now AND coalesce(po.ends_at, p.ends_at) > :now"
            " AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.volunteer_id = v.id AND a.status = 'OPEN')"
            " GROUP BY s.id, v.id, v.name, p.id ORDER BY s.id LIMIT 20000",
            {"now": now},
        )
        seen: set[int] = set()
        pairs = []
        for sid, vid, name, project, point in rows:
            if vid not in seen:
                seen.add(vid)
                pairs.append((self.volunteer_token(vid, name), int(sid), int(project), int(point)))
        return pairs

    def qr_code(self, project: int, point: int) -> str:
        """The code shown at the sign-in point: ``resolvers.checkin_presence.issue_qr`` (what
        ``attendanceQrToken`` returns) with the server's dev key; the organiser's screen shows a new one when
        half its lifetime is gone, and so does this cache."""
        from resolvers.checkin_presence import issue_qr  # imported in prepare, not while measuring

        minted = self.qr_codes.get((project, point))
        if minted is None or time.time() - minted[1] > self.settings.checkin_qr_ttl / 2:
            minted = (issue_qr(self.settings, project, point)[0], time.time())
            self.qr_codes[(project, point)] = minted
        return minted[0]


def gid(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def request_source(op: str, fx: Fixtures) -> Any:
    """A deterministic stream of requests for ``op`` (round-robin over its inputs)."""
    state = {"i": 0}

    def nxt() -> Request | None:
        i = state["i"]
        state["i"] = i + 1
        if op == "mobile":
            return gql(MOBILE, token=fx.mobile_tokens[i % len(fx.mobile_tokens)])
        if op == "floor_mobile":
            token = fx.mobile_tokens[i % len(fx.mobile_tokens)]
            return Request("/floor/mobile", b"{}", {"authorization": f"Bearer {token}"})
        if op == "team_admin":
            return gql(TEAM_ADMIN, {"team": fx.team_gid, "year": "2026-01-01"}, fx.login["demo_team"])
        if op == "county":
            return gql(COUNTY, token=fx.login["demo_lixia"])
        if op == "province":
            return gql(PROVINCE, token=fx.login["demo_shandong"])
        if op == "public":
            region = fx.public_regions[i % len(fx.public_regions)]
            category = fx.categories[(i // len(fx.public_regions)) % len(fx.categories)]
            return gql(PUBLIC, {"region": region, "category": category})
        if op == "signUp":
            if not fx.sign_up_pairs:
                return None
            token, post = fx.sign_up_pairs.pop()
            return gql(SIGN_UP, {"post": gid("Post", post)}, token)
        if op == "checkIn":
            if not fx.check_in_pairs:
                return None
            token, sid, project, point = fx.check_in_pairs.pop()
            variables = {
                "signUp": gid("SignUp", sid),
                "qr": fx.qr_code(project, point),
                "key": f"bench-{sid}",
            }
            return gql(CHECK_IN, variables, token)
        raise ValueError(op)

    return nxt


async def measure(base: str, server: Server, op: str, variant: str, fx: Fixtures, c: int, duration: float,
                  warmup: float) -> Result:  # fmt: skip
    result = Result(op, variant, c)
    nxt = request_source(op, fx)
    async with load_client(base, c) as post:
        measuring = False
        stop_at = 0.0

        last = [0.0]

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                req = nxt()
                if req is None:  # a mutation's inputs ran out: the rate is over the time actually used
                    result.exhausted = True
                    return
                t0 = time.perf_counter()
                answer = await post(req.path, req.body, req.headers)
                elapsed = time.perf_counter() - t0
                if not measuring:
                    continue
                result.requests += 1
                last[0] = time.perf_counter()
                result.latencies.append(elapsed)
                result.sql.append(answer.sql_count)
                if not answer.ok:
                    result.errors += 1
                    result.first_error = result.first_error or answer.body[:300].decode(errors="replace")

        async def sample_rss() -> None:
            while time.perf_counter() < stop_at:
                result.rss_mb = max(result.rss_mb, server.rss_mb())
                await asyncio.sleep(0.25)

        if warmup > 0 and op not in ("signUp", "checkIn"):
            stop_at = time.perf_counter() + warmup
            await asyncio.gather(*(worker() for _ in range(c)))
        measuring = True
        cpu0, client0 = server.cpu_seconds(), time.process_time()
        t0 = time.perf_counter()
        stop_at = t0 + duration
        await asyncio.gather(sample_rss(), *(worker() for _ in range(c)))
        result.seconds = (last[0] if result.exhausted else time.perf_counter()) - t0
        result.server_cpu = (server.cpu_seconds() - cpu0) / result.seconds
        result.client_cpu = (time.process_time() - client0) / result.seconds
    return result


def measure_pairs(url: str, base: str, args: argparse.Namespace) -> list[tuple[Result, Result]]:
    """The mobile target, paired: on one server process, GraphQL then the floor, ``--pairs`` times at each
    concurrency, alternating. The separate servers of the main plan are measured minutes apart, and on a
    shared machine the load of the neighbours changes in between; a pair is measured within seconds, on the
    same process, so each pair's ratio sees the same machine."""
    server = Server(url, "graphql")
    pairs: list[tuple[Result, Result]] = []
    try:
        fx = Fixtures(url)
        fx.prepare(base)
        check_floor(base, fx)
        for c in CONCURRENCY:
            for _ in range(args.pairs):
                g = asyncio.run(measure(base, server, "mobile", "graphql", fx, c, args.duration, args.warmup))
                f = asyncio.run(
                    measure(base, server, "floor_mobile", "floor", fx, c, args.duration, args.warmup)
                )
                pairs.append((g, f))
                print(f"pair mobile c={c:<3} graphql {g.rps:8.1f} req/s {cpu_ms(g):.2f} ms, floor {f.rps:8.1f} "
                      f"req/s {cpu_ms(f):.2f} ms: {g.rps / f.rps if f.rps else float('nan'):.0%}", flush=True)  # fmt: skip
    finally:
        server.stop()
    return pairs


# --- report -----------------------------------------------------------------------------------------------


def fmt_sql(r: Result) -> str:
    if not r.sql:
        return "-"
    lo, hi = min(r.sql), max(r.sql)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def cpu_ms(r: Result) -> float:
    """Server CPU per request (ms): the figure that survives other load on the machine, where req/s does not."""
    return r.server_cpu * 1000 / r.rps if r.rps else float("nan")


def write_report(
    results: list[Result],
    meta: dict[str, Any],
    args: argparse.Namespace,
    path: Path,
    pairs: list[tuple[Result, Result]] | None = None,
) -> str:
    lines = [
        f"### Tier {args.tier} on {args.backend} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{args.duration:g} s per measurement",
        "",
        f"Data: {meta.get('rows', '?'):,} rows generated in {meta.get('seconds', '?')} s "
        f"= **{meta.get('rows_per_s', '?'):,} rows/s**; "
        + ", ".join(f"{k} {v:,}" for k, v in meta.get("counts", {}).items() if v),
        "",
        "| operation | server | c | req/s | p50 ms | p95 ms | p95/p50 | SQL/req | levels | errors | RSS MB | srv CPU | srv ms/req | client CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = r.pct(0.95) / r.pct(0.5) if r.latencies else float("nan")
        levels = LIST_LEVELS.get(r.op)
        lines.append(
            f"| {r.op} | {r.variant} | {r.concurrency} | {r.rps:.1f} | {r.pct(0.5):.1f} | {r.pct(0.95):.1f} | "
            f"{ratio:.2f} | {fmt_sql(r)} | {levels if levels is not None else '-'} | {r.errors}/{r.requests} | "
            f"{r.rss_mb:.0f} | {r.server_cpu:.0%} | {cpu_ms(r):.2f} | {r.client_cpu:.0%} |"
        )
    if pairs:
        lines += ["", f"Mobile against the floor, paired: one server process, GraphQL then the floor, "
                      f"{args.pairs} pairs per concurrency, alternating ({args.duration:g} s each):", "",
                  "| c | pair | GraphQL req/s | floor req/s | GraphQL / floor | GraphQL ms CPU/req | "
                  "floor ms CPU/req | by CPU |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for i, (g, f) in enumerate(pairs):
            lines.append(f"| {g.concurrency} | {i % args.pairs + 1} | {g.rps:.1f} | {f.rps:.1f} | "
                         f"{g.rps / f.rps if f.rps else float('nan'):.0%} | {cpu_ms(g):.2f} | {cpu_ms(f):.2f} | "
                         f"{cpu_ms(f) / cpu_ms(g) if cpu_ms(g) else float('nan'):.0%} |")  # fmt: skip
    lines += ["", "Targets:", ""]
    by = {(r.op, r.variant, r.concurrency): r for r in results}
    for c in CONCURRENCY:
        paired = [(g, f) for g, f in pairs or [] if g.concurrency == c and f.rps]
        if paired:
            shares = sorted(g.rps / f.rps for g, f in paired)
            by_cpu = sorted(cpu_ms(f) / cpu_ms(g) for g, f in paired if cpu_ms(g))
            share = statistics.median(shares)
            lines.append(f"- mobile throughput vs floor at c={c}: {share:.0%}, median of {len(shares)} pairs "
                         f"({' / '.join(f'{x:.0%}' for x in shares)}) "
                         f"({'met' if share >= 0.5 else 'NOT met'}, target ≥ 50%); "
                         f"by server CPU per request {statistics.median(by_cpu):.0%}")  # fmt: skip
        g, f = by.get(("mobile", "graphql", c)), by.get(("floor_mobile", "floor", c))
        if g and f and f.rps:
            share = g.rps / f.rps
            by_cpu = cpu_ms(f) / cpu_ms(g) if cpu_ms(g) else float("nan")
            label = "separate servers, minutes apart" if paired else "target ≥ 50%"
            verdict = "" if paired else f"{'met' if share >= 0.5 else 'NOT met'}, "
            lines.append(f"- mobile throughput vs floor at c={c} ({label}): {share:.0%} "
                         f"({verdict}by server CPU per request {by_cpu:.0%}: {cpu_ms(g):.2f} vs "
                         f"{cpu_ms(f):.2f} ms)")  # fmt: skip
    for r in results:
        if r.variant == "graphql" and LIST_LEVELS.get(r.op) and r.concurrency == CONCURRENCY[0]:
            levels = LIST_LEVELS[r.op] or 0
            ok = bool(r.sql) and max(r.sql) <= levels
            lines.append(f"- {r.op}: {fmt_sql(r)} statements per request for {levels} levels "
                         f"({'met' if ok else 'NOT met'})")  # fmt: skip
    for r in results:
        if r.concurrency == 32 and r.latencies:
            ratio = r.pct(0.95) / r.pct(0.5)
            lines.append(f"- p95/p50 at c=32, {r.op} ({r.variant}): {ratio:.2f} "
                         f"({'met' if ratio < 3 else 'NOT met'}, target < 3)")  # fmt: skip
    errors = [r for r in results if r.errors]
    if errors:
        lines += ["", "First error per measurement with errors:", ""]
        lines += [f"- {r.op}/{r.variant}/c={r.concurrency}: `{r.first_error[:200]}`" for r in errors]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


BEGIN, END = "<!-- measured:begin (written by bench/run.py) -->", "<!-- measured:end -->"


def collect(results_md: Path) -> None:
    """Put every ``RESULTS.<tier>-<backend>.part.md`` (benchmarks, soaks) between the markers of RESULTS.md,
    so ``make bench`` leaves the tables there; the analysis around the markers is written by hand."""
    parts = sorted(results_md.parent.glob(f"{results_md.stem}.*.part.md"))
    body = "\n".join(part.read_text() for part in parts)
    text = results_md.read_text() if results_md.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    results_md.write_text(f"{head}{BEGIN}\n\n{body}\n{END}{tail}")


def chart(results: list[Result], path: Path, title: str) -> None:
    """Grouped bars: requests/s per operation and server at concurrency 1, 8, 32 (Pillow, no matplotlib)."""
    from PIL import Image, ImageDraw

    groups = []
    for r in results:
        key = (r.op, r.variant)
        if key not in groups:
            groups.append(key)
    by = {(r.op, r.variant, r.concurrency): r for r in results}
    top = max((r.rps for r in results), default=1) or 1
    bar, gap, left, height = 14, 22, 70, 360
    width = left + len(groups) * (3 * bar + gap) + 40
    img = Image.new("RGB", (max(width, 600), height + 190), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 8), title, fill="black")
    colours = {1: (120, 160, 220), 8: (60, 110, 190), 32: (20, 50, 120)}
    base_y = height + 30
    for tick in range(6):
        y = base_y - tick * height / 5
        d.line((left - 5, y, width - 20, y), fill=(225, 225, 225))
        d.text((5, y - 6), f"{top * tick / 5:.0f}", fill="black")
    for gi, (op, variant) in enumerate(groups):
        x = left + gi * (3 * bar + gap)
        for ci, c in enumerate(CONCURRENCY):
            hit = by.get((op, variant, c))
            if hit:
                h = hit.rps / top * height
                d.rectangle(
                    (x + ci * bar, base_y - h, x + ci * bar + bar - 2, base_y),
                    fill=colours.get(c, (150, 150, 150)),
                )
        label = f"{op}/{variant}"
        for li in range(0, len(label), 9):  # vertical-ish wrapped label
            d.text((x, base_y + 6 + li // 9 * 12), label[li : li + 9], fill="black")
    for ci, c in enumerate(CONCURRENCY):
        d.rectangle(
            (width - 150, 10 + ci * 14, width - 140, 20 + ci * 14), fill=colours.get(c, (150, 150, 150))
        )
        d.text((width - 135, 9 + ci * 14), f"concurrency {c}", fill="black")
    d.text((10, height + 170), "requests/s, loopback HTTP, server and client share 2 cores", fill="black")
    img.save(path)


def check_floor(base: str, fx: Fixtures, sample: int = 25) -> None:
    """The floor must answer what the GraphQL mobile query answers, or the comparison means nothing: the two
    responses for the same volunteers, compared as JSON before any measurement."""
    for token in fx.mobile_tokens[:sample]:
        headers = {"authorization": f"Bearer {token}"}
        shipped = httpx.post(f"{base}/graphql", json={"query": MOBILE}, headers=headers).json()
        floor = httpx.post(f"{base}/floor/mobile", content=b"{}", headers=headers).json()
        if shipped.get("data") != floor.get("data") or "errors" in shipped:
            raise SystemExit(f"the floor's answer differs from the GraphQL answer:\n{shipped}\n{floor}")
    print(f"floor: the same JSON as GraphQL for {min(sample, len(fx.mobile_tokens))} volunteers", flush=True)


# --- main -------------------------------------------------------------------------------------------------

PLAN = [  # (variant, ops)
    ("graphql", ["mobile", "team_admin", "county", "province", "public", "signUp", "checkIn"]),
    ("floor", ["floor_mobile"]),
    ("nobatch", ["mobile", "team_admin", "county", "province", "public"]),
]


def main(argv: list[str] | None = None) -> None:
    global CONCURRENCY
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", default="S", choices=sorted(TIERS))
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per read measurement")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the database in bench/.data/")
    parser.add_argument("--generate-only", action="store_true",
                        help="generate the tier, write bench/.data/<tier>-<backend>.ready, and stop")  # fmt: skip
    parser.add_argument("--ops", default="", help="comma-separated subset of operations")
    parser.add_argument("--variants", default="graphql,floor,nobatch")
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--profile", default="", help="py-spy the graphql server under this op (no report)")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--soak", type=float, default=0.0,
                        help="soak mode: SECONDS of mixed read load on the graphql server, RSS every 5 s")  # fmt: skip
    parser.add_argument("--soak-concurrency", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=3,
                        help="paired GraphQL/floor mobile measurements per concurrency on one server (0: none)")  # fmt: skip
    parser.add_argument("--soak-warmup", type=float, default=120.0,
                        help="seconds of the same load before the soak's clock starts (caches filling)")  # fmt: skip
    args = parser.parse_args(argv)
    CONCURRENCY = tuple(int(c) for c in args.concurrency.split(","))
    url = db_url(args.tier, args.backend)
    meta_path = DATA / f"{args.tier}-{args.backend}.json"
    if args.skip_generate:
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    else:
        print(
            f"generating tier {args.tier} ({TIERS[args.tier]:,} volunteers) on {args.backend}...", flush=True
        )
        (DATA / f"{args.tier}-{args.backend}.ready").unlink(missing_ok=True)
        meta = generate(args.tier, args.backend)
        (DATA / f"{args.tier}-{args.backend}.ready").write_text(json.dumps(meta) + "\n")
    print(f"data: {meta}", flush=True)
    if args.generate_only:
        return
    base = f"http://127.0.0.1:{PORT}"
    wanted = set(filter(None, args.ops.split(",")))
    variants = args.variants.split(",")
    results: list[Result] = []
    if args.soak:
        from soak import READ_OPS, run_soak, write_soak_report

        ops = [op for op in (args.ops.split(",") if args.ops else READ_OPS) if op]
        if unknown := [op for op in ops if op not in READ_OPS]:
            raise SystemExit(f"soak runs read operations only ({', '.join(READ_OPS)}), not {unknown}")
        server = Server(url, "graphql")
        try:
            fx = Fixtures(url)
            fx.prepare(base)
            sources = {op: request_source(op, fx) for op in ops}
            soak = asyncio.run(
                run_soak(
                    base, server, sources, ops, args.soak, args.soak_concurrency, warmup=args.soak_warmup
                )
            )
        finally:
            server.stop()
        path = Path(args.output).with_suffix(f".soak-{args.tier}-{args.backend}.part.md")
        print(write_soak_report(soak, meta, args.tier, args.backend, path))
        collect(Path(args.output))
        return
    if args.profile:
        out = str(DATA / f"profile-{args.profile}.speedscope.json")
        server = Server(url, "graphql", profile=out)
        try:
            fx = Fixtures(url)
            fx.prepare(base)
            r = asyncio.run(measure(base, server, args.profile, "graphql", fx, 8, args.duration, args.warmup))
            print(f"profiled {args.profile}: {r.rps:.1f} req/s, p50 {r.pct(0.5):.1f} ms -> {out}")
        finally:
            server.stop()
        return
    for variant, ops in PLAN:
        if variant not in variants:
            continue
        ops = [op for op in ops if not wanted or op in wanted or op.removeprefix("floor_") in wanted]
        if not ops:
            continue
        server = Server(url, variant)
        try:
            fx = Fixtures(url)
            fx.prepare(base)
            if variant == "floor":
                check_floor(base, fx)
            for op in ops:
                for c in CONCURRENCY:
                    r = asyncio.run(measure(base, server, op, variant, fx, c, args.duration, args.warmup))
                    results.append(r)
                    print(f"{op:12} {variant:8} c={c:<3} {r.rps:8.1f} req/s p50 {r.pct(0.5):7.1f} ms "
                          f"p95 {r.pct(0.95):7.1f} ms sql {fmt_sql(r):>5} err {r.errors}/{r.requests} "
                          f"rss {r.rss_mb:.0f} MB srv {r.server_cpu:.0%} cli {r.client_cpu:.0%}", flush=True)  # fmt: skip
        finally:
            server.stop()
    pairs: list[tuple[Result, Result]] = []
    if args.pairs and {"graphql", "floor"} <= set(variants) and (not wanted or "mobile" in wanted):
        pairs = measure_pairs(url, base, args)
    output = Path(args.output)
    report = write_report(
        results, meta, args, output.with_suffix(f".{args.tier}-{args.backend}.part.md"), pairs
    )
    chart(results, output.parent / f"results-{args.tier}-{args.backend}.png",
          f"Zhiyuan tier {args.tier} on {args.backend}: requests/s")  # fmt: skip
    collect(output)
    print(report)


if __name__ == "__main__":
    main()
