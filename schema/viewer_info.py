"""The viewer as a GraphQL object (shared by ``Query.viewer`` and the login payload)."""

from __future__ import annotations

import strawberry

from auth.viewer import Viewer as AuthViewer
from schema.types.account import Grant, Viewer
from schema.types.registry import global_id


def grant_info(role: str, region_code: str | None, team_id: int | None, can_reveal: bool) -> Grant:
    from schema.types.enums import Role

    return Grant(
        role=Role(role),
        region_code=region_code,
        team_id=strawberry.ID(global_id("Team", team_id)) if team_id is not None else None,
        can_reveal=can_reveal,
    )


def viewer_info(viewer: AuthViewer) -> Viewer | None:
    if viewer.account_id is None:
        return None
    return Viewer(
        account_id=strawberry.ID(global_id("Account", viewer.account_id)),
        username=viewer.username,
        grants=[grant_info(g.role.value, g.region_code, g.team_id, g.can_reveal) for g in viewer.grants],
        volunteer_id=viewer.volunteer_id,
        principal=viewer,
    )
