"""SQLModel tables, one module per aggregate. Importing this package registers every table."""

from models.account import Account, RefreshToken, RoleGrant
from models.audit import AuditEvent
from models.change_log import ChangeLog
from models.feedback import TrialFeedback
from models.idempotency import IdempotencyKey
from models.project import Attendance, Post, Project, SignInPoint, SignUp
from models.record import Certificate, CorrectionRequest, ServiceRecord
from models.region import Region
from models.rollout import ProvinceRollout, VolunteerNumberSequence
from models.rollups import ROLLUP_TABLES  # the rollup_* tables of statistics
from models.supervision import SpotCheck, SpotCheckItem, SupervisionAlert
from models.sync_state import SyncNode, SyncState
from models.team import Team, TeamMembership
from models.volunteer import Volunteer

__all__ = [
    "ROLLUP_TABLES",
    "Account",
    "Attendance",
    "AuditEvent",
    "Certificate",
    "ChangeLog",
    "CorrectionRequest",
    "IdempotencyKey",
    "Post",
    "Project",
    "ProvinceRollout",
    "RefreshToken",
    "Region",
    "RoleGrant",
    "ServiceRecord",
    "SignInPoint",
    "SignUp",
    "SpotCheck",
    "SpotCheckItem",
    "SupervisionAlert",
    "SyncNode",
    "SyncState",
    "Team",
    "TeamMembership",
    "TrialFeedback",
    "Volunteer",
    "VolunteerNumberSequence",
]
