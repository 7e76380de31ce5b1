"""Root mutations: sign-in and sessions, admin provisioning."""

from __future__ import annotations

import base64
import binascii

import strawberry

from models.enums import AccountStatus
from resolvers import admins, sessions
from schema.attendance import AttendanceMutation
from schema.certificates import CertificateMutation
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.exports import ExportMutation
from schema.membership import MembershipMutation
from schema.permissions import requires
from schema.projects import ProjectMutation, SignUpMutation
from schema.records import RecordMutation
from schema.registration import RegistrationMutation
from schema.session_types import LoginPayload, login_payload
from schema.supervision import SupervisionMutation
from schema.trial_feedback import TrialFeedbackMutation
from schema.types.account import Account, Grant
from schema.types.enums import Role
from schema.viewer_info import grant_info


@strawberry.input(description="Sign-in with username, phone number or ID number (登录)")
class LoginInput:
    username: str = strawberry.field(
        description="Username, mobile number or ID number (用户名/手机号/证件号)"
    )
    password: str = strawberry.field(description="Password (密码)")


@strawberry.input(description="A new region admin one level below you (新建管理员)")
class CreateAdminInput:
    username: str = strawberry.field(description="Username (用户名)")
    password: str = strawberry.field(description="Initial password (初始密码)")
    display_name: str = strawberry.field(default="", description="Display name (显示名称)")
    region_code: str = strawberry.field(description="Jurisdiction, one level below yours (管辖区划代码)")
    can_reveal: bool = strawberry.field(
        default=False, description="May read unmasked personal data (可查看敏感信息)"
    )


def _account_id(value: str) -> int:
    try:
        kind, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        if kind != "Account":
            raise ValueError(kind)
        return int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AppError("BAD_USER_INPUT", key="BAD_ID", field="accountId") from None


def _account(row: object, grants: list[Grant]) -> Account:
    return Account(
        id=row.id,  # type: ignore[attr-defined]
        username=row.username,  # type: ignore[attr-defined]
        display_name=row.display_name,  # type: ignore[attr-defined]
        status=str(row.status),  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        grants=grants,
        row=row,  # type: ignore[arg-type]
    )


@strawberry.type
class SessionMutation:
    @strawberry.mutation(description="Sign in (登录)", extensions=[requires(Requirement.PUBLIC)])
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        return login_payload(
            await sessions.login(ctx.services, input.username, input.password, ctx.client_ip)
        )

    @strawberry.mutation(
        description="Exchange a refresh token for a new session; the old token is spent (刷新令牌)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    async def refresh_tokens(self, info: Info, refresh_token: str) -> LoginPayload:
        return login_payload(await sessions.refresh(info.context.services, refresh_token))

    @strawberry.mutation(
        description="End the session of this refresh token (退出登录)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    async def logout(self, info: Info, refresh_token: str) -> bool:
        return await sessions.logout(info.context.services, refresh_token)

    @strawberry.mutation(
        description="End all your sessions; returns how many were ended (退出所有设备)",
        extensions=[requires(Requirement.AUTHENTICATED)],
    )
    async def revoke_all_sessions(self, info: Info) -> int:
        account_id = info.context.viewer.account_id
        assert account_id is not None
        return await sessions.revoke_all(info.context.services, account_id)


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        description="Create a region admin one level below you, inside your jurisdiction (创建下级管理员)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def create_admin(self, info: Info, input: CreateAdminInput) -> Account:
        ctx = info.context
        new = admins.NewAdmin(
            input.username, input.password, input.display_name, input.region_code, input.can_reveal
        )
        row = await admins.create_admin(ctx.services, ctx.viewer, new, ctx.request_id)
        return _account(row, [grant_info(Role.REGION_ADMIN.value, input.region_code, None, input.can_reveal)])

    @strawberry.mutation(
        description="Disable or re-enable an admin account below you (停用/启用管理员)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def set_account_status(self, info: Info, account_id: strawberry.ID, active: bool) -> Account:
        ctx = info.context
        status = AccountStatus.ACTIVE if active else AccountStatus.DISABLED
        row, grants = await admins.set_account_status(
            ctx.services, ctx.viewer, _account_id(account_id), status, ctx.request_id
        )
        return _account(
            row, [grant_info(str(g.role), g.region_code, g.team_id, g.can_reveal) for g in grants]
        )


@strawberry.type
class Mutation(
    SessionMutation,
    AdminMutation,
    RegistrationMutation,
    MembershipMutation,
    CertificateMutation,
    ProjectMutation,
    SignUpMutation,
    AttendanceMutation,
    RecordMutation,
    TrialFeedbackMutation,
    ExportMutation,
    SupervisionMutation,
):
    pass
