"""Import of the old system's export (``docs/legacy-import.md``): volunteers with their accounts, teams,
memberships and service records, from one JSONL file per entity.

* Every row is validated on its own first (types, enums, ID number check character and birth date, 15-digit
  numbers converted, username format with the migrated ``mz_``/``wm_`` prefixes allowed, password-hash
  format, credit code, hours), then against the database and the earlier rows of its batch (duplicate ID
  numbers, usernames and credit codes; references to teams and volunteers). A rejected row is not written;
  it goes to the report (JSONL) with its file, line, legacy id, a code and a message in which ID numbers and
  phones are masked.
* Rows go in ``batch_size`` at a time, one transaction per batch: the accounts, volunteers, volunteer-number
  blocks, teams and their admin grants of a batch commit together. A batch that fails is rolled back alone,
  counted as failed and listed in the summary and the report; the next batches go on.
* Re-running is safe: a row whose legacy id (for memberships: team and volunteer) is already in the
  database is skipped, so a second run of the same folder writes nothing. A volunteer row whose legacy id is
  known but with another ID number is rejected (LEGACY_ID_CONFLICT) instead.
* Memory does not grow with the files: they are read line by line, and references are resolved with one
  indexed query per batch (legacy id → id) instead of maps kept in memory; only the region codes (about
  45,000) are held for the run.
* Ids come from the database (``INSERT … RETURNING``), so the import can run next to a live service on
  SQLite or PostgreSQL without touching id sequences. Volunteer numbers are reserved in one block per
  county and batch by advancing ``volunteer_number_sequence`` (seeded from the highest number in use), so
  later registrations continue after the imported numbers.
* Order: volunteers → teams (first those without a contact team, then the groups attached to one, so the
  order inside the file does not matter) → memberships → records.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson
from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from sqlalchemy import ColumnElement, Select, Table, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel
from tqdm import tqdm  # type: ignore[import-untyped]

import models  # noqa: F401  (registers every table in SQLModel.metadata)
from auth.passwords import LEGACY_ALGORITHMS, LEGACY_PREFIX, LEGACY_SUFFIX_MARK
from models.columns import utcnow
from models.db import SessionFactory
from models.enums import (
    AccountStatus,
    IdType,
    InviteConsent,
    LegalVerification,
    MemberRole,
    MembershipStatus,
    ProjectCategory,
    RealNameStatus,
    RecordProvenance,
    RecordStatus,
    Role,
    Sex,
    TeamStatus,
    TeamType,
    TeamVerification,
)
from models.identifiers import (
    VOLUNTEER_SEQUENCE_DIGITS,
    IdentifierError,
    make_volunteer_number,
    normalize_resident_id,
    validate_credit_code,
)
from models.pii import PiiCipher
from resolvers.credentials import USERNAME
from resolvers.people import MOBILE, NAME
from resolvers.registration import OTHER_ID

log = logging.getLogger("zhiyuan.legacy_import")

FILES = {
    "volunteers": "volunteers.jsonl",
    "teams": "teams.jsonl",
    "memberships": "memberships.jsonl",
    "records": "records.jsonl",
}
"""Entity → file name inside the export folder, in import order. A missing file counts as empty."""
CHINA = timezone(timedelta(hours=8))
"""Times without an offset are China Standard Time (UTC+8), as the old system wrote them."""
EARLIEST = date(1980, 1, 1)
"""No registration, team or service date before this is plausible."""
LOOKUP_CHUNK = 5000
"""Values per ``IN (…)`` lookup (SQLite and asyncpg both allow 32,766 parameters)."""
SQLITE_CACHE_SIZE = -131_072
"""SQLite page cache while a batch is written (KiB when negative): index pages are written once at commit."""
MAX_CONSECUTIVE_FAILURES = 5
"""After this many failed batches in a row (the database is gone, say) the run stops."""
LEGACY_ID_MAX = 64
_B64 = re.compile(r"[A-Za-z0-9+/]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
BOM = b"\xef\xbb\xbf"

E = TypeVar("E", bound=StrEnum)
Row = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------


@dataclass
class EntityCounts:
    """Rows of one file: every non-blank line is inserted, skipped (already imported), rejected or failed."""

    rows: int = 0
    inserted: int = 0
    skipped: int = 0
    rejected: int = 0
    failed: int = 0
    """Rows of batches that were rolled back: not written, not judged; the next run retries them."""
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchFailure:
    file: str
    first_line: int
    last_line: int
    rows: int
    error: str


@dataclass
class ImportSummary:
    folder: Path
    report: Path
    entities: dict[str, EntityCounts] = field(default_factory=lambda: {k: EntityCounts() for k in FILES})
    failures: list[BatchFailure] = field(default_factory=list)
    seconds: float = 0.0
    aborted: str | None = None
    """Why the run stopped early (consecutive batch failures), or None."""

    def _total(self, name: str) -> int:
        return sum(getattr(counts, name) for counts in self.entities.values())

    @property
    def rows(self) -> int:
        return self._total("rows")

    @property
    def inserted(self) -> int:
        return self._total("inserted")

    @property
    def skipped(self) -> int:
        return self._total("skipped")

    @property
    def rejected(self) -> int:
        return self._total("rejected")

    @property
    def failed(self) -> int:
        return self._total("failed")

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every batch committed (rejected rows do not make a run fail: they are in the report)."""
        return not self.failures and self.aborted is None

    def lines(self) -> list[str]:
        """The summary as the command line prints it."""
        out = [
            f"{'':12}{'rows':>11}{'inserted':>11}{'skipped':>11}{'rejected':>11}{'failed':>9}{'seconds':>9}"
        ]
        total = EntityCounts(**self._totals(), seconds=self.seconds)
        for name, c in [*self.entities.items(), ("total", total)]:
            out.append(
                f"{name:12}{c.rows:>11,}{c.inserted:>11,}{c.skipped:>11,}{c.rejected:>11,}{c.failed:>9,}"
                f"{c.seconds:>9.1f}"
            )
        out.append(f"{self.rows:,} rows in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)")
        out.append(f"report: {self.report}")
        out.extend(
            f"FAILED batch {f.file} lines {f.first_line}-{f.last_line} ({f.rows} rows): {f.error}"
            for f in self.failures
        )
        if self.aborted:
            out.append(f"ABORTED: {self.aborted}")
        return out

    def _totals(self) -> dict[str, int]:
        return {name: self._total(name) for name in ("rows", "inserted", "skipped", "rejected", "failed")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "report": str(self.report),
            "entities": {name: vars(counts) for name, counts in self.entities.items()},
            "totals": self._totals(),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "failures": [vars(f) for f in self.failures],
            "aborted": self.aborted,
        }


class Rejected(Exception):
    """A row is not imported; ``code`` is stable, ``message`` never holds a full ID number or phone."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _Outcome:
    inserted: int = 0
    skipped: int = 0
    rejected: list[tuple[int, str | None, Rejected]] = field(default_factory=list)

    def reject(self, line: int, legacy_id: str | None, code: str, message: str) -> None:
        self.rejected.append((line, legacy_id, Rejected(code, message)))


# ---------------------------------------------------------------------------------------------------------
# Field parsing (pure)
# ---------------------------------------------------------------------------------------------------------


def mask_id(value: str) -> str:
    """``1101**********002X``: at most a quarter (and 4 characters) at each end; nothing of short values."""
    keep = min(4, len(value) // 4) if len(value) > 8 else 0
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[len(value) - keep :]


def mask_phone(value: str) -> str:
    """``138****5678`` for 11 characters or more, else all stars."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) >= 11 else "*" * len(value)


def _missing(key: str) -> Rejected:
    return Rejected("MISSING_FIELD", f"{key} is required")


def _text(obj: Row, key: str, *, required: bool = True, max_length: int | None = None) -> str | None:
    """A string field, stripped; absent, null or blank is None (or MISSING_FIELD when required)."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _missing(key)
        return None
    if not isinstance(value, str):
        raise Rejected("FIELD_TYPE", f"{key} must be a string")
    value = value.strip()
    if max_length is not None and len(value) > max_length:
        raise Rejected("FIELD_TOO_LONG", f"{key} is longer than {max_length} characters")
    return value


def _required(obj: Row, key: str, max_length: int | None = None) -> str:
    value = _text(obj, key, max_length=max_length)
    assert value is not None
    return value


def _legacy_id(obj: Row, key: str, *, required: bool = True) -> str | None:
    """An old-system id: a string, or an integer read as its decimal digits."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise _missing(key)
        return None
    if not isinstance(value, str):
        raise Rejected("FIELD_TYPE", f"{key} must be a string or an integer")
    value = value.strip()
    if not value or len(value) > LEGACY_ID_MAX or _CONTROL.search(value):
        raise Rejected("LEGACY_ID_FORMAT", f"{key} must be 1-{LEGACY_ID_MAX} printable characters")
    return value


def _enum(obj: Row, key: str, kind: type[E], default: E | None = None) -> E:
    value = obj.get(key)
    if value is None or value == "":
        if default is None:
            raise _missing(key)
        return default
    if not isinstance(value, str):
        raise Rejected("FIELD_TYPE", f"{key} must be a string")
    try:
        return kind(value.strip().upper())
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise Rejected("ENUM_VALUE", f"{key} must be one of {choices}") from None


def _moment(obj: Row, key: str, now: datetime, *, required: bool = True) -> datetime | None:
    """An ISO 8601 date-time (a bare date is midnight); without an offset it is China Standard Time."""
    raw = _text(obj, key, required=required)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Rejected("DATE_FORMAT", f"{key} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    moment = moment.astimezone(UTC)
    if moment > now:
        raise Rejected("DATE_IN_FUTURE", f"{key} lies in the future")
    if moment.astimezone(CHINA).date() < EARLIEST:
        raise Rejected("DATE_RANGE", f"{key} lies before {EARLIEST.isoformat()}")
    return moment


def _day(obj: Row, key: str, today: date) -> date:
    raw = _required(obj, key)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Rejected("DATE_FORMAT", f"{key} is not a date (YYYY-MM-DD)") from None
    if day > today:
        raise Rejected("DATE_IN_FUTURE", f"{key} lies in the future")
    if day < EARLIEST:
        raise Rejected("DATE_RANGE", f"{key} lies before {EARLIEST.isoformat()}")
    return day


def _region(obj: Row, key: str, regions: frozenset[str]) -> str:
    code = _required(obj, key)
    if len(code) != 12 or not code.isascii() or not code.isdigit():
        raise Rejected("REGION_FORMAT", f"{key} must be a 12-digit region code")
    if code not in regions:
        raise Rejected("REGION_UNKNOWN", f"{key} {code} is not a current or retired region")
    return code


def check_password_hash(value: str) -> None:
    """Raise ``Rejected`` unless ``value`` is a hash ``auth.passwords.Passwords.verify`` can check: an argon2
    PHC string, or ``legacy$<md5|sha1|sha256>[-suffix]$<salt>$<hex digest of the algorithm's length>``."""
    bad = Rejected(
        "PASSWORD_HASH_FORMAT", "password_hash is not an argon2 or legacy$<algo>$<salt>$<hex> hash"
    )
    if value.startswith(LEGACY_PREFIX):
        algo_field, sep, rest = value[len(LEGACY_PREFIX) :].partition("$")
        _salt, sep2, digest = rest.rpartition("$")
        algo = algo_field.removesuffix(LEGACY_SUFFIX_MARK)
        if not (sep and sep2) or algo not in LEGACY_ALGORITHMS:
            raise bad
        if len(digest) != hashlib.new(algo).digest_size * 2 or not all(
            c in "0123456789abcdefABCDEF" for c in digest
        ):
            raise bad
        return
    if value.startswith("$argon2"):
        try:
            extract_parameters(value)
        except (InvalidHashError, ValueError):
            raise bad from None
        salt, digest = value.split("$")[-2:]
        if not (_B64.fullmatch(salt) and _B64.fullmatch(digest)):
            raise bad
        return
    raise bad


# ---------------------------------------------------------------------------------------------------------
# Parsed rows
# ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Volunteer:
    line: int
    legacy_id: str
    username: str | None
    password_hash: str | None
    name: str
    id_type: IdType
    id_number: str
    id_hash: str
    birth_date: date | None
    sex: Sex
    phone: str | None
    region_code: str
    skills: list[str]
    registered_at: datetime
    real_name_status: RealNameStatus


@dataclass(slots=True)
class _Team:
    line: int
    legacy_id: str
    name: str
    team_type: TeamType
    credit_code: str | None
    contact_legacy_id: str | None
    region_code: str
    status: TeamStatus
    verification_status: TeamVerification
    created_at: datetime
    admins: list[str]
    """Lower-cased usernames (``account.username_key``)."""
    person_in_charge: str
    contact_name: str
    contact_phone: str | None
    description: str


@dataclass(slots=True)
class _Membership:
    line: int
    key: str
    team_legacy_id: str
    volunteer_legacy_id: str
    status: MembershipStatus
    role: MemberRole
    applied_at: datetime
    joined_at: datetime | None
    left_at: datetime | None


@dataclass(slots=True)
class _Record:
    line: int
    legacy_id: str
    volunteer_legacy_id: str
    team_legacy_id: str
    service_date: date
    hours: Decimal
    content: str
    category: ProjectCategory
    status: RecordStatus
    confirmed_at: datetime | None


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    number: int
    value: Any
    error: str | None


def _read(path: Path, batch_size: int, take: Callable[[_Line], bool] | None = None) -> Iterator[list[_Line]]:
    """Non-blank lines of ``path`` parsed as JSON, ``batch_size`` at a time, streaming."""
    batch: list[_Line] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            data = raw.removeprefix(BOM) if number == 1 else raw
            if not data.strip():
                continue
            try:
                line = _Line(number, orjson.loads(data), None)
            except orjson.JSONDecodeError as exc:
                line = _Line(number, None, str(exc).split(":")[0][:120])
            if take is not None and not take(line):
                continue
            batch.append(line)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def count_rows(path: Path) -> int:
    """Non-blank lines (for the progress bar)."""
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for raw in fh if raw.strip() and raw.strip() != BOM)


def _has_contact(line: _Line) -> bool:
    value = line.value.get("contact_team_legacy_id") if isinstance(line.value, dict) else None
    return value is not None and value != ""


def _no_contact(line: _Line) -> bool:
    return not _has_contact(line)


def _hint(value: Any, *keys: str) -> str | None:
    """The row's legacy id (or ``team/volunteer`` for memberships) for the report, even of a bad row."""
    if not isinstance(value, dict):
        return None
    parts = [value.get(key) for key in keys]
    if not all(isinstance(part, str | int) and not isinstance(part, bool) for part in parts):
        return None
    return "/".join(str(part) for part in parts)[: 2 * LEGACY_ID_MAX + 1]


async def _lookup(
    session: AsyncSession, query: Select[Any], column: ColumnElement[Any], values: Iterable[Any]
) -> list[Sequence[Any]]:
    """``query`` filtered on ``column IN values``, in chunks."""
    unique = list(dict.fromkeys(values))
    rows: list[Sequence[Any]] = []
    for start in range(0, len(unique), LOOKUP_CHUNK):
        result = await session.execute(query.where(column.in_(unique[start : start + LOOKUP_CHUNK])))
        rows.extend(tuple(row) for row in result.all())
    return rows


# ---------------------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------------------


class _Importer:
    def __init__(
        self,
        sessions: SessionFactory,
        cipher: PiiCipher,
        folder: Path,
        report: IO[bytes],
        summary: ImportSummary,
        batch_size: int,
        bar: Any,
    ) -> None:
        self.sessions, self.cipher, self.folder, self.report = sessions, cipher, folder, report
        self.summary, self.batch_size, self.bar = summary, batch_size, bar
        self.now = utcnow()
        self.today = self.now.astimezone(CHINA).date()
        self.regions: frozenset[str] = frozenset()
        self.dialect = "sqlite"
        tables = SQLModel.metadata.tables
        self.account: Table = tables["account"]
        self.volunteer: Table = tables["volunteer"]
        self.team: Table = tables["team"]
        self.membership: Table = tables["team_membership"]
        self.record: Table = tables["service_record"]
        self.grant: Table = tables["role_grant"]
        self.sequence: Table = tables["volunteer_number_sequence"]
        self.consecutive_failures = 0

    async def prepare(self) -> None:
        region = SQLModel.metadata.tables["region"]
        async with self.sessions() as session:
            self.dialect = session.get_bind().dialect.name
            self.regions = frozenset((await session.execute(select(region.c.code))).scalars())
        if not self.regions:
            raise RuntimeError("the region table is empty: load the regions first (cli.py load-regions)")

    # --- the report ---------------------------------------------------------------------------------------

    def write_report(self, file: str, line: int, legacy_id: str | None, code: str, message: str) -> None:
        entry = {"file": file, "line": line, "legacy_id": legacy_id, "code": code, "message": message}
        self.report.write(orjson.dumps(entry) + b"\n")

    # --- the batch loop ------------------------------------------------------------------------------------

    async def run_file(
        self,
        entity: str,
        parse: Callable[[int, Row], Any],
        write: Callable[[AsyncSession, list[Any]], Any],
        hint_keys: tuple[str, ...] = ("legacy_id",),
        take: Callable[[_Line], bool] | None = None,
    ) -> None:
        path = self.folder / FILES[entity]
        if not path.exists() or self.summary.aborted:
            return
        started = time.perf_counter()
        try:
            await self._run_batches(entity, path, parse, write, hint_keys, take)
        finally:
            self.summary.entities[entity].seconds += time.perf_counter() - started

    async def _run_batches(
        self,
        entity: str,
        path: Path,
        parse: Callable[[int, Row], Any],
        write: Callable[[AsyncSession, list[Any]], Any],
        hint_keys: tuple[str, ...],
        take: Callable[[_Line], bool] | None,
    ) -> None:
        counts, file = self.summary.entities[entity], FILES[entity]
        for batch in _read(path, self.batch_size, take):
            parsed: list[Any] = []
            for line in batch:
                counts.rows += 1
                try:
                    if line.error is not None:
                        raise Rejected("BAD_JSON", f"not a JSON value: {line.error}")
                    if not isinstance(line.value, dict):
                        raise Rejected("NOT_AN_OBJECT", "each line must be one JSON object")
                    parsed.append(parse(line.number, line.value))
                except Rejected as rejected:
                    counts.rejected += 1
                    hint = _hint(line.value, *hint_keys)
                    self.write_report(file, line.number, hint, rejected.code, rejected.message)
            if parsed:
                await self.commit_batch(entity, write, parsed)
            self.bar.update(len(batch))
            if self.summary.aborted:
                return

    async def commit_batch(
        self, entity: str, write: Callable[[AsyncSession, list[Any]], Any], rows: list[Any]
    ) -> None:
        counts, file = self.summary.entities[entity], FILES[entity]
        try:
            async with self.sessions() as session, session.begin():
                if self.dialect == "sqlite":
                    await session.execute(text(f"PRAGMA cache_size={SQLITE_CACHE_SIZE}"))
                outcome: _Outcome = await write(session, rows)
        except Exception as exc:
            first, last = rows[0].line, rows[-1].line
            error = _describe(exc)
            log.exception("%s lines %d-%d: batch rolled back", file, first, last)
            counts.failed += len(rows)
            self.summary.failures.append(BatchFailure(file, first, last, len(rows), error))
            self.write_report(
                file, first, None, "BATCH_FAILED", f"lines {first}-{last} not imported: {error}"
            )
            self.consecutive_failures += 1
            if self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
                self.summary.aborted = f"{self.consecutive_failures} batches in a row failed; last: {error}"
            return
        self.consecutive_failures = 0
        counts.inserted += outcome.inserted
        counts.skipped += outcome.skipped
        counts.rejected += len(outcome.rejected)
        for line, legacy_id, rejected in outcome.rejected:
            self.write_report(file, line, legacy_id, rejected.code, rejected.message)

    # --- volunteers ----------------------------------------------------------------------------------------

    def parse_volunteer(self, line: int, obj: Row) -> _Volunteer:
        legacy_id = _legacy_id(obj, "legacy_id")
        assert legacy_id is not None
        username = _text(obj, "username", required=False)
        password_hash = obj.get("password_hash")
        if password_hash is not None and not isinstance(password_hash, str):
            raise Rejected("FIELD_TYPE", "password_hash must be a string")
        password_hash = password_hash or None
        if (username is None) != (password_hash is None):
            raise Rejected("ACCOUNT_INCOMPLETE", "username and password_hash come together or not at all")
        if username is not None:
            if not USERNAME.fullmatch(username):
                raise Rejected(
                    "USERNAME_FORMAT", f"username {username[:40]!r} does not match {USERNAME.pattern}"
                )
            assert password_hash is not None
            check_password_hash(password_hash)
        name = _required(obj, "name")
        if not NAME.fullmatch(name):
            raise Rejected("NAME_FORMAT", "name must be Chinese or Latin letters (with · or spaces inside)")
        id_type = _enum(obj, "id_type", IdType, IdType.RESIDENT_ID)
        raw_number = _required(obj, "id_number", max_length=40)
        birth_date: date | None
        if id_type is IdType.RESIDENT_ID:
            try:
                resident = normalize_resident_id(raw_number, self.today)
            except IdentifierError as error:
                raise Rejected(error.code, _id_message(error.code, raw_number)) from None
            number, birth_date, sex = resident.number, resident.birth_date, resident.sex
            if not self.area_known(resident.area_code):
                raise Rejected("ID_AREA_UNKNOWN", f"ID number {mask_id(number)}: its area code never existed")
        else:
            number = raw_number.upper()
            if not 5 <= len(number) <= 30 or not set(number) <= OTHER_ID:
                raise Rejected("ID_NUMBER_FORMAT", f"ID number {mask_id(number)} is not a document number")
            day = _text(obj, "birth_date", required=False)
            try:
                birth_date = date.fromisoformat(day) if day else None
            except ValueError:
                raise Rejected("DATE_FORMAT", "birth_date is not a date (YYYY-MM-DD)") from None
            if birth_date is not None and not date(1900, 1, 1) <= birth_date < self.today:
                raise Rejected("ID_NUMBER_BIRTH_DATE", "birth_date is not a plausible past date")
            sex = _enum(obj, "sex", Sex, Sex.UNKNOWN)
        phone = _text(obj, "phone", required=False)
        if phone is not None and not MOBILE.fullmatch(phone):
            raise Rejected("PHONE_FORMAT", f"phone {mask_phone(phone)} is not a mainland mobile number")
        region_code = _region(obj, "region_code", self.regions)
        skills = obj.get("skills") or []
        if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
            raise Rejected("SKILLS_FORMAT", "skills must be a list of strings")
        skills = [s.strip() for s in skills if s.strip()]
        if len(skills) > 20 or any(len(s) > 50 for s in skills):
            raise Rejected("SKILLS_FORMAT", "at most 20 skills of at most 50 characters")
        registered_at = _moment(obj, "registered_at", self.now)
        assert registered_at is not None
        default_status = (
            RealNameStatus.PENDING if id_type is IdType.RESIDENT_ID else RealNameStatus.UNDER_REVIEW
        )
        status = _enum(obj, "real_name_status", RealNameStatus, default_status)
        return _Volunteer(
            line, legacy_id, username, password_hash, name, id_type, number,
            self.cipher.blind_index(number), birth_date, sex, phone, region_code, skills, registered_at, status,
        )  # fmt: skip

    def area_known(self, area6: str) -> bool:
        """The county code itself (current or retired), or a prefecture's ``…00``/``…01`` code, as older
        numbers carry (the rule of registration, ``resolvers.people.area_code_known``)."""
        if area6 + "000000" in self.regions:
            return True
        return area6[4:] in ("00", "01") and area6[:4] + "00000000" in self.regions

    async def write_volunteers(self, session: AsyncSession, rows: list[_Volunteer]) -> _Outcome:
        v, a, outcome = self.volunteer, self.account, _Outcome()
        known: dict[str, str] = {
            legacy: hashed
            for legacy, hashed in await _lookup(
                session, select(v.c.legacy_id, v.c.id_number_hash), v.c.legacy_id, (r.legacy_id for r in rows)
            )
        }
        identities = {
            hashed
            for (hashed,) in await _lookup(
                session, select(v.c.id_number_hash), v.c.id_number_hash, (r.id_hash for r in rows)
            )
        }
        usernames = {
            key
            for (key,) in await _lookup(
                session,
                select(a.c.username_key),
                a.c.username_key,
                (r.username.lower() for r in rows if r.username),
            )
        }
        accepted: list[_Volunteer] = []
        for row in rows:
            if (hashed := known.get(row.legacy_id)) is not None:
                if hashed == row.id_hash:
                    outcome.skipped += 1
                else:
                    outcome.reject(
                        row.line, row.legacy_id, "LEGACY_ID_CONFLICT",
                        f"legacy_id {row.legacy_id} is already imported with another ID number",
                    )  # fmt: skip
                continue
            if row.id_hash in identities:
                outcome.reject(
                    row.line, row.legacy_id, "DUPLICATE_IDENTITY",
                    f"ID number {mask_id(row.id_number)} already belongs to another volunteer",
                )  # fmt: skip
                continue
            key = row.username.lower() if row.username else None
            if key is not None and key in usernames:
                outcome.reject(
                    row.line, row.legacy_id, "DUPLICATE_USERNAME",
                    f"username {row.username} is taken (usernames are compared ignoring case)",
                )  # fmt: skip
                continue
            known[row.legacy_id] = row.id_hash
            identities.add(row.id_hash)
            if key is not None:
                usernames.add(key)
            accepted.append(row)
        if not accepted:
            return outcome
        numbers = await self.reserve_numbers(session, Counter(row.region_code[:6] for row in accepted))
        account_ids: dict[str, int] = {}
        account_rows = [self.account_row(row) for row in accepted if row.username]
        if account_rows:
            result = await session.execute(insert(a).returning(a.c.id, a.c.username_key), account_rows)
            account_ids = {key: int(account_id) for account_id, key in result.all()}
        volunteer_rows: list[Row] = []
        for row in accepted:
            county = row.region_code[:6]
            number = make_volunteer_number(row.region_code, numbers[county])
            numbers[county] += 1
            account_id = account_ids[row.username.lower()] if row.username else None
            volunteer_rows.append(self.volunteer_row(row, number, account_id))
        await session.execute(insert(v), volunteer_rows)
        outcome.inserted = len(accepted)
        return outcome

    def account_row(self, row: _Volunteer) -> Row:
        assert row.username is not None
        return {
            "username": row.username,
            "username_key": row.username.lower(),
            "password_hash": row.password_hash,
            "display_name": row.name,
            "status": AccountStatus.ACTIVE.value,
            "is_legacy": True,
            "created_at": row.registered_at,
            "last_login_at": None,
            "created_by_id": None,
        }

    def volunteer_row(self, row: _Volunteer, number: str, account_id: int | None) -> Row:
        cipher = self.cipher
        pending = row.real_name_status is RealNameStatus.PENDING
        return {
            "account_id": account_id,
            "volunteer_number": number,
            "name": row.name,
            "id_type": row.id_type.value,
            "id_number_enc": cipher.encrypt(row.id_number, "volunteer.id_number"),
            "id_number_hash": row.id_hash,
            "birth_date": row.birth_date,
            "sex": row.sex.value,
            "phone_enc": cipher.encrypt(row.phone, "volunteer.phone") if row.phone else None,
            "phone_hash": cipher.blind_index(row.phone) if row.phone else None,
            "real_name_status": row.real_name_status.value,
            "verification_attempts": 0,
            "verification_next_at": self.now if pending else None,
            "verification_note": "",
            "region_code": row.region_code,
            "residence_region_code": None,
            "skills": row.skills,
            "availability": "",
            "invite_consent": InviteConsent.ASK.value,
            "guardian_name": None,
            "guardian_phone_enc": None,
            "guardian_relation": None,
            "guardian_consent_at": None,
            "legacy_id": row.legacy_id,
            "no_show_count": 0,
            "created_at": row.registered_at,
            "updated_at": self.now,
        }

    async def reserve_numbers(self, session: AsyncSession, wanted: Counter[str]) -> dict[str, int]:
        """Reserve ``wanted[county]`` consecutive volunteer numbers per county; returns each block's first
        sequence value. A county without a sequence row gets one starting after its highest number in use
        (as ``resolvers.volunteer_numbers`` does); then one upsert advances every county of the batch."""
        seq, v = self.sequence, self.volunteer
        dialect_insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        counties = sorted(wanted)
        present = {
            county for (county,) in await _lookup(session, select(seq.c.county), seq.c.county, counties)
        }
        for county in counties:
            if county in present:
                continue
            highest = (
                await session.execute(
                    select(func.max(v.c.volunteer_number)).where(
                        v.c.volunteer_number.between(county + "0" * 8, county + "9" * 8)
                    )
                )
            ).scalar_one_or_none()
            start = int(highest[6:]) if highest else 0
            await session.execute(
                dialect_insert(seq).values(county=county, last=start).on_conflict_do_nothing()
            )
        firsts: dict[str, int] = {}
        for begin in range(0, len(counties), LOOKUP_CHUNK // 2):
            chunk = counties[begin : begin + LOOKUP_CHUNK // 2]
            values = dialect_insert(seq).values([{"county": c, "last": wanted[c]} for c in chunk])
            upsert = values.on_conflict_do_update(
                index_elements=[seq.c.county], set_={"last": seq.c.last + values.excluded.last}
            ).returning(seq.c.county, seq.c.last)
            for county, last in (await session.execute(upsert)).all():
                if int(last) >= 10**VOLUNTEER_SEQUENCE_DIGITS:
                    raise RuntimeError(f"volunteer numbers of county {county} are exhausted")
                firsts[str(county)] = int(last) - wanted[str(county)] + 1
        return firsts

    # --- teams ---------------------------------------------------------------------------------------------

    def parse_team(self, line: int, obj: Row) -> _Team:
        legacy_id = _legacy_id(obj, "legacy_id")
        assert legacy_id is not None
        name = _required(obj, "name")
        if not 2 <= len(name) <= 100 or _CONTROL.search(name):
            raise Rejected("NAME_FORMAT", "name must be 2-100 characters")
        team_type = _enum(obj, "team_type", TeamType)
        raw_code = _text(obj, "credit_code", required=False)
        contact = _legacy_id(obj, "contact_team_legacy_id", required=False)
        code: str | None = None
        if team_type is TeamType.LEGAL_PERSON:
            if raw_code is None:
                raise Rejected("CREDIT_CODE_REQUIRED", "a LEGAL_PERSON team needs its credit_code")
            try:
                code = validate_credit_code(raw_code)
            except IdentifierError as error:
                raise Rejected(error.code, f"credit_code {raw_code[:18]!r} is not valid") from None
            if contact is not None:
                raise Rejected("CONTACT_TEAM_NOT_ALLOWED", "only an UNREGISTERED_GROUP has a contact team")
        else:
            if raw_code is not None:
                raise Rejected("CREDIT_CODE_NOT_ALLOWED", "an UNREGISTERED_GROUP has no credit_code")
            if contact is None:
                raise Rejected("CONTACT_TEAM_REQUIRED", "an UNREGISTERED_GROUP needs contact_team_legacy_id")
        region_code = _region(obj, "region_code", self.regions)
        status = _enum(obj, "status", TeamStatus, TeamStatus.ACTIVE)
        verification = _enum(obj, "verification_status", TeamVerification, TeamVerification.APPROVED)
        created_at = _moment(obj, "created_at", self.now)
        assert created_at is not None
        admins = obj.get("admin_usernames") or []
        if not isinstance(admins, list) or not all(isinstance(name, str) for name in admins):
            raise Rejected("FIELD_TYPE", "admin_usernames must be a list of strings")
        keys = list(dict.fromkeys(admin.strip().lower() for admin in admins if admin.strip()))
        person = _text(obj, "person_in_charge", required=False, max_length=100) or ""
        contact_name = _text(obj, "contact_name", required=False, max_length=100) or ""
        phone = _text(obj, "contact_phone", required=False, max_length=20)
        if phone is not None and not re.fullmatch(r"[0-9+\- ]{5,20}", phone):
            raise Rejected("PHONE_FORMAT", f"contact_phone {mask_phone(phone)} is not a phone number")
        description = _text(obj, "description", required=False, max_length=2000) or ""
        return _Team(
            line, legacy_id, name, team_type, code, contact, region_code, status, verification, created_at,
            keys, person, contact_name, phone, description,
        )  # fmt: skip

    async def write_teams(self, session: AsyncSession, rows: list[_Team]) -> _Outcome:
        t, a, outcome = self.team, self.account, _Outcome()
        existing = {
            legacy
            for (legacy,) in await _lookup(
                session, select(t.c.legacy_id), t.c.legacy_id, (r.legacy_id for r in rows)
            )
        }
        codes = {
            code
            for (code,) in await _lookup(
                session,
                select(t.c.credit_code),
                t.c.credit_code,
                (r.credit_code for r in rows if r.credit_code),
            )
        }
        admins: dict[str, int] = {
            key: int(account_id)
            for key, account_id in await _lookup(
                session,
                select(a.c.username_key, a.c.id),
                a.c.username_key,
                (k for r in rows for k in r.admins),
            )
        }
        contacts: dict[str, str] = {
            legacy: kind
            for legacy, kind in await _lookup(
                session,
                select(t.c.legacy_id, t.c.team_type),
                t.c.legacy_id,
                (r.contact_legacy_id for r in rows if r.contact_legacy_id),
            )
        }
        batch_ids = {row.legacy_id for row in rows}
        accepted: list[_Team] = []
        for row in rows:
            if row.legacy_id in existing:
                outcome.skipped += 1
                continue
            if row.credit_code and row.credit_code in codes:
                outcome.reject(
                    row.line, row.legacy_id, "DUPLICATE_CREDIT_CODE",
                    f"credit_code {row.credit_code} already belongs to another team",
                )  # fmt: skip
                continue
            if missing := [key for key in row.admins if key not in admins]:
                outcome.reject(
                    row.line, row.legacy_id, "ADMIN_NOT_FOUND",
                    f"no account named {', '.join(missing)} (import the admins' volunteer rows first)",
                )  # fmt: skip
                continue
            if row.contact_legacy_id is not None:
                kind = contacts.get(row.contact_legacy_id)
                if (
                    kind is None and row.contact_legacy_id in batch_ids
                ):  # a group of this pass, not a legal person
                    kind = TeamType.UNREGISTERED_GROUP.value
                if kind is None:
                    outcome.reject(
                        row.line, row.legacy_id, "CONTACT_TEAM_NOT_FOUND",
                        f"contact team {row.contact_legacy_id} is neither in teams.jsonl nor imported",
                    )  # fmt: skip
                    continue
                if kind != TeamType.LEGAL_PERSON.value:
                    outcome.reject(
                        row.line, row.legacy_id, "CONTACT_TEAM_INVALID",
                        f"contact team {row.contact_legacy_id} is not a LEGAL_PERSON",
                    )  # fmt: skip
                    continue
            existing.add(row.legacy_id)
            if row.credit_code:
                codes.add(row.credit_code)
            accepted.append(row)
        if not accepted:
            return outcome
        contact_ids: dict[str, int] = {
            legacy: int(team_id)
            for legacy, team_id in await _lookup(
                session,
                select(t.c.legacy_id, t.c.id),
                t.c.legacy_id,
                (r.contact_legacy_id for r in accepted if r.contact_legacy_id),
            )
        }
        result = await session.execute(
            insert(t).returning(t.c.id, t.c.legacy_id), [self.team_row(row, contact_ids) for row in accepted]
        )
        team_ids = {legacy: int(team_id) for team_id, legacy in result.all()}
        grants = [
            {
                "account_id": admins[key],
                "role": Role.TEAM_ADMIN.value,
                "region_code": row.region_code,
                "team_id": team_ids[row.legacy_id],
                "can_reveal": False,
                "granted_by_id": None,
                "granted_at": self.now,
                "revoked_at": None,
            }
            for row in accepted
            for key in row.admins
        ]
        if grants:
            await session.execute(insert(self.grant), grants)
        outcome.inserted = len(accepted)
        return outcome

    def team_row(self, row: _Team, contact_ids: dict[str, int]) -> Row:
        return {
            "name": row.name,
            "team_type": row.team_type.value,
            "credit_code": row.credit_code,
            "contact_team_id": contact_ids[row.contact_legacy_id] if row.contact_legacy_id else None,
            "region_code": row.region_code,
            "verification_status": row.verification_status.value,
            "legal_verification": (
                LegalVerification.PENDING if row.credit_code else LegalVerification.NOT_REQUIRED
            ).value,
            "review_reason": "",
            "reviewed_at": None,
            "registered_by_id": None,
            "legacy_id": row.legacy_id,
            "status": row.status.value,
            "person_in_charge": row.person_in_charge,
            "contact_name": row.contact_name,
            "contact_phone_enc": self.cipher.encrypt(row.contact_phone, "team.contact_phone")
            if row.contact_phone
            else None,
            "description": row.description,
            "created_at": row.created_at,
        }

    # --- memberships and records ---------------------------------------------------------------------------

    async def resolve(
        self, session: AsyncSession, teams: Iterable[str], volunteers: Iterable[str]
    ) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
        """Legacy ids → (team id, team region) and → volunteer id, for the ones that are imported."""
        t, v = self.team, self.volunteer
        team_map = {
            legacy: (int(team_id), str(region))
            for legacy, team_id, region in await _lookup(
                session, select(t.c.legacy_id, t.c.id, t.c.region_code), t.c.legacy_id, teams
            )
        }
        volunteer_map = {
            legacy: int(volunteer_id)
            for legacy, volunteer_id in await _lookup(
                session, select(v.c.legacy_id, v.c.id), v.c.legacy_id, volunteers
            )
        }
        return team_map, volunteer_map

    def parse_membership(self, line: int, obj: Row) -> _Membership:
        team = _legacy_id(obj, "team_legacy_id")
        volunteer = _legacy_id(obj, "volunteer_legacy_id")
        assert team is not None and volunteer is not None
        status = _enum(obj, "status", MembershipStatus)
        role = _enum(obj, "role", MemberRole, MemberRole.MEMBER)
        joined_at = _moment(obj, "joined_at", self.now, required=False)
        applied_at = _moment(obj, "applied_at", self.now, required=False) or joined_at or self.now
        left_at = _moment(obj, "left_at", self.now, required=False)
        if joined_at is not None and applied_at > joined_at:
            raise Rejected("DATE_ORDER", "applied_at lies after joined_at")
        if left_at is not None and joined_at is not None and left_at < joined_at:
            raise Rejected("DATE_ORDER", "left_at lies before joined_at")
        return _Membership(
            line, f"{team}/{volunteer}", team, volunteer, status, role, applied_at, joined_at, left_at
        )

    async def write_memberships(self, session: AsyncSession, rows: list[_Membership]) -> _Outcome:
        m, outcome = self.membership, _Outcome()
        teams, volunteers = await self.resolve(
            session, (r.team_legacy_id for r in rows), (r.volunteer_legacy_id for r in rows)
        )
        pairs = {
            (int(team_id), int(volunteer_id))
            for team_id, volunteer_id in await _lookup(
                session, select(m.c.team_id, m.c.volunteer_id), m.c.volunteer_id, volunteers.values()
            )
        }
        inserts: list[Row] = []
        for row in rows:
            team = teams.get(row.team_legacy_id)
            volunteer_id = volunteers.get(row.volunteer_legacy_id)
            if team is None:
                outcome.reject(
                    row.line, row.key, "TEAM_NOT_FOUND", f"team {row.team_legacy_id} is not imported"
                )
                continue
            if volunteer_id is None:
                outcome.reject(
                    row.line,
                    row.key,
                    "VOLUNTEER_NOT_FOUND",
                    f"volunteer {row.volunteer_legacy_id} is not imported",
                )
                continue
            if (team[0], volunteer_id) in pairs:
                outcome.skipped += 1
                continue
            pairs.add((team[0], volunteer_id))
            inserts.append(
                {
                    "team_id": team[0],
                    "volunteer_id": volunteer_id,
                    "region_code": team[1],
                    "status": row.status.value,
                    "role": row.role.value,
                    "applied_at": row.applied_at,
                    "joined_at": row.joined_at,
                    "left_at": row.left_at,
                    "decision_reason": "",
                }
            )
        if inserts:
            await session.execute(insert(m), inserts)
        outcome.inserted = len(inserts)
        return outcome

    def parse_record(self, line: int, obj: Row) -> _Record:
        legacy_id = _legacy_id(obj, "legacy_id")
        volunteer = _legacy_id(obj, "volunteer_legacy_id")
        team = _legacy_id(obj, "team_legacy_id")
        assert legacy_id is not None and volunteer is not None and team is not None
        service_date = _day(obj, "service_date", self.today)
        hours = _hours(obj.get("hours"))
        content = _text(obj, "content", required=False, max_length=500) or ""
        category = _enum(obj, "category", ProjectCategory, ProjectCategory.OTHER)
        status = _enum(obj, "status", RecordStatus)
        confirmed_at = _moment(obj, "confirmed_at", self.now, required=False)
        if status is not RecordStatus.CONFIRMED:
            confirmed_at = None
        return _Record(
            line, legacy_id, volunteer, team, service_date, hours, content, category, status, confirmed_at
        )

    async def write_records(self, session: AsyncSession, rows: list[_Record]) -> _Outcome:
        r, outcome = self.record, _Outcome()
        existing = {
            legacy
            for (legacy,) in await _lookup(
                session, select(r.c.legacy_id), r.c.legacy_id, (x.legacy_id for x in rows)
            )
        }
        fresh = [row for row in rows if row.legacy_id not in existing]
        teams, volunteers = await self.resolve(
            session, (x.team_legacy_id for x in fresh), (x.volunteer_legacy_id for x in fresh)
        )
        inserts: list[Row] = []
        for row in rows:
            if row.legacy_id in existing:
                outcome.skipped += 1
                continue
            team = teams.get(row.team_legacy_id)
            volunteer_id = volunteers.get(row.volunteer_legacy_id)
            if team is None:
                outcome.reject(
                    row.line, row.legacy_id, "TEAM_NOT_FOUND", f"team {row.team_legacy_id} is not imported"
                )
                continue
            if volunteer_id is None:
                outcome.reject(
                    row.line, row.legacy_id, "VOLUNTEER_NOT_FOUND",
                    f"volunteer {row.volunteer_legacy_id} is not imported",
                )  # fmt: skip
                continue
            existing.add(row.legacy_id)
            inserts.append(
                {
                    "volunteer_id": volunteer_id,
                    "team_id": team[0],
                    "project_id": None,
                    "attendance_id": None,
                    "region_code": team[1],
                    "category": row.category.value,
                    "service_date": row.service_date,
                    "started_at": None,
                    "ended_at": None,
                    "hours": row.hours,
                    "content": row.content,
                    "provenance": RecordProvenance.LEGACY_MIGRATION.value,
                    "status": row.status.value,
                    "recorder_id": None,
                    "replaces_id": None,
                    "void_reason": "旧系统中已作废" if row.status is RecordStatus.VOIDED else None,
                    "legacy_id": row.legacy_id,
                    "created_at": self.now,
                    "confirmed_at": row.confirmed_at,
                }
            )
        if inserts:
            await session.execute(insert(r), inserts)
        outcome.inserted = len(inserts)
        return outcome


def _hours(value: Any) -> Decimal:
    """0 < hours ≤ 24 with at most two decimals; a JSON number or a decimal string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Rejected("HOURS_FORMAT", "hours must be a number" if value is not None else "hours is required")
    try:
        hours = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise Rejected("HOURS_FORMAT", "hours must be a number") from None
    if not hours.is_finite():
        raise Rejected("HOURS_FORMAT", "hours must be a number")
    if not Decimal(0) < hours <= Decimal(24):
        raise Rejected("HOURS_RANGE", "hours must be more than 0 and at most 24")
    rounded = hours.quantize(Decimal("0.01"))
    if rounded != hours:
        raise Rejected("HOURS_PRECISION", "hours has more than two decimals")
    return rounded


def _id_message(code: str, raw: str) -> str:
    shown = mask_id(raw.strip().upper())
    return {
        "ID_NUMBER_FORMAT": f"ID number {shown} is not 18 characters (or 15 digits)",
        "ID_NUMBER_CHECKSUM": f"ID number {shown} has a wrong check character",
        "ID_NUMBER_BIRTH_DATE": f"ID number {shown} does not carry a real past birth date",
    }.get(code, f"ID number {shown} is not valid")


def _describe(exc: BaseException) -> str:
    """The error's first line; for database errors the driver's message, never the statement's parameters."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        message = f"{type(exc.orig).__name__}: {exc.orig}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return message.strip().splitlines()[0][:300] if message.strip() else type(exc).__name__


async def import_legacy(
    sessions: SessionFactory,
    cipher: PiiCipher,
    folder: Path,
    report: Path,
    batch_size: int = 5000,
    progress: bool = True,
) -> ImportSummary:
    """Import the export in ``folder`` (``docs/legacy-import.md``); rejected rows and failed batches go to
    ``report`` (JSONL, rewritten on each run). Needs a migrated database with the region tree loaded."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not folder.is_dir():
        raise FileNotFoundError(f"no export folder at {folder}")
    started = time.perf_counter()
    summary = ImportSummary(folder=folder, report=report)
    report.parent.mkdir(parents=True, exist_ok=True)
    total = sum(count_rows(folder / name) for name in FILES.values())
    with (
        report.open("wb") as out,
        tqdm(total=total, unit="row", desc="legacy import", disable=not progress, smoothing=0.1) as bar,
    ):
        importer = _Importer(sessions, cipher, folder, out, summary, batch_size, bar)
        await importer.prepare()
        await importer.run_file("volunteers", importer.parse_volunteer, importer.write_volunteers)
        await importer.run_file("teams", importer.parse_team, importer.write_teams, take=_no_contact)
        await importer.run_file("teams", importer.parse_team, importer.write_teams, take=_has_contact)
        await importer.run_file(
            "memberships",
            importer.parse_membership,
            importer.write_memberships,
            hint_keys=("team_legacy_id", "volunteer_legacy_id"),
        )
        await importer.run_file("records", importer.parse_record, importer.write_records)
    summary.seconds = time.perf_counter() - started
    log.info(
        "legacy import of %s: %d rows, %d inserted, %d skipped, %d rejected, %d failed in %.1f s",
        folder, summary.rows, summary.inserted, summary.skipped, summary.rejected, summary.failed, summary.seconds,
    )  # fmt: skip
    return summary
