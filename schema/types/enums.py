"""The tables' enumerations registered as GraphQL enums, each described with its Chinese term."""

import strawberry

from models import enums as e

Sex = strawberry.enum(e.Sex, description="Sex (性别)")
IdType = strawberry.enum(e.IdType, description="Type of identity document (证件类型)")
RealNameStatus = strawberry.enum(e.RealNameStatus, description="Real-name verification status (实名认证状态)")
InviteConsent = strawberry.enum(e.InviteConsent, description="How team invitations are answered (邀请设置)")
TeamType = strawberry.enum(e.TeamType, description="Kind of team (队伍类型)")
TeamVerification = strawberry.enum(e.TeamVerification, description="Team review status (队伍审核状态)")
TeamStatus = strawberry.enum(e.TeamStatus, description="Team lifecycle status (队伍状态)")
MembershipStatus = strawberry.enum(e.MembershipStatus, description="Membership status (成员状态)")
MemberRole = strawberry.enum(e.MemberRole, description="Role inside a team (成员角色)")
ProjectCategory = strawberry.enum(e.ProjectCategory, description="Service category (服务类别)")
SignUpScope = strawberry.enum(e.SignUpScope, description="Who may sign up (报名范围)")
ProjectStatus = strawberry.enum(e.ProjectStatus, description="Project lifecycle status (项目状态)")
SignUpStatus = strawberry.enum(e.SignUpStatus, description="Sign-up status (报名状态)")
AttendanceMethod = strawberry.enum(e.AttendanceMethod, description="Check-in method (签到方式)")
AttendanceStatus = strawberry.enum(e.AttendanceStatus, description="Attendance status (签到状态)")
RecordProvenance = strawberry.enum(e.RecordProvenance, description="Where a record came from (记录来源)")
RecordStatus = strawberry.enum(e.RecordStatus, description="Service record status (记录状态)")
CertificateStatus = strawberry.enum(e.CertificateStatus, description="Certificate status (证明状态)")
Role = strawberry.enum(e.Role, description="Administrative role (管理角色)")
