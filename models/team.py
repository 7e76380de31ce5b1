"""Volunteer teams (志愿服务队伍) and their memberships."""

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import enum_field, id_field, ref_field, region_field, time_field
from models.enums import (
    LegalVerification,
    MemberRole,
    MembershipStatus,
    TeamStatus,
    TeamType,
    TeamVerification,
)


class Team(SQLModel, table=True):
    id: int | None = id_field()
    name: str = Field(max_length=200, index=True)
    team_type: TeamType = enum_field(TeamType.LEGAL_PERSON)
    credit_code: str | None = Field(default=None, max_length=18, unique=True)
    """Unified social credit code (统一社会信用代码) of a registered legal person."""
    contact_team_id: int | None = ref_field("team.id", nullable=True)
    """The contact team (联络团体) an unregistered group is attached to."""
    region_code: str = region_field()
    verification_status: TeamVerification = enum_field(TeamVerification.PENDING_REVIEW, index=True)
    legal_verification: LegalVerification = enum_field(LegalVerification.NOT_REQUIRED)
    review_reason: str = Field(default="", max_length=500)
    reviewed_at: datetime | None = time_field(nullable=True)
    registered_by_id: int | None = ref_field("account.id", nullable=True, index=False)
    legacy_id: str | None = Field(default=None, max_length=64, unique=True)
    status: TeamStatus = enum_field(TeamStatus.ACTIVE, index=True)
    person_in_charge: str = Field(default="", max_length=100)
    contact_name: str = Field(default="", max_length=100)
    contact_phone_enc: bytes | None = Field(default=None, sa_type=LargeBinary)
    description: str = Field(default="", sa_type=Text)
    created_at: datetime = time_field(default_now=True, index=True)


class TeamMembership(SQLModel, table=True):
    __tablename__ = "team_membership"
    __table_args__ = (
        UniqueConstraint("team_id", "volunteer_id"),
        Index("ix_team_membership_status_region_volunteer", "status", "region_code", "volunteer_id"),
    )
    """The index: the members of a region's teams, from the index alone (region admins' scope, migration 0011)."""

    id: int | None = id_field()
    team_id: int = ref_field("team.id")
    volunteer_id: int = ref_field("volunteer.id")
    region_code: str = region_field()
    """The team's region, copied so jurisdiction is one range condition."""
    status: MembershipStatus = enum_field(MembershipStatus.APPLYING, index=True)
    role: MemberRole = enum_field(MemberRole.MEMBER)
    applied_at: datetime = time_field(default_now=True)
    joined_at: datetime | None = time_field(nullable=True)
    left_at: datetime | None = time_field(nullable=True)
    decision_reason: str = Field(default="", max_length=500)
