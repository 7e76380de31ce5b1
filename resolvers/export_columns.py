"""What each scoped list exports: its table, its columns (API field names) and their headers (导出列).

A column is named as the field of the list's GraphQL type (``volunteerNumber``, ``phone``), so a client asks for
the same names it queries. Columns read only the list's own table — one statement per batch, no joins — and
references (``teamId``) are global IDs, as the API gives them. Sensitive columns carry their kind: they are
masked as ``@sensitive`` masks them (schema/permissions.py ``mask``) unless the export asks to reveal and the
viewer may reveal in the row's region (resolvers/exports.py).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import SQLModel

import models as m
from models.pii import PiiCipher
from schema.directives import SensitiveKind


def _gid(type_name: str, key: Any) -> str | None:
    return None if key is None else base64.b64encode(f"{type_name}:{key}".encode()).decode()


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@dataclass(frozen=True)
class Column:
    name: str
    """The GraphQL field name (camelCase)."""
    zh: str
    en: str
    source: str = ""
    """The table column read; the snake_case form of ``name`` when not given."""
    ref: str | None = None
    """Written as a global ID of this type."""
    sensitive: SensitiveKind | None = None
    encrypted: str | None = None
    """The associated data the value is encrypted under (models/pii.py)."""
    default: bool = True
    """Part of the export when no columns are named."""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", _snake(self.name))

    @property
    def column(self) -> str:
        return self.source

    def header(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh

    def reader(self, index: int, cipher: PiiCipher) -> Callable[[Any], Any]:
        """Reads this column's value from a result row whose ``index``-th item is the table column."""
        if self.encrypted:
            associated = self.encrypted
            return lambda row: None if row[index] is None else cipher.decrypt(row[index], associated)
        if self.ref:
            ref = self.ref
            return lambda row: _gid(ref, row[index])
        return lambda row: row[index]


def _nobody(row: Any) -> int | None:
    return None


@dataclass(frozen=True)
class ListSpec:
    """One exportable root list (keyed in LISTS by its Query field, whose permissions it shares)."""

    zh: str
    en: str
    model: type[SQLModel]
    columns: tuple[Column, ...]
    owner: Callable[[Any], int | None] = _nobody
    """The volunteer the row's personal data belongs to (their own data is never masked for them)."""

    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    def sources(self, chosen: tuple[Column, ...]) -> list[str]:
        """Table columns to select: the chosen ones plus what masking needs (region, owner)."""
        names = {c.column for c in chosen}
        table: Any = self.model.__table__  # type: ignore[attr-defined]
        for extra in ("region_code", "volunteer_id", "id"):
            if extra in table.columns:
                names.add(extra)
        names.update(pk.name for pk in table.primary_key.columns)
        return sorted(names)


def _id(type_name: str) -> Column:
    return Column("id", "ID", "ID", ref=type_name)


_CREATED = Column("createdAt", "创建时间", "Created at")
_REGION = Column("regionCode", "区划代码", "Region code")
_TEAM = Column("teamId", "队伍 ID", "Team ID", ref="Team")
_VOLUNTEER = Column("volunteerId", "志愿者 ID", "Volunteer ID", ref="Volunteer")
_PROJECT = Column("projectId", "项目 ID", "Project ID", ref="Project")


def _volunteer_owner(row: Any) -> int | None:
    return getattr(row, "volunteer_id", None)


LISTS: dict[str, ListSpec] = {
    "volunteers": ListSpec(
        "志愿者",
        "volunteers",
        m.Volunteer,
        (
            _id("Volunteer"),
            Column("volunteerNumber", "志愿者编号", "Volunteer number"),
            Column("name", "姓名", "Name"),
            Column("sex", "性别", "Sex"),
            Column("idType", "证件类型", "ID type"),
            Column(
                "idNumber",
                "证件号码",
                "ID number",
                source="id_number_enc",
                sensitive=SensitiveKind.ID_NUMBER,
                encrypted="volunteer.id_number",
            ),
            Column(
                "phone",
                "手机号码",
                "Mobile phone",
                source="phone_enc",
                sensitive=SensitiveKind.PHONE,
                encrypted="volunteer.phone",
            ),
            Column(
                "birthDate", "出生日期", "Date of birth", sensitive=SensitiveKind.BIRTH_DATE, default=False
            ),
            Column("realNameStatus", "实名认证状态", "Real-name status"),
            _REGION,
            Column("residenceRegionCode", "居住区划代码", "Residence region code", default=False),
            Column("skills", "技能特长", "Skills"),
            Column("availability", "可服务时间", "Availability", default=False),
            Column("guardianName", "监护人姓名", "Guardian", sensitive=SensitiveKind.NAME, default=False),
            Column("guardianRelation", "监护关系", "Guardian's relation", default=False),
            Column("noShowCount", "爽约次数", "No-shows"),
            Column("createdAt", "注册时间", "Registered at"),
        ),
        owner=lambda row: row.id,
    ),
    "teams": ListSpec(
        "队伍",
        "teams",
        m.Team,
        (
            _id("Team"),
            Column("name", "队伍名称", "Name"),
            Column("teamType", "队伍类型", "Kind"),
            Column("creditCode", "统一社会信用代码", "Credit code"),
            _REGION,
            Column("verificationStatus", "审核状态", "Verification"),
            Column("status", "队伍状态", "Status"),
            Column("personInCharge", "负责人", "Person in charge"),
            Column("contactName", "联系人", "Contact"),
            Column("contactTeamId", "联络团体 ID", "Contact team ID", ref="Team", default=False),
            Column("createdAt", "成立时间", "Created at"),
        ),
    ),
    "memberships": ListSpec(
        "队伍成员",
        "memberships",
        m.TeamMembership,
        (
            _id("TeamMembership"),
            _TEAM,
            _VOLUNTEER,
            _REGION,
            Column("status", "成员状态", "Status"),
            Column("role", "成员角色", "Role"),
            Column("appliedAt", "申请时间", "Applied at"),
            Column("joinedAt", "加入时间", "Joined at"),
            Column("leftAt", "退出时间", "Left at"),
            Column("decisionReason", "审核意见", "Decision reason", default=False),
        ),
        owner=_volunteer_owner,
    ),
    "projects": ListSpec(
        "项目",
        "projects",
        m.Project,
        (
            _id("Project"),
            Column("name", "项目名称", "Name"),
            _TEAM,
            _REGION,
            Column("category", "服务类别", "Category"),
            Column("status", "项目状态", "Status"),
            Column("serviceTarget", "服务对象", "Service target"),
            Column("address", "地址", "Address"),
            Column("startsAt", "开始时间", "Starts at"),
            Column("endsAt", "结束时间", "Ends at"),
            Column("insured", "已投保", "Insured"),
            Column("description", "项目简介", "Description", default=False),
            _CREATED,
        ),
    ),
    "posts": ListSpec(
        "岗位",
        "posts",
        m.Post,
        (
            _id("Post"),
            _PROJECT,
            _TEAM,
            _REGION,
            Column("name", "岗位名称", "Name"),
            Column("quota", "招募人数", "Places"),
            Column("taken", "已报名人数", "Taken"),
            Column("startsAt", "班次开始", "Shift start"),
            Column("endsAt", "班次结束", "Shift end"),
            Column("description", "岗位职责", "Duties", default=False),
        ),
    ),
    "sign_ups": ListSpec(
        "报名",
        "sign-ups",
        m.SignUp,
        (
            _id("SignUp"),
            Column("postId", "岗位 ID", "Post ID", ref="Post"),
            _PROJECT,
            _TEAM,
            _VOLUNTEER,
            _REGION,
            Column("status", "报名状态", "Status"),
            Column("createdAt", "报名时间", "Signed up at"),
            Column("decidedAt", "审核时间", "Decided at"),
            Column("cancelledAt", "取消时间", "Cancelled at"),
            Column("reason", "原因", "Reason", default=False),
        ),
        owner=_volunteer_owner,
    ),
    "attendances": ListSpec(
        "签到",
        "attendance",
        m.Attendance,
        (
            _id("Attendance"),
            Column("signUpId", "报名 ID", "Sign-up ID", ref="SignUp"),
            _PROJECT,
            _TEAM,
            _VOLUNTEER,
            _REGION,
            Column("method", "签到方式", "Method"),
            Column("status", "签到状态", "Status"),
            Column("checkInAt", "签到时间", "Checked in at"),
            Column("checkOutAt", "签退时间", "Checked out at"),
            Column(
                "checkInLatitude",
                "签到纬度",
                "Check-in latitude",
                source="check_in_lat",
                sensitive=SensitiveKind.LOCATION,
                default=False,
            ),
            Column(
                "checkInLongitude",
                "签到经度",
                "Check-in longitude",
                source="check_in_lng",
                sensitive=SensitiveKind.LOCATION,
                default=False,
            ),
            Column(
                "checkOutLatitude",
                "签退纬度",
                "Check-out latitude",
                source="check_out_lat",
                sensitive=SensitiveKind.LOCATION,
                default=False,
            ),
            Column(
                "checkOutLongitude",
                "签退经度",
                "Check-out longitude",
                source="check_out_lng",
                sensitive=SensitiveKind.LOCATION,
                default=False,
            ),
            Column("correctionReason", "更正原因", "Correction reason", default=False),
        ),
        owner=_volunteer_owner,
    ),
    "service_records": ListSpec(
        "志愿服务记录",
        "service records",
        m.ServiceRecord,
        (
            _id("ServiceRecord"),
            _VOLUNTEER,
            _TEAM,
            _PROJECT,
            _REGION,
            Column("category", "服务类别", "Category"),
            Column("serviceDate", "服务日期", "Service date"),
            Column("startedAt", "开始时间", "Started at"),
            Column("endedAt", "结束时间", "Ended at"),
            Column("hours", "服务时长（小时）", "Hours"),
            Column("content", "服务内容", "Content"),
            Column("provenance", "记录来源", "Provenance"),
            Column("status", "记录状态", "Status"),
            Column("confirmedAt", "确认时间", "Confirmed at", default=False),
            Column("replacesId", "更正前记录 ID", "Replaces", ref="ServiceRecord", default=False),
            Column("voidReason", "作废原因", "Void reason", default=False),
            Column("declineReason", "驳回原因", "Decline reason", default=False),
            _CREATED,
        ),
        owner=_volunteer_owner,
    ),
    "certificates": ListSpec(
        "志愿服务记录证明",
        "certificates",
        m.Certificate,
        (
            _id("Certificate"),
            Column("number", "证明编号", "Number"),
            _VOLUNTEER,
            _TEAM,
            _REGION,
            Column("totalHours", "服务时长（小时）", "Hours"),
            Column("status", "证明状态", "Status"),
            Column("personInCharge", "负责人", "Person in charge"),
            Column("handlerName", "经办人", "Handler"),
            Column("requestedAt", "申请时间", "Requested at"),
            Column("issuedAt", "出具时间", "Issued at"),
            Column("revokedAt", "撤销时间", "Revoked at", default=False),
            Column("revokeReason", "撤销原因", "Revoke reason", default=False),
        ),
        owner=_volunteer_owner,
    ),
    "correction_requests": ListSpec(
        "更正申请",
        "correction requests",
        m.CorrectionRequest,
        (
            _id("CorrectionRequest"),
            Column("recordId", "服务记录 ID", "Record ID", ref="ServiceRecord"),
            _VOLUNTEER,
            _TEAM,
            _REGION,
            Column("reason", "申请理由", "Reason"),
            Column("requestedHours", "申请时长（小时）", "Requested hours"),
            Column("status", "处理状态", "Status"),
            Column("response", "处理意见", "Response"),
            Column("createdAt", "申请时间", "Asked at"),
            Column("answeredAt", "处理时间", "Answered at"),
        ),
        owner=_volunteer_owner,
    ),
    "audit_events": ListSpec(
        "审计日志",
        "audit events",
        m.AuditEvent,
        (
            _id("AuditEvent"),
            Column("at", "时间", "At"),
            Column("actorId", "操作账号 ID", "Actor", ref="Account"),
            Column("action", "操作", "Action"),
            Column("subjectType", "对象类型", "Subject type"),
            Column("subjectId", "对象 ID", "Subject ID"),
            _REGION,
            Column("requestId", "请求编号", "Request ID"),
            Column("detail", "详情", "Detail"),
        ),
    ),
    "regions": ListSpec(
        "行政区划",
        "regions",
        m.Region,
        (
            Column("code", "区划代码", "Code"),
            Column("name", "名称", "Name"),
            Column("level", "级别", "Level"),
            Column("parentCode", "上级区划代码", "Parent code"),
            Column("retiredYear", "撤销年份", "Retired in", default=False),
        ),
    ),
}
"""By the field of ``ExportSource`` (python name), which is also the root list's field on Query."""
