"""Loading an account's viewer: its live grants and its volunteer profile, as a token will carry them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.viewer import Grant, Viewer
from models import Account, RoleGrant, Volunteer
from models.enums import Role


async def viewer_for(session: AsyncSession, account: Account) -> Viewer:
    assert account.id is not None
    grants = (
        await session.execute(
            select(RoleGrant).where(
                col(RoleGrant.account_id) == account.id, col(RoleGrant.revoked_at).is_(None)
            )
        )
    ).scalars()
    volunteer_id = (
        await session.execute(select(col(Volunteer.id)).where(col(Volunteer.account_id) == account.id))
    ).scalar_one_or_none()
    return Viewer(
        account_id=account.id,
        username=account.username,
        volunteer_id=volunteer_id,
        grants=tuple(
            sorted(
                (Grant(Role(g.role), g.region_code, g.team_id, g.can_reveal) for g in grants),
                key=lambda g: (g.role.value, g.region_code or "", g.team_id or 0),
            )
        ),
    )
