"""Writes the audit events gathered during execution (unmasked reads) in one INSERT per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import insert
from strawberry.extensions import SchemaExtension

from models import AuditEvent
from models.columns import utcnow


class AuditWriter(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
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
