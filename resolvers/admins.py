"""Provisioning admin accounts, one level down and inside one's own jurisdiction.

The ministry creates province admins, a province admin city admins inside the province, a city admin county
admins, a county admin township admins. Nobody grants the reveal right without holding it over the target
region, and nobody disables an account holding any grant outside or above their own jurisdiction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from auth.grants import creator_level, outranks
from auth.jurisdiction import level_of
from auth.viewer import Viewer
from models import Account, AuditEvent, Region, RoleGrant
from models.enums import AccountStatus, Role
from resolvers.credentials import check_password, check_username
from schema.context import Services
from schema.errors import AppError


@dataclass(frozen=True)
class NewAdmin:
    username: str
    password: str
    display_name: str
    region_code: str
    can_reveal: bool = False


async def create_admin(services: Services, viewer: Viewer, new: NewAdmin, request_id: str) -> Account:
    check_username(new.username)
    check_password(new.password)
    async with services.writes() as session, session.begin():
        region = await session.get(Region, new.region_code)
        if region is None or region.retired_year is not None:
            raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field="regionCode")
        level = creator_level(viewer, new.region_code)
        if level is None:
            raise AppError("OUT_OF_JURISDICTION", field="regionCode")
        if level_of(new.region_code) != level + 1:
            raise AppError("FORBIDDEN", key="GRANT_NOT_ALLOWED", field="regionCode")
        if new.can_reveal and not viewer.can_reveal_in(new.region_code):
            raise AppError("FORBIDDEN", key="GRANT_NOT_ALLOWED", field="canReveal")
        password_hash = await asyncio.to_thread(services.passwords.hash, new.password)
        account = Account(
            username=new.username,
            username_key=new.username.lower(),
            password_hash=password_hash,
            display_name=new.display_name,
            created_by_id=viewer.account_id,
        )
        session.add(account)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError("BAD_USER_INPUT", key="USERNAME_TAKEN", field="username") from None
        session.add(
            RoleGrant(
                account_id=account.id,  # type: ignore[arg-type]
                role=Role.REGION_ADMIN,
                region_code=new.region_code,
                can_reveal=new.can_reveal,
                granted_by_id=viewer.account_id,
            )
        )
        session.add(
            AuditEvent(
                actor_id=viewer.account_id,
                action="GRANT_REGION_ADMIN",
                subject_type="Account",
                subject_id=account.id,
                region_code=new.region_code,
                request_id=request_id,
                detail={"username": new.username, "canReveal": new.can_reveal},
            )
        )
    return account


async def set_account_status(
    services: Services, viewer: Viewer, account_id: int, status: AccountStatus, request_id: str
) -> tuple[Account, list[RoleGrant]]:
    """Enable or disable an admin account strictly below the viewer in the viewer's jurisdiction.

    Returns the account and its live grants."""
    async with services.writes() as session, session.begin():
        account = await session.get(Account, account_id)
        grants = (
            (await session.execute(select(RoleGrant).where(col(RoleGrant.account_id) == account_id)))
            .scalars()
            .all()
        )
        if account is None or not grants:
            raise AppError("NOT_FOUND", field="accountId")
        if not all(outranks(viewer, g) for g in grants):
            raise AppError("NOT_FOUND", field="accountId")  # indistinguishable from a missing account
        account.status = status
        session.add(
            AuditEvent(
                actor_id=viewer.account_id,
                action=f"ACCOUNT_{status.value}",
                subject_type="Account",
                subject_id=account_id,
                region_code=grants[0].region_code,
                request_id=request_id,
            )
        )
    if status is AccountStatus.DISABLED:
        from resolvers.sessions import revoke_all

        await revoke_all(services, account_id)
    return account, [g for g in grants if g.revoked_at is None]
