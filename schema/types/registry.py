"""Global IDs: which table and which column stand behind each Node type."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlmodel import SQLModel

import models as m
from schema.errors import AppError
from schema.types.account import Account
from schema.types.audit import AuditEvent
from schema.types.project import Attendance, Post, Project, SignInPoint, SignUp
from schema.types.record import Certificate, CorrectionRequest, ServiceRecord
from schema.types.region import Region
from schema.types.team import Team, TeamMembership
from schema.types.volunteer import Volunteer


@dataclass(frozen=True)
class NodeKind:
    cls: type[Any]
    model: type[SQLModel]
    key: str = "id"
    key_type: type = int


NODE_KINDS: dict[str, NodeKind] = {
    "Region": NodeKind(Region, m.Region, "code", str),
    "Volunteer": NodeKind(Volunteer, m.Volunteer),
    "Team": NodeKind(Team, m.Team),
    "TeamMembership": NodeKind(TeamMembership, m.TeamMembership),
    "Project": NodeKind(Project, m.Project),
    "Post": NodeKind(Post, m.Post),
    "SignInPoint": NodeKind(SignInPoint, m.SignInPoint),
    "SignUp": NodeKind(SignUp, m.SignUp),
    "Attendance": NodeKind(Attendance, m.Attendance),
    "ServiceRecord": NodeKind(ServiceRecord, m.ServiceRecord),
    "Certificate": NodeKind(Certificate, m.Certificate),
    "AuditEvent": NodeKind(AuditEvent, m.AuditEvent),
    "CorrectionRequest": NodeKind(CorrectionRequest, m.CorrectionRequest),
}
"""Account is a Node for its global ID but is not fetched through ``node``: accounts are not browsable."""
_ = Account


def global_id(type_name: str, key: Any) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def parse_global_id(value: str, expected: str | None = None, field: str = "id") -> tuple[NodeKind, Any]:
    """``(kind, key)`` for a global ID, or BAD_USER_INPUT with reason BAD_ID."""
    try:
        type_name, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        kind = NODE_KINDS[type_name]
        key = kind.key_type(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError, KeyError):
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field=field) from None
    if (expected is not None and type_name != expected) or raw == "":
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field=field)
    return kind, key
