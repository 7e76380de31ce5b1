"""Audit events (审计日志)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import AuditEvent as AuditEventRow


@strawberry.input(description="Filter for audit events (审计筛选)")
class AuditEventFilter:
    action: str | None = strawberry.field(default=None, description="Action (操作)")
    action_in: list[str] | None = strawberry.field(
        default=None, description="Any of these actions, e.g. REVEAL_ID_NUMBER, GRANT_REGION_ADMIN (操作之一)"
    )
    subject_type: str | None = strawberry.field(
        default=None, description="Type of the subject, e.g. Volunteer, ServiceRecord (对象类型)"
    )
    actor_id: int | None = strawberry.field(default=None, description="Acting account's database id (操作人)")
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (区域)")
    at_after: datetime | None = strawberry.field(default=None, description="From (起)")
    at_before: datetime | None = strawberry.field(default=None, description="Before (止)")


@strawberry.type(description="Audit event: sensitive reads, grants, corrections, exports (审计事件)")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    at: datetime = strawberry.field(description="When (时间)")
    action: str = strawberry.field(description="Action (操作)")
    subject_type: str = strawberry.field(description="Type of the subject (对象类型)")
    subject_id: int | None = strawberry.field(description="Subject's database id (对象 ID)")
    region_code: str | None = strawberry.field(description="Subject's region (区域)")
    actor_id: int | None = strawberry.field(description="Acting account's database id (操作人)")
    request_id: str = strawberry.field(description="Request id (请求 ID)")
    detail: JSON = strawberry.field(description="Details (详情)")
    row: strawberry.Private[AuditEventRow]
