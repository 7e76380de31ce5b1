"""Writes the audit events gathered during execution (unmasked reads) in one INSERT per request."""

from __future__ import annotations

from sqlalchemy import insert
from strawberry.types import ExecutionContext

from models import AuditEvent
from models.columns import utcnow


async def write_audit(ctx: ExecutionContext) -> None:
    """The request's audit events, in one INSERT in a transaction of its own (after the operation ran)."""
    context = ctx.context
    events = getattr(context, "audit", None)
    if not events:
        return
    now = utcnow()
    rows = [
        {"at": now, "actor_id": context.viewer.account_id, "request_id": context.request_id, **event}
        for event in events
    ]
    async with context.sessions() as session, session.begin():
        await session.execute(insert(AuditEvent), rows)
    events.clear()
