"""The test database: a fresh SQLite file by default, or a fresh PostgreSQL database when
ZHIYUAN_TEST_DATABASE_URL points at a server (``make test-pg``). Unreachable PostgreSQL skips with a reason,
except under CI (CI=true), where it fails."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest

PG_ENV = "ZHIYUAN_TEST_DATABASE_URL"


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def create_database(tmp: Path) -> tuple[str, str | None]:
    """(SQLAlchemy URL, name of a PostgreSQL database to drop afterwards or None)."""
    server = os.environ.get(PG_ENV)
    if not server:
        return f"sqlite+aiosqlite:///{tmp / 'test.db'}", None
    try:
        conn = await asyncpg.connect(_plain(server), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL at {server} does not answer: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"CI requires PostgreSQL: {reason}", pytrace=False)
        pytest.skip(reason)
    name = f"zhiyuan_test_{uuid.uuid4().hex[:12]}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}", name


async def drop_database(name: str) -> None:
    server = os.environ[PG_ENV]
    conn = await asyncpg.connect(_plain(server), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def is_postgres() -> bool:
    return bool(os.environ.get(PG_ENV))
