"""Service accounts of peer instances (Role PEER): the only accounts that may read the change feed.

On the ministry's instance a peer account stands for one province instance (its grant holds the province's
code, and the feed it reads is that province's subtree); on a province instance it stands for the ministry
(a grant without region; the feed is the whole province). Created by an operator with ``cli.py create-peer``.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

from auth.passwords import Passwords
from models import Account, AuditEvent, RoleGrant
from models.db import SessionFactory
from models.enums import Role
from resolvers.credentials import check_password, check_username
from settings import Settings


class PeerAccountError(ValueError):
    pass


async def create_peer_account(
    settings: Settings, writes: SessionFactory, username: str, password: str, province: str | None
) -> int:
    """The account's id. ``province`` (2 digits) is required on the ministry's instance, refused elsewhere."""
    check_username(username)
    check_password(password)
    if settings.node_id == 0:
        if not (province and province.isdigit() and len(province) == 2):
            raise PeerAccountError(
                "PEER_PROVINCE_REQUIRED: the ministry's peers are provinces: --province 37"
            )
        region: str | None = f"{province}0000000000"
    elif province:
        raise PeerAccountError("PEER_PROVINCE_REFUSED: a province instance's only peer is the ministry")
    else:
        region = None
    hashed = await asyncio.to_thread(
        Passwords(settings.argon2_time_cost, settings.argon2_memory_cost).hash, password
    )
    async with writes() as session, session.begin():
        account = Account(
            username=username,
            username_key=username.lower(),
            password_hash=hashed,
            display_name="peer instance",
        )
        session.add(account)
        try:
            await session.flush()
        except IntegrityError:
            raise PeerAccountError(f"USERNAME_TAKEN: {username}") from None
        assert account.id is not None
        session.add(RoleGrant(account_id=account.id, role=Role.PEER, region_code=region))
        session.add(
            AuditEvent(
                action="GRANT_PEER",
                subject_type="Account",
                subject_id=account.id,
                detail={"username": username, "peerRegion": region},  # the instance's own account: no region
            )
        )
        return account.id
