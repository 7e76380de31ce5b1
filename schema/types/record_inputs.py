"""The service record list's filter and ordering inputs, in a module of their own: ``Volunteer`` imports them
directly, where an annotation through ``strawberry.lazy`` (the import cycle with schema/types/record.py) is
resolved again on every call of the field (bench/PERF-NOTES.md)."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from schema.pagination import OrderDirection
from schema.types.enums import ProjectCategory, RecordProvenance, RecordStatus


@strawberry.input(description="Filter for service records (服务记录筛选)")
class ServiceRecordFilter:
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (记录区域)")
    status: RecordStatus | None = strawberry.field(default=None, description="记录状态")
    status_in: list[RecordStatus] | None = strawberry.field(default=None, description="Any of (记录状态之一)")
    category: ProjectCategory | None = strawberry.field(default=None, description="服务类别")
    provenance: RecordProvenance | None = strawberry.field(default=None, description="记录来源")
    service_date_after: date | None = strawberry.field(
        default=None, description="Served on or after (服务日期起)"
    )
    service_date_before: date | None = strawberry.field(
        default=None, description="Served before (服务日期止)"
    )


@strawberry.enum(description="Service record sort keys (服务记录排序字段)")
class ServiceRecordOrderField(Enum):
    SERVICE_DATE = "service_date"
    HOURS = "hours"
    CREATED_AT = "created_at"


@strawberry.input(description="Service record ordering (服务记录排序)")
class ServiceRecordOrder:
    field: ServiceRecordOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )
