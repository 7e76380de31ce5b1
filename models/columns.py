"""Column types and helpers shared by every table."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, String, TypeDecorator
from sqlmodel import Field

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY (rowid) there, which is also 64-bit."""

REGION_CODE_LENGTH = 12


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: stored as UTC on every backend, always read back timezone-aware (UTC).

    SQLite keeps no offset, so without this an aware non-UTC value would be stored as its wall time and read
    back naive; PostgreSQL's ``timestamptz`` is given aware values only. Naive input is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """None on asyncpg, which reads every ``timestamptz`` as an aware UTC datetime already; elsewhere the
        driver's parser (SQLite: text) and the UTC tag in one function — TypeDecorator's own processor would
        call ``process_result_value`` through a second Python call. Four values per service record."""
        if dialect.driver == "asyncpg":
            return None
        parse: Callable[[Any], Any] = self.impl_instance.result_processor(dialect, coltype) or (lambda v: v)

        def process(value: Any) -> datetime | None:
            return None if value is None else _as_utc(parse(value))

        return process


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def id_field() -> Any:
    return Field(default=None, primary_key=True, sa_type=BigId)


def ref_field(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key to ``target`` (``table.column``), indexed."""
    return Field(default=None if nullable else ..., foreign_key=target, index=index, sa_type=BigId)


def enum_field(default: Any = ..., *, index: bool = False, length: int = 24) -> Any:
    """An enumeration stored as its string value (portable; no native ENUM types to migrate)."""
    return Field(default=default, sa_type=String(length), index=index)


def region_field(*, nullable: bool = False, index: bool = True) -> Any:
    """A 12-digit region code; jurisdiction is a range on it (see auth/scope.py)."""
    return Field(
        default=None if nullable else ...,
        max_length=REGION_CODE_LENGTH,
        foreign_key="region.code",
        index=index,
    )


def time_field(*, nullable: bool = False, default_now: bool = False, index: bool = False) -> Any:
    if default_now:
        return Field(default_factory=utcnow, sa_type=UtcDateTime, index=index)
    return Field(default=None if nullable else ..., sa_type=UtcDateTime, index=index)
