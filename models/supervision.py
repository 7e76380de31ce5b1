"""Supervision (监督管理): alerts raised by the rules, and spot checks (抽查) of service records.

Alerts and spot checks belong to a region — the subject's (the recording or issuing team's region) for an
alert, the checked jurisdiction for a spot check — and are read through ``scope()`` like every other row: the
admins whose jurisdiction contains that region see them (resolvers/supervision.py, docs/supervision.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import BigId, enum_field, id_field, ref_field, region_field, time_field


class AlertRule(StrEnum):
    DAILY_HOURS_EXCEEDED = "DAILY_HOURS_EXCEEDED"
    OVERLAPPING_RECORDS = "OVERLAPPING_RECORDS"
    MISSING_ATTENDANCE = "MISSING_ATTENDANCE"
    HOURS_SPIKE = "HOURS_SPIKE"
    CERTIFICATE_HOURS_EXCEEDED = "CERTIFICATE_HOURS_EXCEEDED"
    TEAM_INACTIVE = "TEAM_INACTIVE"


class AlertSeverity(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class AlertSubject(StrEnum):
    RECORD = "RECORD"
    TEAM = "TEAM"
    VOLUNTEER = "VOLUNTEER"
    CERTIFICATE = "CERTIFICATE"


class AlertStatus(StrEnum):
    OPEN = "OPEN"
    HANDLED = "HANDLED"


class SpotCheckStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"


class SpotCheckFinding(StrEnum):
    OK = "OK"
    HOURS_MISMATCH = "HOURS_MISMATCH"
    NO_EVIDENCE = "NO_EVIDENCE"
    FALSE_RECORD = "FALSE_RECORD"
    OTHER_PROBLEM = "OTHER_PROBLEM"


class SupervisionAlert(SQLModel, table=True):
    """One rule's finding about one subject in one period; reruns find the same row (the unique key)."""

    __tablename__ = "supervision_alert"
    __table_args__ = (
        UniqueConstraint(
            "rule", "subject_kind", "subject_id", "period_key", name="uq_supervision_alert_subject"
        ),
    )

    id: int | None = id_field()
    rule: AlertRule = enum_field(index=True, length=32)
    severity: AlertSeverity = enum_field(AlertSeverity.MEDIUM)
    region_code: str = region_field()
    """The subject's region: the recording team's for a record, the team's, the issuing team's."""
    subject_kind: AlertSubject = enum_field()
    subject_id: int = Field(sa_type=BigId)
    period_key: str = Field(default="", max_length=32)
    """The period the finding is about (an ISO week for spikes, the last active day for inactivity); empty when
    the finding is a fact of the subject itself."""
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """The numbers that triggered the rule."""
    status: AlertStatus = enum_field(AlertStatus.OPEN, index=True)
    handled_by_id: int | None = ref_field("account.id", nullable=True, index=False)
    handled_at: datetime | None = time_field(nullable=True)
    note: str | None = Field(default=None, max_length=500)
    first_seen: datetime = time_field(default_now=True, index=True)
    last_seen: datetime = time_field(default_now=True)


class SpotCheck(SQLModel, table=True):
    """A sample of CONFIRMED records in a jurisdiction, checked one by one and then published (抽查)."""

    __tablename__ = "spot_check"

    id: int | None = id_field()
    region_code: str = region_field()
    created_by_id: int = ref_field("account.id")
    sample_size: int
    """Records asked for; fewer are drawn when the jurisdiction holds fewer."""
    seed: int = Field(sa_type=BigId)
    status: SpotCheckStatus = enum_field(SpotCheckStatus.DRAFT, index=True)
    created_at: datetime = time_field(default_now=True)
    published_at: datetime | None = time_field(nullable=True)
    summary: dict[str, int] | None = Field(default=None, sa_type=JSON)
    """Items per finding, frozen at publication."""


class SpotCheckItem(SQLModel, table=True):
    __tablename__ = "spot_check_item"
    __table_args__ = (UniqueConstraint("spot_check_id", "record_id", name="uq_spot_check_item_record"),)

    id: int | None = id_field()
    spot_check_id: int = ref_field("spot_check.id")
    record_id: int = ref_field("service_record.id", index=False)
    region_code: str = region_field()
    """The record's region, copied so scoping is a condition on the row itself."""
    draw: int
    """Position in the draw (0-based): the sample's order."""
    finding: SpotCheckFinding | None = enum_field(None)
    note: str = Field(default="", max_length=500)
    checked_by_id: int | None = ref_field("account.id", nullable=True, index=False)
    checked_at: datetime | None = time_field(nullable=True)
