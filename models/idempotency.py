"""Idempotency keys: a mobile client's retry of a mutation returns the first answer instead of writing twice."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.columns import BigId, time_field


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    account_id: int = Field(primary_key=True, foreign_key="account.id", sa_type=BigId)
    key: str = Field(primary_key=True, max_length=64)
    operation: str = Field(max_length=60)
    request_hash: str = Field(max_length=64)
    """SHA-256 of the operation's arguments: the same key with other arguments is refused."""
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = time_field(default_now=True, index=True)
