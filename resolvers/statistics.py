"""Dashboard statistics, first version: computed directly over the base tables on every request.

There are no rollup (pre-aggregated) tables yet — that is a later step; this module defines the semantics
they will have to reproduce. Every query selects FROM the measure's base table through ``scope()``, so a
count never includes a row outside the viewer's jurisdiction, and the rows come back from ONE statement with
the grouping done in SQL (``GROUP BY`` / ``HAVING`` / ``ORDER BY`` / ``LIMIT``, the total as a window over the
groups). Labels (region names, team names) cost one extra batched statement each, only when asked for.

Measures:

* ``CONFIRMED_HOURS`` / ``RECORDS``: the hours / number of CONFIRMED service records, dated by ``service_date``.
* ``VOLUNTEERS`` / ``VERIFIED_VOLUNTEERS``: registered (real-name PASSED) volunteers as of ``to`` — a stock,
  so ``from`` is ignored; ``NEW_VOLUNTEERS``: those registered in ``[from, to)``. Dated by ``created_at``.
* ``TEAMS``, ``PROJECTS``, ``SIGN_UPS``: rows created in the period (``created_at``); ``CERTIFICATES``:
  ISSUED certificates by ``issued_at``.

Instants are bucketed by their UTC calendar day; dates as they are. Portable between SQLite (``strftime``)
and PostgreSQL (``to_char``), chosen by the session's dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import String, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col

from auth.jurisdiction import REGION_CODE, jurisdiction_prefix
from auth.scope import in_regions, scope
from auth.viewer import Viewer
from models import Certificate, Project, Region, ServiceRecord, SignUp, Team, Volunteer
from models.db import SessionFactory
from models.enums import CertificateStatus, RealNameStatus, RecordStatus

MAX_ROWS = 1000
MAX_DAY_SPAN_YEARS = 10
_CHILD_LENGTHS = (2, 4, 6, 9, 12)
HOURS_QUANTUM = Decimal("0.01")


class Measure(Enum):
    CONFIRMED_HOURS = "CONFIRMED_HOURS"
    RECORDS = "RECORDS"
    VOLUNTEERS = "VOLUNTEERS"
    NEW_VOLUNTEERS = "NEW_VOLUNTEERS"
    VERIFIED_VOLUNTEERS = "VERIFIED_VOLUNTEERS"
    TEAMS = "TEAMS"
    PROJECTS = "PROJECTS"
    SIGN_UPS = "SIGN_UPS"
    CERTIFICATES = "CERTIFICATES"


class Dimension(Enum):
    CHILD_REGION = "CHILD_REGION"
    DAY = "DAY"
    MONTH = "MONTH"
    YEAR = "YEAR"
    CATEGORY = "CATEGORY"
    TEAM = "TEAM"
    TEAM_TYPE = "TEAM_TYPE"
    SEX = "SEX"
    AGE_BAND = "AGE_BAND"


_PERIODS = {Dimension.DAY: "%Y-%m-%d", Dimension.MONTH: "%Y-%m", Dimension.YEAR: "%Y"}
_PG_PERIODS = {Dimension.DAY: "YYYY-MM-DD", Dimension.MONTH: "YYYY-MM", Dimension.YEAR: "YYYY"}
_ANY = {Dimension.CHILD_REGION, Dimension.DAY, Dimension.MONTH, Dimension.YEAR}
_PEOPLE = _ANY | {Dimension.SEX, Dimension.AGE_BAND}
_RECORDS = _ANY | {Dimension.CATEGORY, Dimension.TEAM}


@dataclass(frozen=True)
class MeasureSpec:
    model: type[SQLModel]
    date_column: str
    dimensions: frozenset[Dimension]
    is_instant: bool = True
    stock: bool = False
    """Counted as of ``to``: ``from`` does not apply."""


SPECS: dict[Measure, MeasureSpec] = {
    Measure.CONFIRMED_HOURS: MeasureSpec(
        ServiceRecord, "service_date", frozenset(_RECORDS), is_instant=False
    ),
    Measure.RECORDS: MeasureSpec(ServiceRecord, "service_date", frozenset(_RECORDS), is_instant=False),
    Measure.VOLUNTEERS: MeasureSpec(Volunteer, "created_at", frozenset(_PEOPLE), stock=True),
    Measure.NEW_VOLUNTEERS: MeasureSpec(Volunteer, "created_at", frozenset(_PEOPLE)),
    Measure.VERIFIED_VOLUNTEERS: MeasureSpec(Volunteer, "created_at", frozenset(_PEOPLE), stock=True),
    Measure.TEAMS: MeasureSpec(Team, "created_at", frozenset(_ANY | {Dimension.TEAM_TYPE})),
    Measure.PROJECTS: MeasureSpec(Project, "created_at", frozenset(_RECORDS)),
    Measure.SIGN_UPS: MeasureSpec(SignUp, "created_at", frozenset(_ANY | {Dimension.TEAM})),
    Measure.CERTIFICATES: MeasureSpec(Certificate, "issued_at", frozenset(_ANY | {Dimension.TEAM})),
}


class StatisticsInputError(Exception):
    """Bad input: ``reason`` is the message key, ``field`` the input path."""

    def __init__(self, reason: str, field: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason, self.field, self.params = reason, field, params


@dataclass(frozen=True)
class Request:
    measure: Measure
    group_by: tuple[Dimension, ...] = ()
    region: str | None = None
    from_: date | None = None
    to: date | None = None
    category: str | None = None
    team_id: int | None = None
    descending: bool | None = None
    """None: ordered by the keys; otherwise by value (ties by keys)."""
    limit: int | None = None
    having: Decimal | None = None


@dataclass
class Key:
    dimension: Dimension
    value: str
    label: str | None = None


@dataclass
class Row:
    keys: list[Key]
    value: Decimal


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    total: Decimal = Decimal(0)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validate(request: Request) -> MeasureSpec:
    spec = SPECS[request.measure]
    seen: set[Dimension] = set()
    for i, dimension in enumerate(request.group_by):
        if dimension not in spec.dimensions or dimension in seen:
            raise StatisticsInputError("UNKNOWN_DIMENSION", f"input.groupBy[{i}]", dimension=dimension.value)
        seen.add(dimension)
    if request.region is not None and not REGION_CODE.match(request.region):
        raise StatisticsInputError("REGION_UNKNOWN", "input.region")
    if request.category is not None and not hasattr(spec.model, "category"):
        raise StatisticsInputError("UNKNOWN_FILTER", "input.category")
    if request.team_id is not None and spec.model is Volunteer:
        raise StatisticsInputError("UNKNOWN_FILTER", "input.teamId")
    if request.limit is not None and not 1 <= request.limit <= MAX_ROWS:
        raise StatisticsInputError("ROW_CAP", "input.limit", max=MAX_ROWS)
    start = None if spec.stock else request.from_
    if start is not None and request.to is not None and start >= request.to:
        raise StatisticsInputError("BAD_PERIOD", "input.to")
    if Dimension.DAY in seen and (
        start is None or request.to is None or request.to > _years_later(start, MAX_DAY_SPAN_YEARS)
    ):
        raise StatisticsInputError("PERIOD_TOO_LONG", "input.groupBy", years=MAX_DAY_SPAN_YEARS)
    return spec


def child_prefix_length(request: Request, viewer: Viewer) -> int:
    """The region-code length of the level below the ``region`` filter, or below the viewer's jurisdiction."""
    if request.region is not None:
        base = len(jurisdiction_prefix(request.region))
    elif viewer.is_ministry or not viewer.region_prefixes:
        base = 0
    else:
        prefixes = viewer.region_prefixes
        base = 0
        for length in (2, 4, 6, 9):
            if all(len(p) >= length and p[:length] == prefixes[0][:length] for p in prefixes):
                base = length
    return next((n for n in _CHILD_LENGTHS if n > base), 12)


def _period(column: Any, dimension: Dimension, dialect: str, instant: bool) -> ColumnElement[str]:
    if dialect == "postgresql":
        value = func.timezone("UTC", column) if instant else column
        return func.to_char(value, _PG_PERIODS[dimension], type_=String)
    return func.strftime(_PERIODS[dimension], column, type_=String)


def _age_band(column: Any, today: date) -> ColumnElement[str]:
    adult, middle, senior = (_years_later(today, -n) for n in (18, 35, 60))
    return case(
        (column.is_(None), "UNKNOWN"),
        (column > adult, "0-17"),
        (column > middle, "18-34"),
        (column > senior, "35-59"),
        else_="60+",
    )


def _dimension_column(
    dimension: Dimension, spec: MeasureSpec, request: Request, viewer: Viewer, dialect: str, today: date
) -> ColumnElement[Any]:
    model: Any = spec.model
    match dimension:
        case Dimension.CHILD_REGION:
            length = child_prefix_length(request, viewer)
            code: ColumnElement[str] = func.substr(model.region_code, 1, length, type_=String)
            return code if length == 12 else code + literal("0" * (12 - length), String)
        case Dimension.DAY | Dimension.MONTH | Dimension.YEAR:
            return _period(getattr(model, spec.date_column), dimension, dialect, spec.is_instant)
        case Dimension.CATEGORY:
            return model.category  # type: ignore[no-any-return]
        case Dimension.TEAM:
            return model.team_id  # type: ignore[no-any-return]
        case Dimension.TEAM_TYPE:
            return model.team_type  # type: ignore[no-any-return]
        case Dimension.SEX:
            return model.sex  # type: ignore[no-any-return]
        case Dimension.AGE_BAND:
            return _age_band(model.birth_date, today)


def _measure_value(measure: Measure) -> ColumnElement[Any]:
    if measure is Measure.CONFIRMED_HOURS:
        # rounded in SQL: SQLite sums NUMERIC as floating point, and ``having`` compares exact cents
        return func.round(func.coalesce(func.sum(ServiceRecord.hours), 0), 2)
    return func.count()


def _conditions(request: Request, spec: MeasureSpec) -> list[ColumnElement[bool]]:
    model: Any = spec.model
    conds: list[ColumnElement[bool]] = []
    match request.measure:
        case Measure.CONFIRMED_HOURS | Measure.RECORDS:
            conds.append(model.status == RecordStatus.CONFIRMED)
        case Measure.VERIFIED_VOLUNTEERS:
            conds.append(model.real_name_status == RealNameStatus.PASSED)
        case Measure.CERTIFICATES:
            conds.append(model.status == CertificateStatus.ISSUED)
        case _:
            pass
    if request.region is not None:
        conds.append(in_regions(model.region_code, (jurisdiction_prefix(request.region),)))
    dated = getattr(model, spec.date_column)
    start = None if spec.stock else request.from_
    for bound, is_start in ((start, True), (request.to, False)):
        if bound is None:
            continue
        value: date | datetime = (
            datetime(bound.year, bound.month, bound.day, tzinfo=UTC) if spec.is_instant else bound
        )
        conds.append(dated >= value if is_start else dated < value)
    if request.category is not None:
        conds.append(model.category == request.category)
    if request.team_id is not None:
        team_key: Any = model.id if model is Team else model.team_id
        conds.append(team_key == request.team_id)
    return conds


def statement(request: Request, spec: MeasureSpec, viewer: Viewer, dialect: str, today: date) -> Any:
    """The one statement: the groups' keys, their value, and the total over all groups as a window."""
    keys = [
        _dimension_column(d, spec, request, viewer, dialect, today).label(f"k{i}")
        for i, d in enumerate(request.group_by)
    ]
    value = _measure_value(request.measure)
    query = select(*keys, value.label("value"), func.sum(value).over().label("total")).select_from(spec.model)
    query = scope(query.where(*_conditions(request, spec)), spec.model, viewer)
    if keys:
        query = query.group_by(*keys)
    if request.having is not None:
        query = query.having(value >= request.having)
    order = [k.asc() for k in keys]
    if request.descending is not None:
        order.insert(0, value.desc() if request.descending else value.asc())
    return query.order_by(*order).limit((request.limit or MAX_ROWS) + 1)


def _number(value: Any, measure: Measure) -> Decimal:
    if value is None:
        return Decimal(0)
    if measure is Measure.CONFIRMED_HOURS:
        return Decimal(str(value)).quantize(HOURS_QUANTUM)
    return Decimal(int(value))


async def _labels(
    session: Any, viewer: Viewer, dimension: Dimension, values: set[str], team_global_id: Any
) -> dict[str, str]:
    if not values:
        return {}
    if dimension is Dimension.CHILD_REGION:
        found = await session.execute(
            select(col(Region.code), col(Region.name)).where(col(Region.code).in_(sorted(values)))
        )
        return {code: name for code, name in found.all()}
    by_id = {int(v): v for v in values}
    named: Any = select(col(Team.id), col(Team.name)).where(col(Team.id).in_(sorted(by_id)))
    teams = scope(named, Team, viewer)
    return {team_global_id("Team", key): name for key, name in (await session.execute(teams)).all()}


async def statistics(
    sessions: SessionFactory, viewer: Viewer, request: Request, team_global_id: Any, today: date | None = None
) -> Result:
    spec = validate(request)
    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        query = statement(request, spec, viewer, dialect, today or date.today())
        found = (await session.execute(query)).all()
        cap = request.limit or MAX_ROWS
        if len(found) > cap and request.limit is None:
            raise StatisticsInputError("ROW_CAP", "input.limit", max=MAX_ROWS)
        found = found[:cap]
        result = Result(total=_number(found[0].total, request.measure) if found else Decimal(0))
        raw: dict[Dimension, set[str]] = {d: set() for d in request.group_by}
        for row in found:
            keys = []
            for i, dimension in enumerate(request.group_by):
                key = row[i]
                text = "" if key is None else str(key.value if isinstance(key, Enum) else key)
                if dimension is Dimension.TEAM and key is not None:
                    raw[dimension].add(text)
                    text = team_global_id("Team", key)
                elif dimension is Dimension.CHILD_REGION:
                    raw[dimension].add(text)
                keys.append(Key(dimension, text))
            result.rows.append(Row(keys, _number(row.value, request.measure)))
        for dimension in (Dimension.CHILD_REGION, Dimension.TEAM):
            if raw.get(dimension):
                labels = await _labels(session, viewer, dimension, raw[dimension], team_global_id)
                for row_ in result.rows:
                    for key_ in row_.keys:
                        if key_.dimension is dimension:
                            key_.label = labels.get(key_.value)
    return result
