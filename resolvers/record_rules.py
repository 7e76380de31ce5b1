"""The rules every live service record keeps, shared by attendance, manual recording, corrections and CSV import.

A record is *live* while it counts or may count: PENDING or CONFIRMED (VOIDED and DECLINED rows stay in the
table as history but take part in no rule). For each volunteer, over the live records of every team:

* ``0 < hours ≤ 24`` with at most two decimals, and ``hours ≤`` the span ``started_at``–``ended_at`` (rounded
  half-up to two decimals);
* no two records overlap in time (OVERLAPPING_RECORD); records without times (legacy rows) overlap nothing;
* at most 24 hours per calendar day (DAILY_LIMIT_EXCEEDED), summed by ``service_date``.

Calendar days are China's (UTC+8, no daylight saving): ``service_date`` is the local date of ``started_at``.
Times from clients without an offset are China time; the database keeps UTC (SQLite returns it naive).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Post, Project, ServiceRecord, SignUp, TeamMembership, Volunteer
from models.enums import MembershipStatus, RecordStatus, SignUpStatus
from schema.errors import AppError

CHINA = timezone(timedelta(hours=8), "CST")
CENT = Decimal("0.01")
DAY_LIMIT = Decimal(24)
LIVE = (RecordStatus.PENDING, RecordStatus.CONFIRMED)
CONTENT_MAX = 500
REASON_MAX = 500


def from_db(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands them back naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_client(moment: datetime) -> datetime:
    """A client's time in UTC; without an offset it is China time."""
    return (moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment).astimezone(UTC)


def china_day(moment: datetime) -> date:
    return from_db(moment).astimezone(CHINA).date()


def span_hours(start: datetime, end: datetime) -> Decimal:
    seconds = Decimal(str((end - start).total_seconds()))
    return (seconds / 3600).quantize(CENT, rounding=ROUND_HALF_UP)


def check_hours(value: Decimal | str, field: str = "hours") -> Decimal:
    """HOURS_FORMAT, HOURS_RANGE (0 < h ≤ 24) or HOURS_PRECISION (more than two decimals)."""
    try:
        hours = value if isinstance(value, Decimal) else Decimal(value.strip())
    except InvalidOperation:
        raise AppError("BAD_USER_INPUT", key="HOURS_FORMAT", field=field) from None
    if not hours.is_finite():
        raise AppError("BAD_USER_INPUT", key="HOURS_FORMAT", field=field)
    if not Decimal(0) < hours <= DAY_LIMIT:
        raise AppError("BAD_USER_INPUT", key="HOURS_RANGE", field=field)
    if hours.quantize(CENT) != hours:
        raise AppError("BAD_USER_INPUT", key="HOURS_PRECISION", field=field)
    return hours.quantize(CENT)


def check_reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field=field)
    return text[:REASON_MAX]


def check_content(content: str, default: str) -> str:
    text = content.strip() or default
    if len(text) > CONTENT_MAX:
        raise AppError("BAD_USER_INPUT", key="CONTENT_TOO_LONG", field="content", max=CONTENT_MAX)
    return text[:CONTENT_MAX]


def service_window(project: Project, post: Post | None = None) -> tuple[datetime, datetime]:
    """The shift's times where the post has them, else the project's."""
    start = post.starts_at if post is not None and post.starts_at is not None else project.starts_at
    end = post.ends_at if post is not None and post.ends_at is not None else project.ends_at
    return from_db(start), from_db(end)


@dataclass(frozen=True)
class Entry:
    """A record's time and hours, validated on their own; the ledger checks them against the others."""

    volunteer_id: int
    service_date: date
    started_at: datetime | None
    ended_at: datetime | None
    hours: Decimal


def check_times(
    project: Project | None,
    service_date: date | None,
    started_at: datetime,
    ended_at: datetime,
    hours: Decimal,
    now: datetime,
) -> date:
    """The record's times against each other, the project window, today and its hours; its service date."""
    if ended_at <= started_at:
        raise AppError("BAD_USER_INPUT", key="TIME_ORDER", field="endedAt")
    if ended_at > now:
        raise AppError("BAD_USER_INPUT", key="FUTURE_TIME", field="endedAt")
    if project is not None:
        start, end = service_window(project)
        if started_at < start or ended_at > end:
            raise AppError("BAD_USER_INPUT", key="OUTSIDE_PROJECT_WINDOW", field="startedAt")
    day = china_day(started_at)
    if service_date is not None and service_date != day:
        raise AppError("BAD_USER_INPUT", key="SERVICE_DATE_MISMATCH", field="serviceDate")
    if hours > span_hours(started_at, ended_at):
        raise AppError("BAD_USER_INPUT", key="HOURS_EXCEED_SPAN", field="hours")
    return day


@dataclass
class Ledger:
    """The live records of some volunteers around some days, in memory, to check new ones against."""

    spans: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[tuple[int, date], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        volunteer_ids: set[int],
        first_day: date,
        last_day: date,
        exclude: set[int] | None = None,
    ) -> Ledger:
        """Records from the day before ``first_day`` to the day after ``last_day`` (a record lasts ≤ 24 h)."""
        ledger = cls()
        if not volunteer_ids:
            return ledger
        r = ServiceRecord
        statement = select(
            col(r.id),
            col(r.volunteer_id),
            col(r.service_date),
            col(r.started_at),
            col(r.ended_at),
            col(r.hours),
        ).where(
            col(r.volunteer_id).in_(sorted(volunteer_ids)),
            col(r.status).in_(LIVE),
            col(r.service_date).between(first_day - timedelta(days=1), last_day + timedelta(days=1)),
        )
        for record_id, volunteer_id, day, started, ended, hours in (await session.execute(statement)).all():
            if exclude and record_id in exclude:
                continue
            ledger.add(
                Entry(
                    volunteer_id,
                    day,
                    from_db(started) if started else None,
                    from_db(ended) if ended else None,
                    Decimal(hours),
                )
            )
        return ledger

    def overlaps(self, volunteer_id: int, start: datetime, end: datetime) -> bool:
        return any(s < end and start < e for s, e in self.spans[volunteer_id])

    def room(self, volunteer_id: int, day: date) -> Decimal:
        return DAY_LIMIT - self.totals[(volunteer_id, day)]

    def check(self, entry: Entry) -> None:
        """OVERLAPPING_RECORD or DAILY_LIMIT_EXCEEDED when ``entry`` does not fit."""
        if (
            entry.started_at is not None
            and entry.ended_at is not None
            and self.overlaps(entry.volunteer_id, entry.started_at, entry.ended_at)
        ):
            raise AppError("BAD_USER_INPUT", key="OVERLAPPING_RECORD", field="startedAt")
        if entry.hours > self.room(entry.volunteer_id, entry.service_date):
            raise AppError("BAD_USER_INPUT", key="DAILY_LIMIT_EXCEEDED", field="hours")

    def add(self, entry: Entry) -> None:
        if entry.started_at is not None and entry.ended_at is not None:
            self.spans[entry.volunteer_id].append((entry.started_at, entry.ended_at))
        self.totals[(entry.volunteer_id, entry.service_date)] += entry.hours


async def lock_volunteers(session: AsyncSession, volunteer_ids: set[int]) -> None:
    """Serialise writes per volunteer on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if volunteer_ids:
        statement = select(col(Volunteer.id)).where(col(Volunteer.id).in_(sorted(volunteer_ids)))
        await session.execute(statement.order_by(col(Volunteer.id)).with_for_update())


async def participants(session: AsyncSession, project: Project, volunteer_ids: set[int]) -> set[int]:
    """Who may have hours on ``project``: an ACCEPTED sign-up for it, or a JOINED member of its team."""
    if not volunteer_ids:
        return set()
    ids = sorted(volunteer_ids)
    signed = select(col(SignUp.volunteer_id)).where(
        col(SignUp.project_id) == project.id,
        col(SignUp.status) == SignUpStatus.ACCEPTED,
        col(SignUp.volunteer_id).in_(ids),
    )
    joined = select(col(TeamMembership.volunteer_id)).where(
        col(TeamMembership.team_id) == project.team_id,
        col(TeamMembership.status) == MembershipStatus.JOINED,
        col(TeamMembership.volunteer_id).in_(ids),
    )
    found = set((await session.execute(signed)).scalars()) | set((await session.execute(joined)).scalars())
    return found
