"""Command line: ``python cli.py migrate | load-regions | seed-demo [--volunteers N] | setup``, and
``import-legacy FOLDER [--report PATH] [--batch-size N]`` (docs/legacy-import.md), and the attendance upkeep
``close-stale | purge-locations`` (also run periodically by the server), and ``supervise [--region CODE]``
(the supervision rules, docs/supervision.md).

``setup`` is what ``make run`` does before serving: migrate, load the region tree, and load the demo data set
when the database holds no volunteers yet.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from auth.jurisdiction import REGION_CODE
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from resolvers import sync_cli
from settings import Settings, get_settings

if TYPE_CHECKING:
    from resolvers.legacy_import import ImportSummary

log = logging.getLogger("zhiyuan.cli")


async def load_regions(settings: Settings) -> int:
    from models.region_seed import load_regions as load

    engine = make_engine(settings.database_url)
    try:
        return await load(make_session_factory(engine))
    finally:
        await engine.dispose()


async def seed_demo(
    settings: Settings,
    volunteers: int,
    seed: int,
    only_if_empty: bool,
    records_per_volunteer: float | None = None,
) -> dict[str, int]:
    from auth.passwords import Passwords
    from models import Volunteer
    from models.demo_data import generate_demo
    from models.pii import PiiCipher

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        if only_if_empty:
            async with sessions() as session:
                if (await session.execute(select(func.count()).select_from(Volunteer))).scalar_one():
                    return {}
        passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_cost)
        return await generate_demo(
            sessions,
            PiiCipher(settings.pii_key),
            passwords.hash,
            volunteers=volunteers,
            seed=seed,
            records_per_volunteer=records_per_volunteer,
        )
    finally:
        await engine.dispose()


async def verify_pending(settings: Settings) -> dict[str, dict[str, int]]:
    from models.pii import PiiCipher
    from resolvers.verifiers.worker import build_verifiers, close_verifiers, run_once

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    identity, legal = build_verifiers(settings, sessions)
    try:
        return await run_once(sessions, PiiCipher(settings.pii_key), identity, legal)
    finally:
        await close_verifiers([identity, legal])
        await engine.dispose()


async def import_legacy_folder(
    settings: Settings, folder: Path, report: Path | None, batch_size: int
) -> ImportSummary:
    """``import-legacy``: the old system's export (docs/legacy-import.md) into a migrated database."""
    from models.pii import PiiCipher
    from resolvers.legacy_import import import_legacy

    engine = make_engine(settings.database_url)
    try:
        return await import_legacy(
            make_session_factory(engine),
            PiiCipher(settings.pii_key),
            folder,
            report or settings.var_dir / "legacy-import-report.jsonl",
            batch_size=batch_size,
        )
    finally:
        await engine.dispose()


async def attendance_upkeep(settings: Settings, job: str) -> int:
    """``close-stale`` / ``purge-locations``: one run of the attendance upkeep (resolvers/attendance.py)."""
    from models.db import make_write_session_factory
    from resolvers.attendance import Jobs, close_stale_attendance, purge_locations

    engine = make_engine(settings.database_url)
    try:
        jobs = Jobs(settings, make_write_session_factory(engine))
        return await (close_stale_attendance(jobs) if job == "close-stale" else purge_locations(jobs))
    finally:
        await engine.dispose()


async def supervise(settings: Settings, region: str | None) -> list[str]:
    """``supervise``: one pass of the supervision rules, national or over one region (docs/supervision.md)."""
    from auth.viewer import Grant, Viewer
    from models.db import make_write_session_factory
    from models.enums import Role
    from resolvers.supervision import SYSTEM, Jobs, run_rules

    engine = make_engine(settings.database_url)
    try:
        jobs = Jobs(settings, make_session_factory(engine), make_write_session_factory(engine))
        area = (Grant(Role.REGION_ADMIN, region),)
        viewer = SYSTEM if region is None else Viewer(0, "system", grants=area)
        counts = await run_rules(jobs, viewer)
    finally:
        await engine.dispose()
    return [f"{c.rule.value}: found {c.found}, new {c.new}, open {c.already_open}" for c in counts]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cli.py", description="Zhiyuan administration")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("load-regions", help="load the national region tree (idempotent)")
    demo = commands.add_parser("seed-demo", help="load the deterministic demo data set")
    demo.add_argument("--volunteers", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=20210317)
    demo.add_argument(
        "--records-per-volunteer",
        type=float,
        help="service records per volunteer on average (benchmark tiers: 10); default ~1.9, sign-ups only",
    )
    commands.add_parser("setup", help="migrate, load regions, and load demo data into an empty database")
    commands.add_parser("verify-pending", help="run one pass of the identity and legal-person checks")
    commands.add_parser("close-stale", help="force-close stale check-ins (stale_checkin_hours)")
    commands.add_parser("purge-locations", help="erase check-in coordinates past location_retention_days")
    supervise_cmd = commands.add_parser(
        "supervise", help="run the supervision rules once (cron, systemd timer)"
    )
    supervise_cmd.add_argument(
        "--region", help="a 12-digit region code: only its subtree (default: national)"
    )
    legacy = commands.add_parser(
        "import-legacy", help="import the old system's export (docs/legacy-import.md)"
    )
    legacy.add_argument("folder", type=Path, help="folder with volunteers/teams/memberships/records.jsonl")
    legacy.add_argument(
        "--report", type=Path, help="rejected rows (JSONL); default var/legacy-import-report.jsonl"
    )
    legacy.add_argument("--batch-size", type=int, default=5000, help="rows per transaction (default 5000)")
    commands.add_parser("rebuild-rollups", help="rebuild the statistics rollup tables (one transaction each)")
    sync_cli.add_commands(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)

    if args.command in ("migrate", "setup"):
        upgrade(settings.database_url)
        asyncio.run(sync_cli.claim(settings))
        print("migrations applied")
    if args.command in ("load-regions", "setup"):
        print(f"regions inserted: {asyncio.run(load_regions(settings))}")
    if args.command == "seed-demo":
        seeding = seed_demo(settings, args.volunteers, args.seed, False, args.records_per_volunteer)
        print(asyncio.run(seeding))
    if args.command == "verify-pending":
        print(asyncio.run(verify_pending(settings)))
    if args.command == "supervise":
        if args.region is not None and not REGION_CODE.match(args.region):
            raise SystemExit("supervise: --region takes a 12-digit region code")
        print("\n".join(asyncio.run(supervise(settings, args.region))))
    if args.command in ("close-stale", "purge-locations"):
        print(f"{args.command}: {asyncio.run(attendance_upkeep(settings, args.command))} attendance rows")
    if args.command == "import-legacy":
        try:
            summary = asyncio.run(import_legacy_folder(settings, args.folder, args.report, args.batch_size))
        except (FileNotFoundError, RuntimeError, ValueError) as error:  # no folder or regions; batch size
            raise SystemExit(f"import-legacy: {error}") from None
        print("\n".join(summary.lines()))
        if not summary.ok:
            raise SystemExit(1)
    if args.command == "rebuild-rollups":
        from models.rollups import rebuild_database

        asyncio.run(rebuild_database(settings.database_url))
    if args.command in sync_cli.COMMANDS:
        sync_cli.run(settings, args)
    if args.command == "setup":
        counts = asyncio.run(seed_demo(settings, 2000, 20210317, only_if_empty=True))
        print(f"demo data: {counts}" if counts else "demo data already present")


if __name__ == "__main__":
    main()
