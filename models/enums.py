"""Enumerations shared by the tables and the schema. Stored as their string values."""

from enum import StrEnum


class RegionLevel(StrEnum):
    PROVINCE = "PROVINCE"
    PREFECTURE = "PREFECTURE"
    COUNTY = "COUNTY"
    TOWNSHIP = "TOWNSHIP"


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class Role(StrEnum):
    MINISTRY_ADMIN = "MINISTRY_ADMIN"
    REGION_ADMIN = "REGION_ADMIN"
    TEAM_ADMIN = "TEAM_ADMIN"
    PEER = "PEER"
    """The service account of a peer instance: reads the change feed (docs/deploy.md), nothing else."""


class IdType(StrEnum):
    RESIDENT_ID = "RESIDENT_ID"
    HK_MACAO_PERMIT = "HK_MACAO_PERMIT"
    TAIWAN_PERMIT = "TAIWAN_PERMIT"
    PASSPORT = "PASSPORT"
    FOREIGNER_PERMANENT_ID = "FOREIGNER_PERMANENT_ID"


class Sex(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


class RealNameStatus(StrEnum):
    NOT_VERIFIED = "NOT_VERIFIED"
    PENDING = "PENDING"
    PASSED = "PASSED"
    FAILED = "FAILED"
    UNDER_REVIEW = "UNDER_REVIEW"


class InviteConsent(StrEnum):
    ASK = "ASK"
    AUTO_ACCEPT = "AUTO_ACCEPT"
    AUTO_REJECT = "AUTO_REJECT"


class ProvinceStatus(StrEnum):
    """Where a province stands in the batched switch-over to system 2.0 (分批次切换)."""

    LEGACY = "LEGACY"
    TRIAL = "TRIAL"
    LIVE = "LIVE"


class LegalVerification(StrEnum):
    """The check of a team's credit code against the legal-person database (社会组织法人库)."""

    NOT_REQUIRED = "NOT_REQUIRED"
    PENDING = "PENDING"
    PASSED = "PASSED"
    FAILED = "FAILED"


class TeamType(StrEnum):
    LEGAL_PERSON = "LEGAL_PERSON"
    UNREGISTERED_GROUP = "UNREGISTERED_GROUP"


class TeamVerification(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class TeamStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DISSOLVED = "DISSOLVED"


class MembershipStatus(StrEnum):
    APPLYING = "APPLYING"
    INVITED = "INVITED"
    JOINED = "JOINED"
    REJECTED = "REJECTED"
    LEFT = "LEFT"


class MemberRole(StrEnum):
    MEMBER = "MEMBER"
    ADMIN = "ADMIN"


class ProjectCategory(StrEnum):
    COMMUNITY = "COMMUNITY"
    POVERTY_RELIEF = "POVERTY_RELIEF"
    EDUCATION = "EDUCATION"
    HEALTH = "HEALTH"
    ENVIRONMENT = "ENVIRONMENT"
    EMERGENCY = "EMERGENCY"
    CULTURE = "CULTURE"
    SPORTS = "SPORTS"
    LEGAL_AID = "LEGAL_AID"
    SCIENCE = "SCIENCE"
    ELDERLY_DISABLED = "ELDERLY_DISABLED"
    LARGE_EVENT = "LARGE_EVENT"
    OTHER = "OTHER"


class SignUpScope(StrEnum):
    PUBLIC = "PUBLIC"
    TEAM_MEMBERS = "TEAM_MEMBERS"
    REGION = "REGION"


class ProjectStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class SignUpStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    WAITLISTED = "WAITLISTED"
    INVITED = "INVITED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class AttendanceMethod(StrEnum):
    QR = "QR"
    GPS = "GPS"
    MANUAL = "MANUAL"


class AttendanceStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    FORCE_CLOSED = "FORCE_CLOSED"


class RecordProvenance(StrEnum):
    ATTENDANCE = "ATTENDANCE"
    MANUAL = "MANUAL"
    BULK_IMPORT = "BULK_IMPORT"
    LEGACY_MIGRATION = "LEGACY_MIGRATION"


class RecordStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    DECLINED = "DECLINED"
    VOIDED = "VOIDED"


class CorrectionStatus(StrEnum):
    """A volunteer's request to correct a record (申诉) and the team's answer."""

    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class CertificateStatus(StrEnum):
    REQUESTED = "REQUESTED"
    ISSUED = "ISSUED"
    REJECTED = "REJECTED"
    REVOKED = "REVOKED"
