"""Volunteers (志愿者). ID numbers and phones are stored encrypted, with a keyed hash for lookups."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary
from sqlmodel import Field, SQLModel

from models.columns import BigId, enum_field, id_field, region_field, time_field
from models.enums import IdType, InviteConsent, RealNameStatus, Sex


class Volunteer(SQLModel, table=True):
    __table_args__ = (Index("ix_volunteer_region_id", "region_code", "id"),)
    """A region admin's volunteers by the ids of a region range, from the index alone (migration 0011)."""

    id: int | None = id_field()
    account_id: int | None = Field(default=None, foreign_key="account.id", unique=True, sa_type=BigId)
    volunteer_number: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)
    id_type: IdType = enum_field(IdType.RESIDENT_ID)
    id_number_enc: bytes = Field(sa_type=LargeBinary)
    id_number_hash: str = Field(max_length=64, unique=True)
    birth_date: date | None = Field(default=None, index=True)
    sex: Sex = enum_field(Sex.UNKNOWN)
    phone_enc: bytes | None = Field(default=None, sa_type=LargeBinary)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    real_name_status: RealNameStatus = enum_field(RealNameStatus.PENDING, index=True)
    verification_attempts: int = 0
    verification_next_at: datetime | None = time_field(nullable=True, index=True)
    """When a PENDING identity check is next tried against the population database."""
    verification_note: str = Field(default="", max_length=200)
    """The verifier's or reviewer's reason for the current real-name status."""
    region_code: str = region_field()
    """Service region (服务区域): the jurisdiction the volunteer is registered under."""
    residence_region_code: str | None = region_field(nullable=True)
    skills: list[Any] = Field(default_factory=list, sa_type=JSON)
    availability: str = Field(default="", max_length=200)
    invite_consent: InviteConsent = enum_field(InviteConsent.ASK)
    guardian_name: str | None = Field(default=None, max_length=100)
    guardian_phone_enc: bytes | None = Field(default=None, sa_type=LargeBinary)
    guardian_relation: str | None = Field(default=None, max_length=20)
    guardian_consent_at: datetime | None = time_field(nullable=True)
    legacy_id: str | None = Field(default=None, max_length=64, unique=True)
    """Identifier in the old system, for idempotent migration."""
    no_show_count: int = 0
    created_at: datetime = time_field(default_now=True, index=True)
    updated_at: datetime = time_field(default_now=True)
