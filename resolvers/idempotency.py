"""Idempotency keys for mutations a mobile client may retry (sign-up, check-in, records).

``once()`` runs the mutation's work in a write transaction and stores the key with the work's result in the
same transaction, so either both are written or neither. A retry with the same key and arguments returns the
stored result without running the work again; the same key with other arguments is IDEMPOTENCY_KEY_REUSED.
Keys are per account, at most 64 characters; they are kept for ``IDEMPOTENCY_TTL`` and then purged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.viewer import Viewer
from models import IdempotencyKey
from models.columns import utcnow
from schema.context import Services
from schema.errors import AppError

IDEMPOTENCY_TTL = timedelta(days=2)
Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


def request_hash(operation: str, arguments: dict[str, Any]) -> str:
    payload = orjson.dumps({"op": operation, "args": arguments}, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(payload).hexdigest()


async def _stored(services: Services, account_id: int, key: str, digest: str) -> dict[str, Any] | None:
    async with services.sessions() as session:
        row = await session.get(IdempotencyKey, (account_id, key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise AppError("BAD_USER_INPUT", key="IDEMPOTENCY_KEY_REUSED", field="idempotencyKey")
    return dict(row.response)


async def once(
    services: Services,
    viewer: Viewer,
    key: str | None,
    operation: str,
    arguments: dict[str, Any],
    work: Work,
) -> dict[str, Any]:
    """Run ``work`` once per (account, key); without a key it simply runs in a write transaction."""
    if key is not None and not 1 <= len(key) <= 64:
        raise AppError("BAD_USER_INPUT", field="idempotencyKey")
    account_id = viewer.account_id
    digest = request_hash(operation, arguments)
    if key is not None and account_id is not None:
        previous = await _stored(services, account_id, key, digest)
        if previous is not None:
            return previous
    try:
        async with services.writes() as session, session.begin():
            result = await work(session)
            if key is not None and account_id is not None:
                session.add(
                    IdempotencyKey(
                        account_id=account_id,
                        key=key,
                        operation=operation,
                        request_hash=digest,
                        response=result,
                    )
                )
    except IntegrityError:
        if key is None or account_id is None:
            raise
        previous = await _stored(services, account_id, key, digest)  # a concurrent retry committed first
        if previous is None:
            raise
        return previous
    return result


async def purge_expired(services: Services) -> int:
    async with services.writes() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < utcnow() - IDEMPOTENCY_TTL)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
