"""The audit trail: sensitive reads, grants, corrections, exports. Append-only."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.columns import BigId, id_field, ref_field, time_field


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = id_field()
    at: datetime = time_field(default_now=True, index=True)
    actor_id: int | None = ref_field("account.id", nullable=True)
    action: str = Field(max_length=40, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: int | None = Field(default=None, sa_type=BigId)
    region_code: str | None = Field(default=None, max_length=12, index=True)
    request_id: str = Field(default="", max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
