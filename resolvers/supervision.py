"""Supervision rules (监督规则): set-based SQL over a jurisdiction, raising alerts for its admins.

Each rule is ONE statement per pass (``GROUP BY``/``HAVING``, window functions, correlated aggregates), run
through ``scope()`` for the jurisdiction, and yields findings about subjects; findings become
``supervision_alert`` rows keyed by (rule, subject kind, subject id, period key), so a rerun finds the same
rows and only moves their ``last_seen`` — it never duplicates them, never reopens a handled one. The insert is
``ON CONFLICT DO NOTHING`` on that key, so two passes at once (two workers, cron and a click) stay correct.

The rules (thresholds in settings.py, ``supervision_*``; "live" records are PENDING or CONFIRMED):

* ``DAILY_HOURS_EXCEEDED`` (HIGH, per record): a volunteer's live records of one day add up to more than 24 h.
* ``OVERLAPPING_RECORDS`` (HIGH, per record): a live record starts before an earlier-starting live record of
  the same volunteer ends (a running ``MAX(ended_at)`` over the volunteer's records ordered by start, so a
  long record overlapping several later ones is caught, not just neighbours as ``LAG`` would).
* ``MISSING_ATTENDANCE`` (MEDIUM, per record): a live record of a project that requires attendance has none.
* ``HOURS_SPIKE`` (MEDIUM, per team and ISO week): the team's live hours of the last 7 days exceed both
  ``supervision_spike_factor`` × its weekly mean over the 8 weeks before and ``supervision_spike_floor_hours``.
* ``CERTIFICATE_HOURS_EXCEEDED`` (HIGH, per certificate): an ISSUED certificate states more hours than the
  CONFIRMED records of its volunteer, team and period now hold (e.g. after a correction lowered them).
* ``TEAM_INACTIVE`` (LOW, per team and last active day): an approved, active team older than
  ``supervision_inactive_months`` with no live record in that many months.

The record rules look at ``supervision_lookback_days`` of service dates; certificates issued in the last
``supervision_certificate_days``. The daily and overlap rules sum and compare over ALL the volunteer's records
(any team, any region) of the volunteers who have a record in the jurisdiction, and raise alerts on the
records inside it: each region's admins see the records their teams made. An alert's region is its subject's
region (the recording team's, the team's, the issuing team's), so every admin whose jurisdiction contains it
sees it through ``scope()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Select, and_, case, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.jurisdiction import REGION_CODE
from auth.scope import scope, visibility
from auth.viewer import Grant, Viewer
from models import Certificate, Project, ServiceRecord, SupervisionAlert, Team
from models.columns import utcnow
from models.db import SessionFactory
from models.enums import CertificateStatus, RecordStatus, Role, TeamStatus, TeamVerification
from models.kv import KeyValueStore
from models.supervision import AlertRule, AlertSeverity, AlertStatus, AlertSubject
from resolvers.audit import audit_event
from resolvers.record_rules import DAY_LIMIT, LIVE, china_day
from schema.errors import AppError
from settings import Settings

log = logging.getLogger("zhiyuan.supervision")
CHUNK = 500
"""Findings stored per transaction (and per multi-row INSERT: 500 × 12 parameters)."""
EPSILON = Decimal("0.005")
"""Hours are two-decimal; SQLite sums them as floating point, so comparisons allow half a cent."""
SPIKE_WEEKS = 8
SYSTEM = Viewer(account_id=0, username="system", grants=(Grant(Role.MINISTRY_ADMIN),))
"""The scheduled national pass: the ministry's scope. It writes alerts only, no audit events."""
LOCK_KEY = "supervision:pass"


class Supervisor(Protocol):
    """What a pass needs: the app's ``Services``, or ``Jobs`` for the command line."""

    settings: Settings
    sessions: SessionFactory
    writes: SessionFactory


@dataclass
class Jobs:
    settings: Settings
    sessions: SessionFactory
    writes: SessionFactory


@dataclass(frozen=True)
class Window:
    """The dates one pass looks at, from China's today."""

    today: date
    since: date
    spike_start: date
    baseline_start: date
    inactive_since: date
    certificates_since: datetime
    spike_factor: Decimal
    spike_floor: Decimal

    @classmethod
    def of(cls, settings: Settings, today: date) -> Window:
        spike_start = today - timedelta(days=6)
        return cls(
            today=today,
            since=today - timedelta(days=settings.supervision_lookback_days),
            spike_start=spike_start,
            baseline_start=spike_start - timedelta(weeks=SPIKE_WEEKS),
            inactive_since=months_before(today, settings.supervision_inactive_months),
            certificates_since=datetime.combine(
                today - timedelta(days=settings.supervision_certificate_days), datetime.min.time(), UTC
            ),
            spike_factor=Decimal(str(settings.supervision_spike_factor)),
            spike_floor=Decimal(settings.supervision_spike_floor_hours),
        )

    @property
    def week(self) -> str:
        year, week, _ = self.today.isocalendar()
        return f"{year}-W{week:02d}"


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Finding:
    subject_id: int
    region_code: str
    period_key: str
    details: dict[str, Any]


@dataclass
class RuleCount:
    rule: AlertRule
    found: int = 0
    new: int = 0
    already_open: int = 0
    already_handled: int = 0


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _details(**values: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in values.items()}


# --- the rules: one statement each ----------------------------------------------------------------------

R = ServiceRecord


def live() -> Any:
    """``status IN (live)`` written so that no planner leads with the coarse status index: ``status || ''``
    keeps SQLite (which has no statistics unless ANALYZE ran) on the date, region or key index."""
    return col(R.status).concat("").in_([s.value for s in LIVE])


def _record_window(w: Window, first: date | None = None) -> list[Any]:
    return [live(), col(R.service_date).between(first or w.since, w.today)]


def _their_volunteers(viewer: Viewer, where: list[Any]) -> list[Any]:
    """Restrict a per-volunteer window to the volunteers with a live record in the jurisdiction (all their
    records take part, wherever recorded); nothing to add for the national pass."""
    if visibility(R, viewer) is None:
        return []
    mine = scope(select(col(R.volunteer_id)).where(*where), R, viewer).correlate(None)
    return [col(R.volunteer_id).in_(mine)]


def _daily(viewer: Viewer, w: Window) -> Select[Any]:
    where = _record_window(w)
    day = (col(R.volunteer_id), col(R.service_date))
    inner: Any = select(
        col(R.id).label("rid"),
        func.sum(col(R.hours)).over(partition_by=day).label("total"),
        func.count().over(partition_by=day).label("n"),
    ).where(*where, *_their_volunteers(viewer, where))
    sub = inner.subquery("day_totals")
    statement = (
        select(col(R.id), col(R.region_code), col(R.volunteer_id), col(R.service_date), col(R.hours))
        .add_columns(sub.c.total, sub.c.n)
        .join(sub, sub.c.rid == col(R.id))
        .where(sub.c.total > DAY_LIMIT + EPSILON)
    )
    return scope(statement, R, viewer)


def _daily_finding(row: Any, w: Window) -> Finding:
    details = _details(
        volunteerId=row.volunteer_id,
        serviceDate=row.service_date,
        hours=row.hours,
        dayTotal=row.total,
        dayRecords=row.n,
        limit=DAY_LIMIT,
    )
    return Finding(row.id, row.region_code, "", details)


def _overlaps(viewer: Viewer, w: Window) -> Select[Any]:
    where = [
        *_record_window(w, w.since - timedelta(days=1)),  # a record may start the evening before
        col(R.started_at).is_not(None),
        col(R.ended_at).is_not(None),
    ]
    earlier_end = func.max(col(R.ended_at)).over(
        partition_by=col(R.volunteer_id), order_by=(col(R.started_at), col(R.id)), rows=(None, -1)
    )
    inner: Any = select(col(R.id).label("rid"), earlier_end.label("earlier_end")).where(
        *where, *_their_volunteers(viewer, where)
    )
    sub = inner.subquery("running_end")
    statement = (
        select(col(R.id), col(R.region_code), col(R.volunteer_id), col(R.service_date))
        .add_columns(col(R.started_at), col(R.ended_at), sub.c.earlier_end)
        .join(sub, sub.c.rid == col(R.id))
        .where(sub.c.earlier_end > col(R.started_at), col(R.service_date) >= w.since)
    )
    return scope(statement, R, viewer)


def _overlap_finding(row: Any, w: Window) -> Finding:
    details = _details(
        volunteerId=row.volunteer_id,
        serviceDate=row.service_date,
        startedAt=row.started_at,
        endedAt=row.ended_at,
        earlierRecordEndsAt=row.earlier_end,
    )
    return Finding(row.id, row.region_code, "", details)


def _missing_attendance(viewer: Viewer, w: Window) -> Select[Any]:
    statement = (
        select(col(R.id), col(R.region_code), col(R.volunteer_id), col(R.project_id), col(R.provenance))
        .add_columns(col(R.service_date), col(R.hours))
        .join(Project, col(Project.id) == col(R.project_id))
        .where(
            *_record_window(w),
            (col(R.attendance_id) + 0).is_(None),  # "+ 0": most rows have none; lead with the date index
            col(Project.requires_attendance) == true(),
        )
    )
    return scope(statement, R, viewer)


def _missing_finding(row: Any, w: Window) -> Finding:
    details = _details(
        volunteerId=row.volunteer_id,
        projectId=row.project_id,
        provenance=str(row.provenance),
        serviceDate=row.service_date,
        hours=row.hours,
    )
    return Finding(row.id, row.region_code, "", details)


def _spikes(viewer: Viewer, w: Window) -> Select[Any]:
    recent = func.sum(case((col(R.service_date) >= w.spike_start, col(R.hours)), else_=0))
    baseline = func.sum(case((col(R.service_date) < w.spike_start, col(R.hours)), else_=0))
    statement = (
        select(col(R.team_id), func.min(col(R.region_code)).label("region_code"))
        .add_columns(recent.label("recent"), baseline.label("baseline"))
        .where(*_record_window(w, w.baseline_start))
        .group_by(col(R.team_id))
        .having(
            and_(
                recent > w.spike_floor,
                recent * SPIKE_WEEKS > baseline * w.spike_factor + EPSILON,
            )
        )
    )
    return scope(statement, R, viewer)


def _spike_finding(row: Any, w: Window) -> Finding:
    mean = Decimal(str(row.baseline or 0)) / SPIKE_WEEKS
    details = _details(
        teamId=row.team_id,
        from_=w.spike_start,
        to=w.today,
        recentHours=row.recent,
        weeklyMean=mean,
        factor=w.spike_factor,
        floorHours=w.spike_floor,
    )
    details["from"] = details.pop("from_")
    return Finding(row.team_id, row.region_code, w.week, details)


def _certificates(viewer: Viewer, w: Window) -> Select[Any]:
    c = Certificate
    recorded = (
        select(func.coalesce(func.sum(col(R.hours)), 0))
        .where(
            col(R.volunteer_id) == col(c.volunteer_id),
            col(R.team_id) + 0
            == col(c.team_id),  # "+ 0": look the records up by volunteer, the narrower index
            col(R.status) == RecordStatus.CONFIRMED,
            col(R.service_date).between(col(c.period_start), col(c.period_end)),
        )
        .scalar_subquery()
    )
    issued = (
        select(col(c.id), col(c.region_code), col(c.number), col(c.volunteer_id), col(c.team_id))
        .add_columns(col(c.total_hours), recorded.label("recorded"))
        .where(col(c.status) == CertificateStatus.ISSUED, col(c.issued_at) >= w.certificates_since)
    )
    sub = scope(issued, c, viewer).subquery("issued")
    return select(sub).where(sub.c.total_hours > sub.c.recorded + EPSILON)


def _certificate_finding(row: Any, w: Window) -> Finding:
    details = _details(
        number=row.number,
        volunteerId=row.volunteer_id,
        teamId=row.team_id,
        certifiedHours=row.total_hours,
        recordedHours=row.recorded,
    )
    return Finding(row.id, row.region_code, "", details)


def _inactive(viewer: Viewer, w: Window) -> Select[Any]:
    """Teams without a live record since the cutoff (the recent records' team ids: one range on the service
    date index), then the last active day of those teams only."""
    recent = select(col(R.team_id)).where(col(R.service_date) >= w.inactive_since, live())
    created_before = datetime.combine(w.inactive_since, datetime.min.time(), UTC)
    teams: Any = select(col(Team.id), col(Team.region_code)).where(
        col(Team.status) == TeamStatus.ACTIVE,
        col(Team.verification_status) == TeamVerification.APPROVED,
        col(Team.created_at) < created_before,
        col(Team.id).not_in(recent),
    )
    sub = scope(teams, Team, viewer).subquery("silent")
    last = (
        select(func.max(col(R.service_date)))
        .where(col(R.team_id) == sub.c.id, col(R.status).in_(LIVE))
        .scalar_subquery()
    )
    return select(sub.c.id, sub.c.region_code, last.label("last_day"))


def _inactive_finding(row: Any, w: Window) -> Finding:
    last: date | None = row.last_day
    details = _details(lastServiceDate=last, inactiveSince=w.inactive_since)
    return Finding(row.id, row.region_code, last.isoformat() if last else "never", details)


@dataclass(frozen=True)
class RuleSpec:
    severity: AlertSeverity
    subject: AlertSubject
    statement: Callable[[Viewer, Window], Select[Any]]
    finding: Callable[[Any, Window], Finding]


RULES: dict[AlertRule, RuleSpec] = {
    AlertRule.DAILY_HOURS_EXCEEDED: RuleSpec(AlertSeverity.HIGH, AlertSubject.RECORD, _daily, _daily_finding),
    AlertRule.OVERLAPPING_RECORDS: RuleSpec(
        AlertSeverity.HIGH, AlertSubject.RECORD, _overlaps, _overlap_finding
    ),
    AlertRule.MISSING_ATTENDANCE: RuleSpec(
        AlertSeverity.MEDIUM, AlertSubject.RECORD, _missing_attendance, _missing_finding
    ),
    AlertRule.HOURS_SPIKE: RuleSpec(AlertSeverity.MEDIUM, AlertSubject.TEAM, _spikes, _spike_finding),
    AlertRule.CERTIFICATE_HOURS_EXCEEDED: RuleSpec(
        AlertSeverity.HIGH, AlertSubject.CERTIFICATE, _certificates, _certificate_finding
    ),
    AlertRule.TEAM_INACTIVE: RuleSpec(AlertSeverity.LOW, AlertSubject.TEAM, _inactive, _inactive_finding),
}


# --- storing findings -----------------------------------------------------------------------------------


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _store_chunk(
    session: AsyncSession, rule: AlertRule, spec: RuleSpec, chunk: Sequence[Finding], now: datetime
) -> RuleCount:
    a = SupervisionAlert
    count = RuleCount(rule)
    known = select(col(a.id), col(a.subject_id), col(a.period_key), col(a.status)).where(
        col(a.rule) == rule,
        col(a.subject_kind) == spec.subject,
        col(a.subject_id).in_(sorted({f.subject_id for f in chunk})),
    )
    existing: dict[tuple[int, str], tuple[int, str]] = {
        (s, k): (int(i or 0), st) for i, s, k, st in (await session.execute(known)).all()
    }
    fresh = [f for f in chunk if (f.subject_id, f.period_key) not in existing]
    seen = [existing[(f.subject_id, f.period_key)] for f in chunk if (f.subject_id, f.period_key) in existing]
    if fresh:
        rows = [
            {
                "rule": rule.value,
                "severity": spec.severity.value,
                "region_code": f.region_code,
                "subject_kind": spec.subject.value,
                "subject_id": f.subject_id,
                "period_key": f.period_key,
                "details": f.details,
                "status": AlertStatus.OPEN.value,
                "first_seen": now,
                "last_seen": now,
            }
            for f in fresh
        ]
        statement = (
            _insert(session)(SupervisionAlert)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["rule", "subject_kind", "subject_id", "period_key"])
        )
        inserted = int((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
        count.new += inserted
        count.already_open += len(fresh) - inserted  # raised by a concurrent pass a moment ago
    if seen:
        ids = sorted(i for i, _ in seen)
        await session.execute(update(a).where(col(a.id).in_(ids)).values(last_seen=now))
        count.already_handled += sum(1 for _, st in seen if st == AlertStatus.HANDLED)
        count.already_open += sum(1 for _, st in seen if st != AlertStatus.HANDLED)
    return count


async def run_rules(
    services: Supervisor,
    viewer: Viewer,
    rules: Sequence[AlertRule] | None = None,
    today: date | None = None,
) -> list[RuleCount]:
    """One pass of ``rules`` (all by default) over ``viewer``'s jurisdiction: per rule, one read statement,
    then per chunk of findings one lookup, one INSERT and one UPDATE in a short write transaction."""
    window = Window.of(services.settings, today or china_day(utcnow()))
    now = utcnow()
    results: list[RuleCount] = []
    for rule in rules or list(AlertRule):
        spec = RULES[rule]
        async with services.sessions() as session:
            rows = (await session.execute(spec.statement(viewer, window))).all()
        findings = list(
            {(f.subject_id, f.period_key): f for f in (spec.finding(r, window) for r in rows)}.values()
        )
        total = RuleCount(rule, found=len(findings))
        for start in range(0, len(findings), CHUNK):
            async with services.writes() as session, session.begin():
                part = await _store_chunk(session, rule, spec, findings[start : start + CHUNK], now)
            total.new += part.new
            total.already_open += part.already_open
            total.already_handled += part.already_handled
        results.append(total)
    return results


# --- entry points ---------------------------------------------------------------------------------------


def region_viewer(viewer: Viewer, region_code: str | None, field: str = "regionCode") -> Viewer:
    """``viewer`` narrowed to ``region_code``'s subtree (BAD_USER_INPUT / OUT_OF_JURISDICTION), or itself."""
    if region_code is None:
        return viewer
    if not REGION_CODE.match(region_code):
        raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field=field)
    if not viewer.administers_region(region_code):
        raise AppError("OUT_OF_JURISDICTION", field=field)
    return Viewer(viewer.account_id, viewer.username, grants=(Grant(Role.REGION_ADMIN, region_code),))


@dataclass
class RunResult:
    counts: list[RuleCount] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(c.new for c in self.counts)


async def run_supervision(
    services: Supervisor,
    viewer: Viewer,
    region_code: str | None,
    rules: Sequence[AlertRule] | None,
    request_id: str,
) -> RunResult:
    """``runSupervision``: a region admin's pass over its jurisdiction (or a region inside it), audited."""
    if rules is not None and not rules:
        raise AppError("BAD_USER_INPUT", key="RULES_EMPTY", field="rules")
    target = region_viewer(viewer, region_code)
    result = RunResult(await run_rules(services, target, list(dict.fromkeys(rules)) if rules else None))
    where = region_code or (
        viewer.region_prefixes[0].ljust(12, "0") if len(viewer.region_prefixes) == 1 else None
    )
    detail = {c.rule.value: {"found": c.found, "new": c.new} for c in result.counts}
    event = audit_event(viewer, "SUPERVISION_RUN", None, request_id, detail, subject="SupervisionRun")
    event.region_code = where
    async with services.writes() as session, session.begin():
        session.add(event)
    return result


async def handle_alert(
    services: Supervisor, viewer: Viewer, alert_id: int, note: str, request_id: str
) -> SupervisionAlert:
    """Mark an OPEN alert of the viewer's jurisdiction HANDLED with a note (NOTE_REQUIRED, NOTE_TOO_LONG,
    NOT_FOUND, INVALID_STATE ALERT_ALREADY_HANDLED); audited."""
    text = note.strip()
    if not text:
        raise AppError("BAD_USER_INPUT", key="NOTE_REQUIRED", field="note")
    if len(text) > NOTE_MAX:
        raise AppError("BAD_USER_INPUT", key="NOTE_TOO_LONG", field="note", max=NOTE_MAX)
    a = SupervisionAlert
    async with services.writes() as session, session.begin():
        statement = scope(select(a).where(col(a.id) == alert_id), a, viewer).with_for_update()
        alert = (await session.execute(statement)).scalar_one_or_none()
        if alert is None:
            raise AppError("NOT_FOUND", field="alertId")
        if alert.status == AlertStatus.HANDLED:
            raise AppError("INVALID_STATE", key="ALERT_ALREADY_HANDLED", field="alertId")
        alert.status, alert.note = AlertStatus.HANDLED, text
        alert.handled_by_id, alert.handled_at = viewer.account_id, utcnow()
        detail = {"rule": alert.rule, "subject": f"{alert.subject_kind}:{alert.subject_id}", "note": text}
        session.add(audit_event(viewer, "SUPERVISION_ALERT_HANDLED", alert, request_id, detail))
    return alert


NOTE_MAX = 500


async def supervise_forever(services: Supervisor, kv: KeyValueStore, interval_minutes: int) -> None:
    """The in-process scheduler: a national pass every ``interval_minutes``, by one worker per interval (the
    first to take the shared lock in ``kv``; with Redis that holds across processes and hosts). Errors are
    logged, never fatal; the unique key keeps overlapping passes harmless anyway."""
    if interval_minutes <= 0:
        raise ValueError("interval must be positive (0 means: do not start the scheduler)")
    seconds = interval_minutes * 60
    while True:
        try:
            if await kv.incr(LOCK_KEY, max(30, seconds - 30)) == 1:
                counts = await run_rules(services, SYSTEM)
                log.info("supervision pass: %s", {c.rule.value: (c.found, c.new) for c in counts})
        except Exception:
            log.exception("supervision pass failed")
        await asyncio.sleep(seconds)
