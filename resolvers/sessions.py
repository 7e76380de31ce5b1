"""Sign-in, refresh-token rotation and sign-out.

* The login name may be the username, the phone number or the ID number (matched by their blind index).
* Failures are throttled per login name and per client address; every failure says only
  INVALID_CREDENTIALS, and an unknown name costs as much time as a wrong password.
* Legacy hashes from the old system are verified and re-hashed to argon2id at the first successful login.
* Refresh tokens are stored hashed and rotated on each use; presenting a used one revokes its whole family.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.accounts import viewer_for
from auth.tokens import hash_refresh_token, new_family_id, new_refresh_token
from auth.viewer import Viewer
from models import Account, RefreshToken, Volunteer
from models.columns import utcnow
from models.enums import AccountStatus
from schema.context import Services
from schema.errors import AppError


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    viewer: Viewer


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _find_account(session: AsyncSession, services: Services, login: str) -> Account | None:
    index = services.cipher.blind_index(login)
    by_person = select(col(Volunteer.account_id)).where(
        or_(col(Volunteer.phone_hash) == index, col(Volunteer.id_number_hash) == index),
        col(Volunteer.account_id).is_not(None),
    )
    statement = select(Account).where(
        or_(col(Account.username_key) == login.lower(), col(Account.id).in_(by_person))
    )
    rows = (await session.execute(statement)).scalars().all()
    exact = [a for a in rows if a.username_key == login.lower()]
    return exact[0] if exact else (rows[0] if len(rows) == 1 else None)


async def _issue(session: AsyncSession, services: Services, account: Account, family: str) -> Session:
    viewer = await viewer_for(session, account)
    token, digest = new_refresh_token()
    session.add(
        RefreshToken(
            account_id=account.id,  # type: ignore[arg-type]
            token_hash=digest,
            family=family,
            expires_at=utcnow() + timedelta(seconds=services.settings.refresh_token_ttl),
        )
    )
    access = services.tokens.issue_access(str(account.id), viewer.to_claims())
    return Session(access, token, services.tokens.access_ttl, viewer)


async def login(services: Services, username: str, password: str, client_ip: str) -> Session:
    login_name = username.strip()
    throttle_key = login_name.lower()
    retry = await services.throttle.retry_after(throttle_key, client_ip)
    if retry is not None:
        raise AppError("ACCOUNT_LOCKED", retry_after=retry)
    async with services.writes() as session, session.begin():
        account = await _find_account(session, services, login_name) if login_name else None
        if account is None:
            await asyncio.to_thread(services.passwords.dummy_verify, password)
            check_ok = False
        else:
            check = await asyncio.to_thread(services.passwords.verify, account.password_hash, password)
            check_ok = check.ok
        if account is None or not check_ok:
            await services.throttle.record_failure(throttle_key, client_ip)
            raise AppError("INVALID_CREDENTIALS")
        if account.status != AccountStatus.ACTIVE:
            raise AppError("INVALID_CREDENTIALS")
        if check.needs_rehash:
            account.password_hash = await asyncio.to_thread(services.passwords.hash, password)
        account.last_login_at = utcnow()
        await services.throttle.record_success(throttle_key, client_ip)
        return await _issue(session, services, account, new_family_id())


async def start(services: Services, account_id: int) -> Session:
    """A new session for an account that has just been created (registration signs the user in)."""
    async with services.writes() as session, session.begin():
        account = await session.get(Account, account_id)
        assert account is not None
        return await _issue(session, services, account, new_family_id())


async def refresh(services: Services, token: str) -> Session:
    digest = hash_refresh_token(token)
    reused = False
    async with services.writes() as session, session.begin():
        stored = (
            await session.execute(
                select(RefreshToken).where(col(RefreshToken.token_hash) == digest).with_for_update()
            )
        ).scalar_one_or_none()
        if stored is None:
            raise AppError("INVALID_REFRESH_TOKEN")
        now = utcnow()
        if stored.revoked_at is not None:  # reuse of a rotated token: assume theft, end the whole family
            await _revoke(session, col(RefreshToken.family) == stored.family)
            reused = True
        else:
            account = await session.get(Account, stored.account_id)
            if _aware(stored.expires_at) <= now or account is None or account.status != AccountStatus.ACTIVE:
                raise AppError("INVALID_REFRESH_TOKEN")
            stored.revoked_at = now
            result = await _issue(session, services, account, stored.family)
    if reused:
        raise AppError("INVALID_REFRESH_TOKEN")
    return result


async def _revoke(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(condition, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def logout(services: Services, token: str) -> bool:
    """Ends the session the refresh token belongs to (its family). Unknown tokens are a no-op."""
    async with services.writes() as session, session.begin():
        family = (
            await session.execute(
                select(col(RefreshToken.family)).where(
                    col(RefreshToken.token_hash) == hash_refresh_token(token)
                )
            )
        ).scalar_one_or_none()
        if family is None:
            return False
        await _revoke(session, col(RefreshToken.family) == family)
    return True


async def revoke_all(services: Services, account_id: int) -> int:
    """Ends every session of the account; returns how many refresh tokens were revoked."""
    async with services.writes() as session, session.begin():
        return await _revoke(session, col(RefreshToken.account_id) == account_id)
