"""Spot checks (抽查): sample CONFIRMED records of a jurisdiction, record a finding for each, publish.

    createSpotCheck(regionCode, size, seed?)  -->  DRAFT with ``size`` items (fewer when fewer records exist)
    recordSpotCheckFinding(itemId, finding, note)     (the author, while DRAFT; a note unless the finding is OK)
    publishSpotCheck(id)  -->  PUBLISHED, the counts per finding frozen in ``summary`` (every item checked)

A draft is its author's: ``scope()`` shows a spot check to the admins whose jurisdiction contains its region once
it is published, and to its author before (the ministry sees all, and writes to none but its own).

Sampling is uniform over the CONFIRMED records inside the region (through ``scope()``) and deterministic for a
seed on the same data, without sorting the table:

1. *Id probes.* ``MIN(id)``/``MAX(id)`` of the whole table (both ends of the primary key index), then ids
   drawn without replacement from that range by ``random.Random(seed)`` (``draws``), looked up in batches of
   ``PROBE_BATCH`` by primary key with the scope and status conditions. The first ``size`` hits in draw order
   are a uniform sample of the matching rows (a uniformly random permutation of the id range, filtered).
   A region holding a fair share of the table (a city: ~1 % of the ids → 100 records take ~10,000 probes, five
   index-lookup statements) is sampled this way in milliseconds at any table size.
2. *Hash order.* When the hit rate says the probes would exceed ``PROBE_BUDGET`` (a region that is a small
   share of the table, hence small itself), the region's matching rows are ordered by a hash of
   (seed, id) — ``(id * 1103515245 + seed) mod 2^31-1``, portable integer arithmetic — with ``LIMIT size``: one
   scan of the region's rows through the ``region_code`` index and a top-N heap, no full sort.
"""

from __future__ import annotations

import itertools
import random
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import ServiceRecord, SpotCheck, SpotCheckItem
from models.columns import utcnow
from models.enums import RecordStatus
from models.supervision import SpotCheckFinding, SpotCheckStatus
from resolvers.audit import audit_event
from resolvers.supervision import NOTE_MAX, Supervisor, region_viewer
from schema.errors import AppError

MAX_SAMPLE = 500
PROBE_BATCH = 2000
PROBE_BUDGET = 100_000
SEED_LIMIT = 2**31
HASH_MULTIPLIER, HASH_MODULUS = 1103515245, 2147483647


def draws(seed: int, low: int, high: int, limit: int) -> Iterator[int]:
    """Up to ``limit`` distinct ids of ``[low, high]`` in a seeded uniformly random order: a shuffle of the range
    when it is small, else draws that skip repeats (at most half the range is ever drawn, so few are skipped)."""
    rng, span = random.Random(seed), high - low + 1
    if span <= 2 * limit:
        order = list(range(low, high + 1))
        rng.shuffle(order)
        yield from order[:limit]
        return
    seen: set[int] = set()
    while len(seen) < limit:
        value = low + rng.randrange(span)
        if value not in seen:
            seen.add(value)
            yield value


async def _probe(session: AsyncSession, viewer: Viewer, size: int, seed: int) -> list[tuple[int, str]] | None:
    """The sample by id probes, or None when the region is too sparse in the id range for the budget."""
    r = ServiceRecord
    ends = select(
        select(func.min(col(r.id))).scalar_subquery(), select(func.max(col(r.id))).scalar_subquery()
    )
    low, high = (await session.execute(ends)).one()  # two subqueries: each end is one index probe
    if low is None or high is None:
        return []
    low, high = int(low), int(high)
    budget = min(high - low + 1, PROBE_BUDGET)
    order = draws(seed, low, high, budget)
    picked: list[tuple[int, str]] = []
    probed = 0
    while probed < budget:
        batch = list(itertools.islice(order, PROBE_BATCH))
        statement: Any = select(col(r.id), col(r.region_code)).where(
            col(r.id).in_(batch), col(r.status) == RecordStatus.CONFIRMED
        )
        found = {int(i): str(code) for i, code in (await session.execute(scope(statement, r, viewer))).all()}
        picked += [(i, found[i]) for i in batch if i in found]
        probed += len(batch)
        if len(picked) >= size or probed == high - low + 1:
            return picked[:size]
        rate = len(picked) / probed
        if rate == 0 or (size - len(picked)) / rate > budget - probed:
            return None
    return None


async def _hash_order(session: AsyncSession, viewer: Viewer, size: int, seed: int) -> list[tuple[int, str]]:
    r = ServiceRecord
    key = (col(r.id) * HASH_MULTIPLIER + seed) % HASH_MODULUS
    confirmed = (
        col(r.status).concat("") == RecordStatus.CONFIRMED.value
    )  # lead with the region index, not status
    statement: Any = select(col(r.id), col(r.region_code)).where(confirmed)
    statement = scope(statement, r, viewer).order_by(key, col(r.id)).limit(size)
    return [(int(i), str(code)) for i, code in (await session.execute(statement)).all()]


async def sample_records(
    session: AsyncSession, viewer: Viewer, size: int, seed: int
) -> list[tuple[int, str]]:
    """``size`` CONFIRMED records (id, region) inside ``viewer``'s scope, uniformly, deterministic per seed."""
    probed = await _probe(session, viewer, size, seed)
    return probed if probed is not None else await _hash_order(session, viewer, size, seed)


async def create_spot_check(
    services: Supervisor, viewer: Viewer, region_code: str, size: int, seed: int | None, request_id: str
) -> SpotCheck:
    if not 1 <= size <= MAX_SAMPLE:
        raise AppError("BAD_USER_INPUT", key="SAMPLE_SIZE", field="size", max=MAX_SAMPLE)
    if seed is not None and not 0 <= seed < SEED_LIMIT:
        raise AppError("BAD_USER_INPUT", key="SEED_RANGE", field="seed")
    target = region_viewer(viewer, region_code)
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    assert viewer.account_id is not None
    async with services.sessions() as session:  # drawn on a read session: no write lock while probing
        sample = await sample_records(session, target, size, seed)
    if not sample:
        raise AppError("INVALID_STATE", key="NO_RECORDS_TO_SAMPLE", field="regionCode")
    async with services.writes() as session, session.begin():
        check = SpotCheck(
            region_code=region_code, created_by_id=viewer.account_id, sample_size=size, seed=seed
        )
        session.add(check)
        await session.flush()
        items = [
            {"spot_check_id": check.id, "record_id": i, "region_code": code, "draw": n, "note": ""}
            for n, (i, code) in enumerate(sample)
        ]
        await session.execute(insert(SpotCheckItem).values(items))
        detail = {"size": size, "seed": seed, "drawn": len(sample)}
        session.add(audit_event(viewer, "SPOT_CHECK_CREATED", check, request_id, detail))
    return check


async def _own_draft(session: AsyncSession, viewer: Viewer, spot_check_id: int, field: str) -> SpotCheck:
    """The viewer's DRAFT spot check, locked: NOT_FOUND, FORBIDDEN (another's), INVALID_STATE (published)."""
    statement = scope(select(SpotCheck).where(col(SpotCheck.id) == spot_check_id), SpotCheck, viewer)
    check = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if check is None:
        raise AppError("NOT_FOUND", field=field)
    if check.created_by_id != viewer.account_id:
        raise AppError("FORBIDDEN", field=field)
    if check.status != SpotCheckStatus.DRAFT:
        raise AppError("INVALID_STATE", key="SPOT_CHECK_PUBLISHED", field=field)
    return check


async def record_finding(
    services: Supervisor, viewer: Viewer, item_id: int, finding: SpotCheckFinding, note: str
) -> SpotCheckItem:
    text = note.strip()
    if finding != SpotCheckFinding.OK and not text:
        raise AppError("BAD_USER_INPUT", key="NOTE_REQUIRED", field="note")
    if len(text) > NOTE_MAX:
        raise AppError("BAD_USER_INPUT", key="NOTE_TOO_LONG", field="note", max=NOTE_MAX)
    async with services.writes() as session, session.begin():
        statement = scope(
            select(SpotCheckItem).where(col(SpotCheckItem.id) == item_id), SpotCheckItem, viewer
        )
        item = (await session.execute(statement.with_for_update())).scalar_one_or_none()
        if item is None:
            raise AppError("NOT_FOUND", field="itemId")
        await _own_draft(session, viewer, item.spot_check_id, "itemId")
        item.finding, item.note = finding, text
        item.checked_by_id, item.checked_at = viewer.account_id, utcnow()
    return item


async def publish_spot_check(
    services: Supervisor, viewer: Viewer, spot_check_id: int, request_id: str
) -> SpotCheck:
    async with services.writes() as session, session.begin():
        check = await _own_draft(session, viewer, spot_check_id, "spotCheckId")
        rows = await session.execute(
            select(col(SpotCheckItem.finding), func.count())
            .where(col(SpotCheckItem.spot_check_id) == spot_check_id)
            .group_by(col(SpotCheckItem.finding))
        )
        counts: Counter[Any] = Counter(dict(rows.all()))
        unchecked = counts.pop(None, 0)
        if unchecked:
            raise AppError(
                "INVALID_STATE", key="SPOT_CHECK_INCOMPLETE", field="spotCheckId", unchecked=unchecked
            )
        check.status, check.published_at = SpotCheckStatus.PUBLISHED, utcnow()
        check.summary = {str(finding): int(n) for finding, n in sorted(counts.items())}
        session.add(audit_event(viewer, "SPOT_CHECK_PUBLISHED", check, request_id, dict(check.summary)))
    return check
