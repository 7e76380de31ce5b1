"""Province switch-over state (分批次切换) and per-county volunteer number sequences."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import enum_field, ref_field, time_field
from models.enums import ProvinceStatus


class ProvinceRollout(SQLModel, table=True):
    """A province's status in the trial; provinces without a row take the configured default."""

    __tablename__ = "province_rollout"

    province_code: str = Field(primary_key=True, max_length=12, foreign_key="region.code")
    status: ProvinceStatus = enum_field(ProvinceStatus.LIVE)
    updated_at: datetime = time_field(default_now=True)
    updated_by_id: int | None = ref_field("account.id", nullable=True, index=False)


class VolunteerNumberSequence(SQLModel, table=True):
    """The last volunteer number handed out per county (6-digit prefix), advanced atomically."""

    __tablename__ = "volunteer_number_sequence"

    county: str = Field(primary_key=True, max_length=6)
    last: int = 0
