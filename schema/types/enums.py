"""The tables' enumerations registered as GraphQL enums, each described with its Chinese term."""

import strawberry

from models.enums import (
    AttendanceMethod,
    AttendanceStatus,
    CertificateStatus,
    CorrectionStatus,
    IdType,
    InviteConsent,
    LegalVerification,
    MemberRole,
    MembershipStatus,
    ProjectCategory,
    ProjectStatus,
    ProvinceStatus,
    RealNameStatus,
    RecordProvenance,
    RecordStatus,
    Role,
    Sex,
    SignUpScope,
    SignUpStatus,
    TeamStatus,
    TeamType,
    TeamVerification,
)

strawberry.enum(Sex, description="Sex (性别)")
strawberry.enum(IdType, description="Type of identity document (证件类型)")
strawberry.enum(RealNameStatus, description="Real-name verification status (实名认证状态)")
strawberry.enum(CorrectionStatus, description="Correction request status (更正申请状态)")
strawberry.enum(LegalVerification, description="Legal-person database check (法人库核验状态)")
strawberry.enum(ProvinceStatus, description="Province switch-over status (省份切换状态)")
strawberry.enum(InviteConsent, description="How team invitations are answered (邀请设置)")
strawberry.enum(TeamType, description="Kind of team (队伍类型)")
strawberry.enum(TeamVerification, description="Team review status (队伍审核状态)")
strawberry.enum(TeamStatus, description="Team lifecycle status (队伍状态)")
strawberry.enum(MembershipStatus, description="Membership status (成员状态)")
strawberry.enum(MemberRole, description="Role inside a team (成员角色)")
strawberry.enum(ProjectCategory, description="Service category (服务类别)")
strawberry.enum(SignUpScope, description="Who may sign up (报名范围)")
strawberry.enum(ProjectStatus, description="Project lifecycle status (项目状态)")
strawberry.enum(SignUpStatus, description="Sign-up status (报名状态)")
strawberry.enum(AttendanceMethod, description="Check-in method (签到方式)")
strawberry.enum(AttendanceStatus, description="Attendance status (签到状态)")
strawberry.enum(RecordProvenance, description="Where a record came from (记录来源)")
strawberry.enum(RecordStatus, description="Service record status (记录状态)")
strawberry.enum(CertificateStatus, description="Certificate status (证明状态)")
strawberry.enum(Role, description="Administrative role (管理角色)")

__all__ = [
    "AttendanceMethod",
    "AttendanceStatus",
    "CertificateStatus",
    "CorrectionStatus",
    "IdType",
    "InviteConsent",
    "LegalVerification",
    "MemberRole",
    "MembershipStatus",
    "ProjectCategory",
    "ProjectStatus",
    "ProvinceStatus",
    "RealNameStatus",
    "RecordProvenance",
    "RecordStatus",
    "Role",
    "Sex",
    "SignUpScope",
    "SignUpStatus",
    "TeamStatus",
    "TeamType",
    "TeamVerification",
]
