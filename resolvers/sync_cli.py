"""The deployment-mode commands of cli.py: ``create-peer`` and ``sync`` (docs/deploy.md)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path

import httpx
from sqlalchemy.exc import DBAPIError

from models.db import claim_node, make_engine, make_write_session_factory
from resolvers.peers import PeerAccountError, create_peer_account
from resolvers.sync import Peer, SyncError, parse_interval, sync_every, sync_once
from schema.errors import AppError
from settings import Settings

COMMANDS = ("create-peer", "sync")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    peer = commands.add_parser("create-peer", help="create the service account a peer instance syncs with")
    peer.add_argument("--username", required=True)
    peer.add_argument("--password-file", type=Path, help="default: ZHIYUAN_PEER_PASSWORD or a prompt")
    peer.add_argument("--province", help="on the ministry's instance: the province instance's 2-digit code")
    sync = commands.add_parser("sync", help="pull a peer instance's change feed and apply it")
    sync.add_argument("--peer", required=True, help="the peer's base URL, e.g. https://sd.example.gov.cn")
    sync.add_argument("--token", help="an access token of the peer's service account")
    sync.add_argument(
        "--credentials", help="USER:PASSWORD of the service account (or ZHIYUAN_PEER_CREDENTIALS)"
    )
    when = sync.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one run (the default)")
    when.add_argument("--every", help="run on a schedule, e.g. 5m, 90s, 1h")
    sync.add_argument("--page-size", type=int, default=500)
    sync.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _peer(settings: Settings, args: argparse.Namespace) -> Peer:
    credentials = args.credentials or settings.peer_credentials
    if not args.token and ":" not in credentials:
        raise SystemExit("sync: give --token or --credentials USER:PASSWORD")
    username, _, password = credentials.partition(":")
    return Peer(args.peer.rstrip("/"), args.token or "", username, password)


async def _sync(settings: Settings, args: argparse.Namespace) -> None:
    engine = make_engine(settings.database_url)
    try:
        await claim_node(engine, settings.node_id, settings.deployment_mode)
        options = {"page_size": args.page_size, "progress": not args.no_progress}
        if args.every:
            await sync_every(
                engine, settings.node_id, _peer(settings, args), parse_interval(args.every), **options
            )
        else:
            print((await sync_once(engine, settings.node_id, _peer(settings, args), **options)).line())
    finally:
        await engine.dispose()


async def _create_peer(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_file:
        password = args.password_file.read_text().strip()
    else:
        password = settings.peer_password or getpass.getpass("peer password: ")
    engine = make_engine(settings.database_url)
    try:
        await claim_node(engine, settings.node_id, settings.deployment_mode)
        writes = make_write_session_factory(engine)
        return await create_peer_account(settings, writes, args.username, password, args.province)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> None:
    try:
        if args.command == "create-peer":
            print(f"peer account {args.username}: id {asyncio.run(_create_peer(settings, args))}")
        elif args.command == "sync":
            asyncio.run(_sync(settings, args))
    except (PeerAccountError, SyncError, ValueError, httpx.HTTPError, DBAPIError) as error:
        raise SystemExit(f"{args.command}: {error}") from None
    except AppError as error:
        raise SystemExit(f"{args.command}: {error.key}") from None
    except KeyboardInterrupt:
        raise SystemExit(
            f"{args.command}: interrupted; the next run resumes from the last applied page"
        ) from None


async def claim(settings: Settings) -> None:
    """Record the database's node right after migrating (the server does the same at start-up)."""
    engine = make_engine(settings.database_url)
    try:
        await claim_node(engine, settings.node_id, settings.deployment_mode)
    finally:
        await engine.dispose()
