"""Dashboard statistics: read from the rollup tables (models/rollups.py), with the base tables as reference.

Two ways to the same figures, chosen per query by ``Request.source``:

* ``ROLLUP`` (the default): the smallest ``rollup_*`` table holding every key the query needs (a month table
  when no day is needed, a team-keyed one when a team is). Jurisdiction is the one of ``scope()`` moved onto
  the rollup's own columns: a region admin's subtree is a range on ``region_code``, a team admin's teams an
  ``IN`` on ``team_id`` — exactly ``scope()``'s conditions for the base rows those rollup rows count (records,
  projects, sign-ups and certificates carry their team's region and team). Where ``scope()`` says more than a
  rollup can express (a volunteer's own rows; a team admin's members; a team admin counting teams), or the
  measure is a distinct count (``ACTIVE_VOLUNTEERS``), the base path answers instead: never a wrong figure,
  at worst a slower one. ``Result.source`` tells which path answered.
* ``BASE``: every query straight FROM the measure's base table through ``scope()`` — the reference the tests
  and the benchmark compare the rollups with.

Either way the rows come back from ONE statement, grouped in SQL (``GROUP BY`` / ``HAVING`` / ``ORDER BY`` /
``LIMIT``, the total as a window over the groups); labels (region and team names) cost one batched statement
each, only when asked for.

Measures:

* ``CONFIRMED_HOURS`` / ``RECORDS``: hours / number of CONFIRMED service records, dated by ``service_date``;
  ``ACTIVE_VOLUNTEERS``: distinct volunteers with a confirmed record in the period (per group; the total adds
  the groups up).
* ``VOLUNTEERS`` / ``VERIFIED_VOLUNTEERS``: registered (real-name PASSED) volunteers as of ``to`` — a stock,
  so ``from`` is ignored; ``NEW_VOLUNTEERS``: those registered in ``[from, to)``. Dated by ``created_at``.
  Counted where they are registered: a region admin's figures hold the volunteers registered in the subtree
  (not members from elsewhere of its teams, which ``scope()`` also lets the admin see), so that sibling
  regions' figures add up to their parent's.
* ``STAR_VOLUNTEERS``: volunteers whose confirmed hours to date reach the first star threshold (星级志愿者,
  ``star_thresholds`` in settings); current, so ``from``/``to`` do not apply.
* ``TEAMS``, ``PROJECTS``, ``SIGN_UPS``: rows created in the period; ``CERTIFICATES``: ISSUED certificates by
  ``issued_at``.

Dimensions: ``WEEK`` is the week's Monday (ISO weeks); ``AGE_BAND`` is by birth year (age = this year − birth
year), so rollups can key volunteers by birth year; ``TEAM_TYPE`` of records, projects, sign-ups and
certificates is the team's type now (joined at query time). Instants are bucketed by their UTC calendar day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Integer, String, Table, case, cast, false, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col

from auth.jurisdiction import REGION_CODE, jurisdiction_prefix
from auth.scope import in_regions, scope
from auth.viewer import Viewer
from models import Certificate, Project, Region, ServiceRecord, SignUp, Team, Volunteer
from models.db import SessionFactory
from models.enums import CertificateStatus, RealNameStatus, RecordStatus
from models.rollups import BY_NAME as ROLLUPS_BY_NAME
from models.rollups import ROLLUP_TABLES

MAX_ROWS = 1000
MAX_DAY_SPAN_YEARS = 10
_CHILD_LENGTHS = (2, 4, 6, 9, 12)
HOURS_QUANTUM = Decimal("0.01")
DEFAULT_STAR_THRESHOLDS = (100, 300, 600, 1000, 1500)


class Measure(Enum):
    CONFIRMED_HOURS = "CONFIRMED_HOURS"
    RECORDS = "RECORDS"
    ACTIVE_VOLUNTEERS = "ACTIVE_VOLUNTEERS"
    VOLUNTEERS = "VOLUNTEERS"
    NEW_VOLUNTEERS = "NEW_VOLUNTEERS"
    VERIFIED_VOLUNTEERS = "VERIFIED_VOLUNTEERS"
    STAR_VOLUNTEERS = "STAR_VOLUNTEERS"
    TEAMS = "TEAMS"
    PROJECTS = "PROJECTS"
    SIGN_UPS = "SIGN_UPS"
    CERTIFICATES = "CERTIFICATES"


class Dimension(Enum):
    CHILD_REGION = "CHILD_REGION"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
    CATEGORY = "CATEGORY"
    TEAM = "TEAM"
    TEAM_TYPE = "TEAM_TYPE"
    SEX = "SEX"
    AGE_BAND = "AGE_BAND"


class Source(Enum):
    """Where the figures come from (internal: tests and the benchmark ask for ``BASE``)."""

    ROLLUP = "ROLLUP"
    BASE = "BASE"


_PERIODS = {Dimension.DAY: "%Y-%m-%d", Dimension.MONTH: "%Y-%m", Dimension.YEAR: "%Y"}
_PG_PERIODS = {Dimension.DAY: "YYYY-MM-DD", Dimension.MONTH: "YYYY-MM", Dimension.YEAR: "YYYY"}
_DAILY = {Dimension.DAY, Dimension.WEEK}
_ANY = {Dimension.CHILD_REGION, *_DAILY, Dimension.MONTH, Dimension.YEAR}
_PEOPLE = _ANY | {Dimension.SEX, Dimension.AGE_BAND}
_TEAMED = _ANY | {Dimension.TEAM, Dimension.TEAM_TYPE}
_RECORDS = _TEAMED | {Dimension.CATEGORY}
_VOLUNTEER_MEASURES = {Measure.VOLUNTEERS, Measure.NEW_VOLUNTEERS, Measure.VERIFIED_VOLUNTEERS}


@dataclass(frozen=True)
class MeasureSpec:
    model: type[SQLModel]
    date_column: str | None
    dimensions: frozenset[Dimension]
    rollups: tuple[str, ...] = ()
    """Rollup tables able to answer, smallest first."""
    is_instant: bool = True
    stock: bool = False
    """Counted as of ``to``: ``from`` does not apply."""


_RECORD_ROLLUPS = (
    "rollup_record_county_month",
    "rollup_record_month",
    "rollup_record_day",
    "rollup_record_team_day",
)
_VOLUNTEER_ROLLUPS = ("rollup_volunteer_county_month", "rollup_volunteer_month", "rollup_volunteer_day")
SPECS: dict[Measure, MeasureSpec] = {
    Measure.CONFIRMED_HOURS: MeasureSpec(
        ServiceRecord, "service_date", frozenset(_RECORDS), _RECORD_ROLLUPS, is_instant=False
    ),
    Measure.RECORDS: MeasureSpec(
        ServiceRecord, "service_date", frozenset(_RECORDS), _RECORD_ROLLUPS, is_instant=False
    ),
    Measure.ACTIVE_VOLUNTEERS: MeasureSpec(
        ServiceRecord, "service_date", frozenset(_RECORDS), is_instant=False
    ),
    Measure.VOLUNTEERS: MeasureSpec(
        Volunteer,
        "created_at",
        frozenset(_PEOPLE),
        _VOLUNTEER_ROLLUPS,
        stock=True,
    ),
    Measure.NEW_VOLUNTEERS: MeasureSpec(Volunteer, "created_at", frozenset(_PEOPLE), _VOLUNTEER_ROLLUPS),
    Measure.VERIFIED_VOLUNTEERS: MeasureSpec(
        Volunteer,
        "created_at",
        frozenset(_PEOPLE),
        _VOLUNTEER_ROLLUPS,
        stock=True,
    ),
    Measure.STAR_VOLUNTEERS: MeasureSpec(
        Volunteer,
        None,
        frozenset({Dimension.CHILD_REGION, Dimension.SEX, Dimension.AGE_BAND}),
        ("rollup_volunteer_hours",),
    ),
    Measure.TEAMS: MeasureSpec(
        Team, "created_at", frozenset(_ANY | {Dimension.TEAM_TYPE}), ("rollup_team_day",)
    ),
    Measure.PROJECTS: MeasureSpec(Project, "created_at", frozenset(_RECORDS), ("rollup_project_day",)),
    Measure.SIGN_UPS: MeasureSpec(SignUp, "created_at", frozenset(_TEAMED), ("rollup_sign_up_day",)),
    Measure.CERTIFICATES: MeasureSpec(
        Certificate, "issued_at", frozenset(_TEAMED), ("rollup_certificate_day",)
    ),
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
    source: Source = Source.ROLLUP


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
    source: Source = Source.BASE
    table: str | None = None
    """The rollup table that answered, if one did."""


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
    if spec.date_column is None and (request.from_ is not None or request.to is not None):
        raise StatisticsInputError("UNKNOWN_FILTER", "input.from" if request.from_ else "input.to")
    if request.limit is not None and not 1 <= request.limit <= MAX_ROWS:
        raise StatisticsInputError("ROW_CAP", "input.limit", max=MAX_ROWS)
    start = None if spec.stock else request.from_
    if start is not None and request.to is not None and start >= request.to:
        raise StatisticsInputError("BAD_PERIOD", "input.to")
    if spec.stock and seen & _DAILY:  # a running total has no start, so its day span has no bound
        raise StatisticsInputError("STOCK_BY_DAY", "input.groupBy", measure=request.measure.value)
    if seen & _DAILY and (
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


# --- expressions shared by both paths ---------------------------------------------------------------------------


def _period(column: Any, dimension: Dimension, dialect: str, instant: bool) -> ColumnElement[str]:
    """The period key of a date (or, ``instant``, a timestamp taken by its UTC day) as text."""
    if dialect == "postgresql":
        value = func.timezone("UTC", column) if instant else column
        if dimension is Dimension.WEEK:
            return func.to_char(func.date_trunc("week", value), "YYYY-MM-DD", type_=String)
        return func.to_char(value, _PG_PERIODS[dimension], type_=String)
    if dimension is Dimension.WEEK:
        return func.date(column, "weekday 0", "-6 days", type_=String)
    return func.strftime(_PERIODS[dimension], column, type_=String)


def _birth_year(column: Any, dialect: str) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(func.extract("year", column), Integer)
    return cast(func.strftime("%Y", column), Integer)


def _age_band(year: Any, today: date) -> ColumnElement[str]:
    """Bands by age reached this year; ``year`` NULL or 0 is unknown."""
    return case(
        (year.is_(None), "UNKNOWN"),
        (year == 0, "UNKNOWN"),
        (year > today.year - 18, "0-17"),
        (year > today.year - 35, "18-34"),
        (year > today.year - 60, "35-59"),
        else_="60+",
    )


def _child_region(column: Any, request: Request, viewer: Viewer) -> ColumnElement[str]:
    length = child_prefix_length(request, viewer)
    code: ColumnElement[str] = func.substr(column, 1, length, type_=String)
    return code if length == 12 else code + literal("0" * (12 - length), String)


def _finish(query: Any, keys: list[Any], value: Any, request: Request, present: Any = None) -> Any:
    """GROUP BY / HAVING / ORDER BY / LIMIT, the same for both paths."""
    if keys:
        query = query.group_by(*keys)
    having = []
    if keys and present is not None:
        having.append(present > 0)
    if request.having is not None:
        having.append(value >= request.having)
    if having:
        query = query.having(*having)
    order = [k.asc() for k in keys]
    if request.descending is not None:
        order.insert(0, value.desc() if request.descending else value.asc())
    return query.order_by(*order).limit((request.limit or MAX_ROWS) + 1)


def _registered_in_subtree(column: Any, viewer: Viewer) -> list[ColumnElement[bool]]:
    """Volunteer measures count a region admin's volunteers where they are registered (see the docstring)."""
    if viewer.is_ministry or not viewer.region_prefixes or viewer.team_ids or viewer.volunteer_id:
        return []
    return [in_regions(column, viewer.region_prefixes)]


def _bounds(column: Any, request: Request, spec: MeasureSpec, instant: bool) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    start = None if spec.stock else request.from_
    for bound, is_start in ((start, True), (request.to, False)):
        if bound is None:
            continue
        value: date | datetime = (
            datetime(bound.year, bound.month, bound.day, tzinfo=UTC) if instant else bound
        )
        conds.append(column >= value if is_start else column < value)
    return conds


# --- the base path (reference) ----------------------------------------------------------------------------------


def _base_dimension(
    dimension: Dimension, spec: MeasureSpec, request: Request, viewer: Viewer, dialect: str, today: date
) -> ColumnElement[Any]:
    model: Any = spec.model
    match dimension:
        case Dimension.CHILD_REGION:
            return _child_region(model.region_code, request, viewer)
        case Dimension.DAY | Dimension.WEEK | Dimension.MONTH | Dimension.YEAR:
            assert spec.date_column is not None
            return _period(getattr(model, spec.date_column), dimension, dialect, spec.is_instant)
        case Dimension.CATEGORY:
            return model.category  # type: ignore[no-any-return]
        case Dimension.TEAM:
            return model.team_id  # type: ignore[no-any-return]
        case Dimension.TEAM_TYPE:
            team_type: Any = Team.team_type
            return team_type  # type: ignore[no-any-return]
        case Dimension.SEX:
            return model.sex  # type: ignore[no-any-return]
        case Dimension.AGE_BAND:
            return _age_band(_birth_year(model.birth_date, dialect), today)


def _base_value(measure: Measure) -> ColumnElement[Any]:
    if measure is Measure.CONFIRMED_HOURS:
        # rounded in SQL: SQLite sums NUMERIC as floating point, and ``having`` compares exact cents
        return func.round(func.coalesce(func.sum(ServiceRecord.hours), 0), 2)
    if measure is Measure.ACTIVE_VOLUNTEERS:
        return func.count(func.distinct(ServiceRecord.volunteer_id))
    return func.count()


def _base_conditions(request: Request, spec: MeasureSpec, viewer: Viewer) -> list[ColumnElement[bool]]:
    model: Any = spec.model
    conds: list[ColumnElement[bool]] = []
    match request.measure:
        case Measure.CONFIRMED_HOURS | Measure.RECORDS | Measure.ACTIVE_VOLUNTEERS:
            conds.append(model.status == RecordStatus.CONFIRMED)
        case Measure.VERIFIED_VOLUNTEERS:
            conds.append(model.real_name_status == RealNameStatus.PASSED)
        case Measure.CERTIFICATES:
            conds.append(model.status == CertificateStatus.ISSUED)
        case _:
            pass
    if model is Volunteer:
        conds += _registered_in_subtree(model.region_code, viewer)
    if request.region is not None:
        conds.append(in_regions(model.region_code, (jurisdiction_prefix(request.region),)))
    if spec.date_column is not None:
        conds += _bounds(getattr(model, spec.date_column), request, spec, spec.is_instant)
    if request.category is not None:
        conds.append(model.category == request.category)
    if request.team_id is not None:
        team_key: Any = model.id if model is Team else model.team_id
        conds.append(team_key == request.team_id)
    return conds


def base_statement(
    request: Request, spec: MeasureSpec, viewer: Viewer, dialect: str, today: date, star_hours: Decimal
) -> Any:
    """The reference statement, straight over the base table through ``scope()``."""
    keys = [
        _base_dimension(d, spec, request, viewer, dialect, today).label(f"k{i}")
        for i, d in enumerate(request.group_by)
    ]
    value = _base_value(request.measure)
    query = select(*keys, value.label("value"), func.sum(value).over().label("total")).select_from(spec.model)
    model: Any = spec.model
    if Dimension.TEAM_TYPE in request.group_by and spec.model is not Team:
        query = query.join(Team, col(Team.id) == model.team_id)
    if request.measure is Measure.STAR_VOLUNTEERS:
        hours = func.round(func.sum(ServiceRecord.hours), 2)
        totals = (
            select(col(ServiceRecord.volunteer_id).label("volunteer_id"), hours.label("hours"))
            .where(col(ServiceRecord.status) == RecordStatus.CONFIRMED)
            .group_by(col(ServiceRecord.volunteer_id))
            .subquery("totals")
        )
        query = query.join(totals, totals.c.volunteer_id == col(Volunteer.id)).where(
            totals.c.hours >= star_hours
        )
    query = scope(query.where(*_base_conditions(request, spec, viewer)), spec.model, viewer)
    return _finish(query, keys, value, request)


# --- the rollup path ---------------------------------------------------------------------------------------------


def _region_digits(request: Request, viewer: Viewer) -> int:
    """How many leading digits of the region code the answer depends on (a county-keyed table keeps 6)."""
    digits = [child_prefix_length(request, viewer)] if Dimension.CHILD_REGION in request.group_by else []
    if request.region is not None:
        digits.append(len(jurisdiction_prefix(request.region)))
    if not viewer.is_ministry:
        digits += [len(p) for p in viewer.region_prefixes]
    return max(digits, default=0)


def _needs(request: Request, spec: MeasureSpec, viewer: Viewer) -> tuple[set[str], bool]:
    """Key columns the rollup must have, and whether a month-grained date is enough."""
    dims = set(request.group_by)
    needed: set[str] = set()
    bounds = [b for b in ((None if spec.stock else request.from_), request.to) if b is not None]
    dated = bool(dims & (_ANY - {Dimension.CHILD_REGION})) or bool(bounds)
    monthly = not dims & _DAILY and all(b.day == 1 for b in bounds)
    if dated:
        needed.add("date")
    if Dimension.CATEGORY in dims or request.category is not None:
        needed.add("category")
    team_keyed = dims & {Dimension.TEAM, Dimension.TEAM_TYPE} or request.team_id is not None
    if spec.model is Team and Dimension.TEAM_TYPE in dims:
        needed.add("team_type")
    elif team_keyed or (viewer.team_ids and not viewer.is_ministry):
        needed.add("team_id")
    if dims & {Dimension.SEX, Dimension.AGE_BAND}:
        needed |= {"sex", "birth_year"}
    if request.measure is Measure.VERIFIED_VOLUNTEERS:
        needed.add("verified")
    return needed, monthly


def choose_rollup(request: Request, spec: MeasureSpec, viewer: Viewer) -> Table | None:
    needed, monthly = _needs(request, spec, viewer)
    digits = _region_digits(request, viewer)
    for name in spec.rollups:
        if ROLLUPS_BY_NAME[name].region_digits < digits:
            continue
        table = ROLLUP_TABLES[name]
        columns = set(table.c.keys())
        if "day" in columns or (monthly and "month" in columns):
            columns.add("date")
        if needed <= columns:
            return table
    return None


def rollup_visibility(table: Table, viewer: Viewer) -> tuple[bool, ColumnElement[bool] | None]:
    """``scope()``'s condition moved onto a region- and team-keyed rollup: (possible, condition or None).

    Records, projects, sign-ups and certificates are visible to a region admin by their ``region_code`` and
    to a team admin by their ``team_id`` (auth/scope.py); the rollup rows carry both. A volunteer's own rows
    are not in any rollup, so a viewer who is a volunteer is answered from the base tables."""
    if viewer.is_ministry:
        return True, None
    if not viewer.is_authenticated or viewer.volunteer_id is not None:
        return False, None
    conds: list[ColumnElement[bool]] = []
    if viewer.region_prefixes:
        conds.append(in_regions(table.c.region_code, viewer.region_prefixes))
    if viewer.team_ids:
        if "team_id" not in table.c:
            return False, None
        conds.append(table.c.team_id.in_(sorted(viewer.team_ids)))
    return True, or_(*conds) if conds else false()


def _rollup_dimension(
    dimension: Dimension, table: Table, request: Request, viewer: Viewer, dialect: str, today: date
) -> ColumnElement[Any]:
    c = table.c
    match dimension:
        case Dimension.CHILD_REGION:
            return _child_region(c.region_code, request, viewer)
        case Dimension.DAY | Dimension.WEEK | Dimension.MONTH | Dimension.YEAR:
            return _period(c.day if "day" in c else c.month, dimension, dialect, instant=False)
        case Dimension.CATEGORY:
            return c.category
        case Dimension.TEAM:
            return c.team_id
        case Dimension.TEAM_TYPE:
            joined: Any = c.team_type if "team_type" in c else Team.team_type
            return joined  # type: ignore[no-any-return]
        case Dimension.SEX:
            return c.sex
        case Dimension.AGE_BAND:
            return _age_band(c.birth_year, today)


def rollup_statement(
    request: Request, spec: MeasureSpec, viewer: Viewer, dialect: str, today: date, table: Table
) -> Any | None:
    """The statement over ``table``, or None when ``scope()`` cannot be expressed on it."""
    possible, visible = rollup_visibility(table, viewer)
    if not possible:
        return None
    c = table.c
    keys = [
        _rollup_dimension(d, table, request, viewer, dialect, today).label(f"k{i}")
        for i, d in enumerate(request.group_by)
    ]
    value = (
        func.round(func.coalesce(func.sum(c.hours), 0), 2)
        if request.measure is Measure.CONFIRMED_HOURS
        else func.coalesce(func.sum(c.n), 0)
    )
    query = select(*keys, value.label("value"), func.sum(value).over().label("total")).select_from(table)
    if Dimension.TEAM_TYPE in request.group_by and "team_type" not in c:
        query = query.join(Team, col(Team.id) == c.team_id)
    conds: list[ColumnElement[bool]] = [] if visible is None else [visible]
    if spec.model is Volunteer:
        conds += _registered_in_subtree(c.region_code, viewer)
    if request.measure is Measure.VERIFIED_VOLUNTEERS:
        conds.append(c.verified == 1)
    if request.region is not None:
        conds.append(in_regions(c.region_code, (jurisdiction_prefix(request.region),)))
    if "day" in c or "month" in c:
        conds += _bounds(c.day if "day" in c else c.month, request, spec, instant=False)
    if request.category is not None:
        conds.append(c.category == request.category)
    if request.team_id is not None:
        conds.append(c.team_id == request.team_id)
    return _finish(query.where(*conds), keys, value, request, present=func.sum(c.n))


def star_rollup_statement(
    request: Request, spec: MeasureSpec, viewer: Viewer, dialect: str, today: date, star_hours: Decimal
) -> Any:
    """Star volunteers: each volunteer's rolled-up hours joined to the volunteer, through ``scope()``."""
    hours = ROLLUP_TABLES["rollup_volunteer_hours"]
    keys = [
        _base_dimension(d, spec, request, viewer, dialect, today).label(f"k{i}")
        for i, d in enumerate(request.group_by)
    ]
    value = func.count()
    query = (
        select(*keys, value.label("value"), func.sum(value).over().label("total"))
        .select_from(Volunteer)
        .join(hours, hours.c.volunteer_id == col(Volunteer.id))
        .where(func.round(hours.c.hours, 2) >= star_hours, *_base_conditions(request, spec, viewer))
    )
    return _finish(scope(query, Volunteer, viewer), keys, value, request)


def plan(
    request: Request, spec: MeasureSpec, viewer: Viewer, dialect: str, today: date, star_hours: Decimal
) -> tuple[Any, Source, str | None]:
    """The one statement answering ``request``, where it reads from, and the rollup table if any."""
    if request.source is Source.ROLLUP:
        if request.measure is Measure.STAR_VOLUNTEERS:
            query = star_rollup_statement(request, spec, viewer, dialect, today, star_hours)
            return query, Source.ROLLUP, "rollup_volunteer_hours"
        table = choose_rollup(request, spec, viewer)
        if table is not None:
            query = rollup_statement(request, spec, viewer, dialect, today, table)
            if query is not None:
                return query, Source.ROLLUP, table.name
    return base_statement(request, spec, viewer, dialect, today, star_hours), Source.BASE, None


# --- running it --------------------------------------------------------------------------------------------------


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
    sessions: SessionFactory,
    viewer: Viewer,
    request: Request,
    team_global_id: Any,
    today: date | None = None,
    star_thresholds: Sequence[int] = DEFAULT_STAR_THRESHOLDS,
) -> Result:
    spec = validate(request)
    star_hours = Decimal(min(star_thresholds)) if star_thresholds else Decimal(0)
    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        query, source, table = plan(request, spec, viewer, dialect, today or date.today(), star_hours)
        found = (await session.execute(query)).all()
        cap = request.limit or MAX_ROWS
        if len(found) > cap and request.limit is None:
            raise StatisticsInputError("ROW_CAP", "input.limit", max=MAX_ROWS)
        found = found[:cap]
        total = _number(found[0].total, request.measure) if found else Decimal(0)
        result = Result(total=total, source=source, table=table)
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
