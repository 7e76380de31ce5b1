"""The pending-verification worker: checks PENDING volunteers against the identity verifier and PENDING
legal-person teams against the legal-person verifier.

Only resident ID numbers are sent: other ID types go to manual review (``UNDER_REVIEW``) at registration and
are never selected here.

No transaction is held across a remote call. Per volunteer:

1. *claim* (short transaction): push ``verification_next_at`` ``CLAIM_LEASE`` ahead, if the row is still
   PENDING and due, and read the name and encrypted number. A second worker process (another instance of the
   app) then skips the row; if this process dies mid-call the lease runs out and the row is due again.
2. call the verifier, outside any transaction;
3. *record* (short transaction), only while the row is still PENDING (a reviewer may have decided meanwhile):
   PASSED/FAILED set the status and note and clear ``verification_next_at``; RETRY adds one to
   ``verification_attempts`` and sets ``verification_next_at`` to now + 30 s × 2^attempts (attempts before
   this one), at most 6 h.

Teams have no ``next_at`` column: a PENDING team is simply tried again on every run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import nulls_first, or_, select, update
from sqlmodel import col

from models.columns import utcnow
from models.db import SessionFactory
from models.enums import IdType, LegalVerification, RealNameStatus
from models.pii import PiiCipher
from models.team import Team
from models.volunteer import Volunteer
from resolvers.verifiers.base import IdentityVerifier, LegalPersonVerifier, Outcome, Verdict
from resolvers.verifiers.breaker import CircuitBreaker
from resolvers.verifiers.http import NOTE_MAX, HttpIdentityVerifier, HttpLegalPersonVerifier
from resolvers.verifiers.offline import OfflineIdentityVerifier, OfflineLegalPersonVerifier
from settings import Settings

log = logging.getLogger("zhiyuan.verifiers")

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claimed volunteer is hidden from other workers; far longer than one call can take."""


def retry_delay(attempts: int) -> timedelta:
    """The wait after a RETRY when ``attempts`` retries were recorded before: 30 s, 1 min, 2 min, … 6 h."""
    if attempts >= 20:  # 30 s × 2^20 is long past the cap; keeps the power small
        return RETRY_CAP
    return min(RETRY_BASE * (1 << max(attempts, 0)), RETRY_CAP)


def _note(verdict: Verdict) -> str:
    return verdict.note[:NOTE_MAX]


async def _due_volunteer_ids(sessions: SessionFactory, now: datetime, batch: int) -> list[int]:
    due = or_(col(Volunteer.verification_next_at).is_(None), col(Volunteer.verification_next_at) <= now)
    statement = (
        select(col(Volunteer.id))
        .where(
            col(Volunteer.real_name_status) == RealNameStatus.PENDING,
            col(Volunteer.id_type) == IdType.RESIDENT_ID,
            due,
        )
        .order_by(nulls_first(col(Volunteer.verification_next_at)), col(Volunteer.id))
        .limit(batch)
    )
    async with sessions() as session:
        return [row for row in (await session.execute(statement)).scalars() if row is not None]


async def _claim_volunteer(sessions: SessionFactory, volunteer_id: int, now: datetime) -> Any | None:
    """The row's (name, id_number_enc, verification_attempts) if this worker got it, else None."""
    due = or_(col(Volunteer.verification_next_at).is_(None), col(Volunteer.verification_next_at) <= now)
    statement = (
        update(Volunteer)
        .where(
            col(Volunteer.id) == volunteer_id,
            col(Volunteer.real_name_status) == RealNameStatus.PENDING,
            col(Volunteer.id_type) == IdType.RESIDENT_ID,
            due,
        )
        .values(verification_next_at=now + CLAIM_LEASE)
        .returning(col(Volunteer.name), col(Volunteer.id_number_enc), col(Volunteer.verification_attempts))
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session, session.begin():
        return (await session.execute(statement)).one_or_none()


async def _record_volunteer(
    sessions: SessionFactory, volunteer_id: int, attempts: int, verdict: Verdict, now: datetime
) -> None:
    values: dict[str, Any]
    if verdict.outcome is Outcome.RETRY:
        values = {
            "verification_attempts": attempts + 1,
            "verification_next_at": now + retry_delay(attempts),
            "verification_note": _note(verdict),
        }
    else:
        status = RealNameStatus.PASSED if verdict.outcome is Outcome.PASSED else RealNameStatus.FAILED
        values = {
            "real_name_status": status,
            "verification_note": _note(verdict),
            "verification_next_at": None,
            "updated_at": now,
        }
    statement = (
        update(Volunteer)
        .where(col(Volunteer.id) == volunteer_id, col(Volunteer.real_name_status) == RealNameStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    async with sessions() as session, session.begin():
        await session.execute(statement)


async def verify_pending_identities(
    sessions: SessionFactory,
    cipher: PiiCipher,
    verifier: IdentityVerifier,
    now: datetime | None = None,
    batch: int = 100,
) -> dict[str, int]:
    """Check up to ``batch`` due PENDING resident-ID volunteers; counts by outcome."""
    now = now or utcnow()
    counts = {"passed": 0, "failed": 0, "retry": 0}
    for volunteer_id in await _due_volunteer_ids(sessions, now, batch):
        claimed = await _claim_volunteer(sessions, volunteer_id, now)
        if claimed is None:  # decided or claimed elsewhere since the selection
            continue
        name, blob, attempts = claimed
        try:
            id_number = cipher.decrypt(blob, "volunteer.id_number")
            verdict = await verifier.verify_identity(name, IdType.RESIDENT_ID, id_number)
        except Exception:  # one bad row (undecryptable, verifier bug) must not stop the batch
            log.exception("identity check of volunteer %d failed; will retry", volunteer_id)
            verdict = Verdict(Outcome.RETRY, "INTERNAL_ERROR")
        await _record_volunteer(sessions, volunteer_id, int(attempts or 0), verdict, now)
        counts[verdict.outcome.lower()] += 1
    return counts


async def verify_pending_teams(
    sessions: SessionFactory,
    verifier: LegalPersonVerifier,
    now: datetime | None = None,
    batch: int = 100,
) -> dict[str, int]:
    """Check up to ``batch`` teams whose legal verification is PENDING; counts by outcome.

    A team without a credit code cannot be checked and FAILS (``CREDIT_CODE_MISSING``). RETRY leaves the team
    PENDING for the next run. The verifier's note is logged on failure only (teams have no note column).
    """
    now = now or utcnow()
    counts = {"passed": 0, "failed": 0, "retry": 0}
    statement = (
        select(col(Team.id), col(Team.name), col(Team.credit_code))
        .where(col(Team.legal_verification) == LegalVerification.PENDING)
        .order_by(col(Team.id))
        .limit(batch)
    )
    async with sessions() as session:
        teams = (await session.execute(statement)).all()
    for team_id, name, credit_code in teams:
        if not credit_code:
            verdict = Verdict(Outcome.FAILED, "CREDIT_CODE_MISSING")
        else:
            try:
                verdict = await verifier.verify_organisation(name, credit_code)
            except Exception:
                log.exception("legal-person check of team %d failed; will retry", team_id)
                verdict = Verdict(Outcome.RETRY, "INTERNAL_ERROR")
        counts[verdict.outcome.lower()] += 1
        if verdict.outcome is Outcome.RETRY:
            continue
        if verdict.outcome is Outcome.FAILED:
            log.info("team %d failed the legal-person check: %s", team_id, _note(verdict))
        result = LegalVerification.PASSED if verdict.outcome is Outcome.PASSED else LegalVerification.FAILED
        record = (
            update(Team)
            .where(col(Team.id) == team_id, col(Team.legal_verification) == LegalVerification.PENDING)
            .values(legal_verification=result)
            .execution_options(synchronize_session=False)
        )
        async with sessions() as session, session.begin():
            await session.execute(record)
    return counts


def build_verifiers(
    settings: Settings, sessions: SessionFactory
) -> tuple[IdentityVerifier, LegalPersonVerifier]:
    """The offline verifiers where no URL is set, else the HTTP adapters (one circuit breaker each)."""
    identity: IdentityVerifier
    legal: LegalPersonVerifier
    if settings.identity_verifier_url:
        identity = HttpIdentityVerifier(
            settings.identity_verifier_url,
            settings.identity_verifier_token,
            settings.verifier_timeout,
            settings.verifier_retries,
            CircuitBreaker(),
        )
    else:
        identity = OfflineIdentityVerifier(sessions)
    if settings.legal_verifier_url:
        legal = HttpLegalPersonVerifier(
            settings.legal_verifier_url,
            settings.legal_verifier_token,
            settings.verifier_timeout,
            settings.verifier_retries,
            CircuitBreaker(),
        )
    else:
        legal = OfflineLegalPersonVerifier()
    return identity, legal


async def close_verifiers(verifiers: Iterable[object]) -> None:
    """Close the verifiers that hold resources (the HTTP clients); call it at shutdown."""
    for verifier in verifiers:
        close = getattr(verifier, "aclose", None)
        if close is not None:
            await close()


async def run_once(
    sessions: SessionFactory, cipher: PiiCipher, identity: IdentityVerifier, legal: LegalPersonVerifier
) -> dict[str, dict[str, int]]:
    """One pass over both queues; each failing queue is logged and does not stop the other."""
    results: dict[str, dict[str, int]] = {}
    try:
        results["volunteers"] = await verify_pending_identities(sessions, cipher, identity)
    except Exception:
        log.exception("the identity verification run failed")
    try:
        results["teams"] = await verify_pending_teams(sessions, legal)
    except Exception:
        log.exception("the legal-person verification run failed")
    for queue, counts in results.items():
        if any(counts.values()):
            log.info("verification run (%s): %s", queue, counts)
    return results


async def run_forever(
    sessions: SessionFactory,
    cipher: PiiCipher,
    identity: IdentityVerifier,
    legal: LegalPersonVerifier,
    interval: float,
) -> None:
    """Run both queues every ``interval`` seconds until cancelled; errors are logged, never fatal."""
    if interval <= 0:
        raise ValueError("interval must be positive (0 means: do not start the worker)")
    while True:
        await run_once(sessions, cipher, identity, legal)
        await asyncio.sleep(interval)
