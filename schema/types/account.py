"""Accounts as the viewer sees itself, and admin accounts as their creators see them."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from auth.viewer import Viewer as AuthViewer
from models import Account as AccountRow
from models import Volunteer as VolunteerRow
from schema.context import Info
from schema.types.base import build
from schema.types.enums import Role
from schema.types.region import Region, region_by_code
from schema.types.volunteer import Volunteer


@strawberry.type(description="A role held by an account (角色授权)")
class Grant:
    role: Role = strawberry.field(description="Role (角色)")
    region_code: str | None = strawberry.field(description="Jurisdiction's region code (管辖区划)")
    team_id: strawberry.ID | None = strawberry.field(description="Administered team's global ID (管理的队伍)")
    can_reveal: bool = strawberry.field(description="May read unmasked personal data (可查看敏感信息)")

    @strawberry.field(description="Jurisdiction region (管辖区划)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code)


@strawberry.type(description="Account (账号)")
class Account(relay.Node):
    id: relay.NodeID[int]
    username: str = strawberry.field(description="Username (用户名)")
    display_name: str = strawberry.field(description="Display name (显示名称)")
    status: str = strawberry.field(description="ACTIVE or DISABLED (账号状态)")
    created_at: datetime = strawberry.field(description="Created at (创建时间)")
    grants: list[Grant] = strawberry.field(description="Roles held (角色)")
    row: strawberry.Private[AccountRow]


@strawberry.type(description="The signed-in viewer (当前用户)")
class Viewer:
    account_id: strawberry.ID = strawberry.field(description="Account global ID (账号 ID)")
    username: str = strawberry.field(description="Username (用户名)")
    grants: list[Grant] = strawberry.field(description="Roles held (角色)")
    volunteer_id: strawberry.Private[int | None]
    principal: strawberry.Private[AuthViewer]
    """Who this object describes: after sign-in or registration, not yet the request's own viewer."""

    @strawberry.field(description="Own volunteer profile, if any (本人志愿者信息)")
    async def volunteer(self, info: Info) -> Volunteer | None:
        if self.volunteer_id is None:
            return None
        row = await info.context.loaders_for(self.principal).by_key(VolunteerRow).load(self.volunteer_id)
        if row is None:
            return None
        volunteer = build(Volunteer, row)
        volunteer.reader = self.principal
        return volunteer
