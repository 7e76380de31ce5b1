"""A short-lived Core connection for one loader batch, from the request's read session factory.

Loaders only read, one or two statements per batch: a plain connection (checked out of the engine's pool,
rolled back and returned when the block ends) does what an ORM ``Session`` did without the session, its
transaction bookkeeping and its identity map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.db import SessionFactory


def engine_of(sessions: SessionFactory) -> AsyncEngine:
    bind: Any = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


def connect(sessions: SessionFactory) -> AsyncConnection:
    """``async with connect(sessions) as conn:`` — a pooled connection for one batch."""
    return engine_of(sessions).connect()
