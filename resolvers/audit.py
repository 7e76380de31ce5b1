"""Audit events for writes: who did what to which row, in which region, in which request."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from auth.viewer import Viewer
from models import AuditEvent


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | datetime | date) else value


def audit_event(
    viewer: Viewer,
    action: str,
    row: object,
    request_id: str,
    detail: dict[str, Any] | None = None,
    subject: str | None = None,
) -> AuditEvent:
    """An event about ``row``: its type (or ``subject``), id and region; ``detail`` made JSON-safe."""
    return AuditEvent(
        actor_id=viewer.account_id,
        action=action,
        subject_type=subject or type(row).__name__,
        subject_id=getattr(row, "id", None),
        region_code=getattr(row, "region_code", None),
        request_id=request_id,
        detail={key: _plain(value) for key, value in (detail or {}).items()},
    )
