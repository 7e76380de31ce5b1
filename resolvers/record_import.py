"""Bulk import of service records from CSV (批量导入): paper and spreadsheet records entered into the system.

The file has a header naming the columns ``volunteer_number, service_date, started_at, ended_at, hours,
content`` (any order, case-insensitive; ``content`` may be left out) and at most ``MAX_ROWS`` rows. Times are ISO
date-times or ``HH:MM`` on the row's service date, China time unless they carry an offset.

Every row is checked like ``recordService`` — the volunteer (by number) has an ACCEPTED sign-up for the project
or is a JOINED member of the team, the times lie in the project window and not in the future, the hours keep
the record rules — against the database *and* the rows accepted before it in the same file.

**Partial import, decided:** the valid rows are written in one transaction and the invalid ones come back in
the report, line by line; a file is not refused as a whole for one bad row. A corrected file can be sent again:
rows already imported are refused as OVERLAPPING_RECORD rather than written twice. Problems with the file
itself (no header, a missing column, too many rows) refuse the whole call and write nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.viewer import Viewer
from models import Project, Volunteer
from models.columns import utcnow
from models.enums import RecordProvenance
from resolvers.record_rules import (
    Entry,
    Ledger,
    check_content,
    check_hours,
    check_times,
    from_client,
    lock_volunteers,
    participants,
)
from resolvers.records import audit, new_row, organised_project
from schema.context import Services
from schema.errors import AppError

COLUMNS = ("volunteer_number", "service_date", "started_at", "ended_at", "hours", "content")
REQUIRED = COLUMNS[:5]
MAX_ROWS = 5000
MAX_CHARS = 1_000_000


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]
    complete: bool
    """Has as many cells as the header."""

    @property
    def number(self) -> str:
        return self.values.get("volunteer_number", "")


@dataclass(frozen=True)
class Rejection:
    line: int
    volunteer_number: str
    code: str


@dataclass
class ImportReport:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def parse_csv(text: str) -> list[Row]:
    """The data rows, keyed by lower-case column name; CSV_* errors for the file as a whole."""
    if len(text) > MAX_CHARS:
        raise AppError("BAD_USER_INPUT", key="CSV_TOO_LARGE", field="csv", max=MAX_CHARS)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise AppError("BAD_USER_INPUT", key="CSV_HEADER", field="csv", columns=", ".join(REQUIRED)) from None
    if any(name not in header for name in REQUIRED) or len(set(header)) != len(header):
        raise AppError("BAD_USER_INPUT", key="CSV_HEADER", field="csv", columns=", ".join(REQUIRED))
    rows: list[Row] = []
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise AppError("BAD_USER_INPUT", key="CSV_TOO_MANY_ROWS", field="csv", max=MAX_ROWS)
            values = dict(zip(header, (c.strip() for c in cells), strict=False))
            rows.append(Row(start, values, len(cells) == len(header)))
    except csv.Error:
        raise AppError("BAD_USER_INPUT", key="CSV_FORMAT", field="csv", line=line + 1) from None
    return rows


def _moment(value: str, day: date, column: str) -> datetime:
    try:
        if len(value) <= 8 and ":" in value:
            return from_client(datetime.combine(day, time.fromisoformat(value)))
        return from_client(datetime.fromisoformat(value))
    except ValueError:
        raise AppError("BAD_USER_INPUT", key="TIME_FORMAT", field=column) from None


def _entry(row: Row, volunteer_id: int, project: Project, now: datetime) -> tuple[Entry, str]:
    values = row.values
    if not row.complete:
        raise AppError("BAD_USER_INPUT", key="CSV_COLUMN_COUNT")
    try:
        day = date.fromisoformat(values["service_date"])
    except ValueError:
        raise AppError("BAD_USER_INPUT", key="DATE_FORMAT", field="service_date") from None
    started = _moment(values["started_at"], day, "started_at")
    ended = _moment(values["ended_at"], day, "ended_at")
    hours = check_hours(values["hours"])
    check_times(project, day, started, ended, hours, now)
    content = check_content(values.get("content", ""), project.name)
    return Entry(volunteer_id, day, started, ended, hours), content


async def _volunteers(session: AsyncSession, numbers: set[str]) -> dict[str, int]:
    """Volunteer ids by number. Not scoped: numbers are public identifiers; participation is checked next."""
    found: dict[str, int] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        statement = select(col(Volunteer.volunteer_number), col(Volunteer.id)).where(
            col(Volunteer.volunteer_number).in_(chunk)
        )
        found.update({n: v for n, v in (await session.execute(statement)).all() if v is not None})
    return found


def _days(rows: list[Row]) -> Iterator[date]:
    for row in rows:
        try:
            yield date.fromisoformat(row.values.get("service_date", ""))
        except ValueError:
            continue


async def import_records(
    services: Services, viewer: Viewer, project_id: int, text: str, request_id: str
) -> ImportReport:
    rows = parse_csv(text)
    report = ImportReport()
    now = utcnow()
    async with services.writes() as session, session.begin():
        project = await organised_project(session, services, viewer, project_id)
        ids = await _volunteers(session, {r.number for r in rows if r.number})
        allowed = await participants(session, project, set(ids.values()))
        await lock_volunteers(session, allowed)
        days = list(_days(rows)) or [now.date()]
        ledger = await Ledger.load(session, allowed, min(days), max(days))
        for row in rows:
            try:
                volunteer_id = ids.get(row.number)
                if volunteer_id is None:
                    raise AppError("BAD_USER_INPUT", key="UNKNOWN_VOLUNTEER", field="volunteer_number")
                if volunteer_id not in allowed:
                    raise AppError("BAD_USER_INPUT", key="NOT_A_PARTICIPANT", field="volunteer_number")
                entry, content = _entry(row, volunteer_id, project, now)
                ledger.check(entry)
            except AppError as error:
                report.rejected.append(Rejection(row.line, row.number, error.key))
                continue
            ledger.add(entry)
            session.add(
                new_row(project, entry, content, RecordProvenance.BULK_IMPORT, recorder_id=viewer.account_id)
            )
            report.accepted += 1
        session.add(
            audit(
                viewer,
                "RECORDS_IMPORTED",
                "Project",
                project,
                request_id,
                accepted=report.accepted,
                rejected=len(report.rejected),
            )
        )
    return report
