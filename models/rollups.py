"""Statistics rollup tables (统计汇总表): pre-aggregated counts kept up to date by database triggers.

Each ``Rollup`` below names a base table, the condition a base row must meet to be counted, the key columns
(expressions over the base row) and the summed values. From that one definition come: the table (``rollup_*``,
in ``SQLModel.metadata`` so alembic's model/migration check sees it), the triggers for SQLite and PostgreSQL,
the back-fill (``INSERT ... SELECT ... GROUP BY``, used by migration 0005 and ``cli.py rebuild-rollups``), and
the read side in resolvers/statistics.py, which picks the smallest table holding the keys a query needs.

**Why triggers.** Rows reach the base tables through the ORM, bulk Core inserts (the demo generator), the
legacy and record imports, corrections that void a record and add its replacement, and raw upserts of a
data-sync job. Only the database sees every one of them. AFTER INSERT/UPDATE/DELETE triggers run inside the
writing statement's transaction, so a rollup is never out of step with a committed write, and a rolled-back
write rolls its rollup change back too. An UPDATE subtracts the old row's contribution and adds the new one's
(a void moves a record out of the CONFIRMED condition; a region or status change moves it between keys).

* SQLite: row-level triggers (``FOR EACH ROW``), one ``INSERT ... ON CONFLICT DO UPDATE`` per contribution;
  UPDATE triggers fire only when a column the rollup reads changed (``UPDATE OF`` + ``WHEN``). SQLite has one
  writer at a time, so there is no contention to design for.
* PostgreSQL: statement-level triggers with transition tables. One upsert per statement, aggregated per key
  (a bulk insert of 5,000 records becomes a few hundred row upserts), keys sorted so that concurrent
  statements lock rollup rows in the same order; an UPDATE whose old and new contributions cancel (a phone
  number change, a no-show count) writes nothing and locks nothing.

**Contention (PostgreSQL).** Concurrent sign-ups to one project on one day upsert the same
``rollup_sign_up_day`` row and so queue on its row lock until each transaction commits. A sign-up already
serialises on its post's ``taken`` counter (the quota's conditional UPDATE) before the sign-up row is
inserted, so the rollup adds one more short wait in the same order, not a new queue; the 100-concurrent
sign-ups test (tests/test_signups.py) stays green. The alternative — append-only delta rows folded in by a
periodic job — would remove the wait but break "a dashboard shows what was committed"; not worth it at the
rates of sign-ups and records (tens per second per hot row at peak).

**Dimensions that change over time.**

* Age band depends on today's date: volunteers are keyed by birth *year* and the bands are mapped at query
  time (age = this year − birth year, the statistical-yearbook convention, used by the base path as well).
* Team type can change: record, project, sign-up and certificate rollups are keyed by ``team_id`` and join
  ``team`` at query time for ``TEAM_TYPE``, so a type change needs no rollup rewrite. The team count itself
  (``rollup_team_day``) is keyed by type: an UPDATE of a team's type moves its one count between keys.
* Region, real-name status, sex, birth date, record status and category are keys or conditions: changes arrive
  as UPDATEs and are moved by the triggers.
* The period is the base row's date (``service_date``; instants by their UTC calendar day) and never changes
  meaning.

**What is not a rollup.** ``ACTIVE_VOLUNTEERS`` (distinct volunteers with a confirmed record in a period) is a
distinct count: it does not add up across days or regions, and a rollup able to answer it for any period
would need a row per volunteer and day — about as large as the records. It is computed on the base table
(indexed ``service_date``). ``STAR_VOLUNTEERS`` reads ``rollup_volunteer_hours`` (each volunteer's confirmed
hours, trigger-maintained) joined to ``volunteer``: the thresholds are settings, applied at query time.

**Sizes.** Keys at full region-code precision compress poorly at the day grain (on 2M records,
``rollup_record_day`` holds 1.3M rows), so the dashboards' usual question — a county or higher admin's figures
by month — has county-keyed month tables (60k rows for the same data); the resolver picks the smallest table
whose keys suffice (bench/RESULTS-statistics.md lists every table's size).

**Caveats.** ``TRUNCATE`` of a base table bypasses row triggers (nothing here truncates; run
``rebuild-rollups`` after one), and so does SQLite's ``INSERT OR REPLACE`` for the row it deletes unless
``recursive_triggers`` is on: write upserts as ``INSERT ... ON CONFLICT DO UPDATE`` (the sync job does). On SQLite a batch migration that rebuilds a base table (copy, drop, rename)
drops its triggers: such a migration must call ``install_triggers`` again (tests/test_statistics_rollups.py
checks that every trigger exists at head; ``rebuild-rollups`` reinstalls them and creates missing tables).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models.columns import BigId

PREFIX = "rollup_"


@dataclass(frozen=True)
class Key:
    """A key column: its type and the expression computing it from a base row (``{r}`` is the row alias)."""

    name: str
    type: Any
    sqlite: str
    postgresql: str
    reads: tuple[str, ...]

    def sql(self, dialect: str, row: str) -> str:
        template = self.postgresql if dialect == "postgresql" else self.sqlite
        return template.format(r=row)


def column(name: str, type_: Any, source: str | None = None) -> Key:
    source = source or name
    return Key(name, type_, f"{{r}}.{source}", f"{{r}}.{source}", (source,))


def day(source: str, *, instant: bool) -> Key:
    pg = f"({{r}}.{source} AT TIME ZONE 'UTC')::date" if instant else f"{{r}}.{source}"
    return Key("day", Date(), f"date({{r}}.{source})", pg, (source,))


def month(source: str, *, instant: bool) -> Key:
    value = f"({{r}}.{source} AT TIME ZONE 'UTC')" if instant else f"{{r}}.{source}"
    pg = f"date_trunc('month', {value})::date"
    return Key("month", Date(), f"date({{r}}.{source}, 'start of month')", pg, (source,))


BIRTH_YEAR = Key(
    "birth_year",
    Integer(),
    "coalesce(CAST(strftime('%Y', {r}.birth_date) AS INTEGER), 0)",
    "coalesce(CAST(extract(year FROM {r}.birth_date) AS INTEGER), 0)",
    ("birth_date",),
)
"""0 when unknown: key columns are never NULL (NULLs would defeat ON CONFLICT)."""
VERIFIED = Key(
    "verified",
    SmallInteger(),
    "CASE WHEN {r}.real_name_status = 'PASSED' THEN 1 ELSE 0 END",
    "CASE WHEN {r}.real_name_status = 'PASSED' THEN 1 ELSE 0 END",
    ("real_name_status",),
)
REGION = column("region_code", String(12))
COUNTY = Key(
    "region_code",
    String(12),
    "substr({r}.region_code, 1, 6) || '000000'",
    "substr({r}.region_code, 1, 6) || '000000'",
    ("region_code",),
)
"""The county (6-digit prefix) of the row's region: dashboards of county and higher admins need no finer code,
and a county-keyed table is one to two orders of magnitude smaller than a township- or village-keyed one."""
CATEGORY = column("category", String(24))
TEAM = column("team_id", BigId)


@dataclass(frozen=True)
class Rollup:
    name: str
    source: str
    keys: tuple[Key, ...]
    condition: str
    """SQL over the base row ``{r}``: which rows count."""
    condition_reads: tuple[str, ...]
    values: tuple[tuple[str, Any, str], ...] = (("n", BigInteger(), "1"),)
    """(column, type, expression over ``{r}``) summed per key."""
    index: tuple[str, ...] = ()
    """Key columns of a secondary index (the primary key leads with the region code)."""
    region_digits: int = 12
    """How many leading digits of the region code the key keeps (6: counties)."""

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @property
    def reads(self) -> tuple[str, ...]:
        names = [c for k in self.keys for c in k.reads] + list(self.condition_reads)
        names += [expr.removeprefix("{r}.") for _, _, expr in self.values if expr.startswith("{r}.")]
        return tuple(dict.fromkeys(names))

    def table(self) -> Table:
        return ROLLUP_TABLES[self.name]


_HOURS = ("hours", Numeric(14, 2), "{r}.hours")
_CONFIRMED = "{r}.status = 'CONFIRMED'"
_RECORD_VALUES = (("n", BigInteger(), "1"), _HOURS)

ROLLUPS: tuple[Rollup, ...] = (
    Rollup(
        "rollup_record_county_month",
        "service_record",
        (COUNTY, month("service_date", instant=False), CATEGORY),
        _CONFIRMED,
        ("status",),
        _RECORD_VALUES,
        region_digits=6,
    ),
    Rollup(
        "rollup_record_month",
        "service_record",
        (REGION, month("service_date", instant=False), CATEGORY),
        _CONFIRMED,
        ("status",),
        _RECORD_VALUES,
    ),
    Rollup(
        "rollup_record_day",
        "service_record",
        (REGION, day("service_date", instant=False), CATEGORY),
        _CONFIRMED,
        ("status",),
        _RECORD_VALUES,
    ),
    Rollup(
        "rollup_record_team_day",
        "service_record",
        (REGION, day("service_date", instant=False), CATEGORY, TEAM),
        _CONFIRMED,
        ("status",),
        _RECORD_VALUES,
        index=("team_id", "day"),
    ),
    Rollup(
        "rollup_volunteer_hours",
        "service_record",
        (column("volunteer_id", BigId),),
        _CONFIRMED,
        ("status",),
        _RECORD_VALUES,
    ),
    Rollup(
        "rollup_volunteer_county_month",
        "volunteer",
        (COUNTY, month("created_at", instant=True), VERIFIED),
        "1 = 1",
        (),
        region_digits=6,
    ),
    Rollup(
        "rollup_volunteer_month",
        "volunteer",
        (REGION, month("created_at", instant=True), VERIFIED),
        "1 = 1",
        (),
    ),
    Rollup(
        "rollup_volunteer_day",
        "volunteer",
        (REGION, day("created_at", instant=True), VERIFIED, column("sex", String(24)), BIRTH_YEAR),
        "1 = 1",
        (),
    ),
    Rollup(
        "rollup_team_day",
        "team",
        (REGION, day("created_at", instant=True), column("team_type", String(24))),
        "1 = 1",
        (),
    ),
    Rollup(
        "rollup_project_day",
        "project",
        (REGION, day("created_at", instant=True), CATEGORY, TEAM),
        "1 = 1",
        (),
    ),
    Rollup("rollup_sign_up_day", "sign_up", (REGION, day("created_at", instant=True), TEAM), "1 = 1", ()),
    Rollup(
        "rollup_certificate_day",
        "certificate",
        (REGION, day("issued_at", instant=True), TEAM),
        "{r}.status = 'ISSUED' AND {r}.issued_at IS NOT NULL",
        ("status", "issued_at"),
    ),
)
BY_NAME = {r.name: r for r in ROLLUPS}


def _define(rollup: Rollup) -> Table:
    columns = [Column(k.name, k.type, nullable=False, autoincrement=False) for k in rollup.keys]
    columns += [Column(name, type_, nullable=False) for name, type_, _ in rollup.values]
    indexes = [Index(f"ix_{rollup.name}_{'_'.join(rollup.index)}", *rollup.index)] if rollup.index else []
    return Table(
        rollup.name,
        SQLModel.metadata,
        *columns,
        PrimaryKeyConstraint(*rollup.key_names, name=f"pk_{rollup.name}"),
        *indexes,
    )


ROLLUP_TABLES: dict[str, Table] = {r.name: _define(r) for r in ROLLUPS}


# --- SQL: back-fill and triggers ------------------------------------------------------------------------------


def _keys(rollup: Rollup, dialect: str, row: str) -> list[str]:
    return [k.sql(dialect, row) for k in rollup.keys]


def aggregate_sql(rollup: Rollup, dialect: str) -> str:
    """The rollup's contents computed from its base table: ``SELECT keys..., sums... GROUP BY keys``."""
    keys = _keys(rollup, dialect, "r")
    sums = [f"sum({expr.format(r='r')})" for _, _, expr in rollup.values]
    groups = ", ".join(str(i + 1) for i in range(len(keys)))
    return (
        f"SELECT {', '.join(keys + sums)} FROM {rollup.source} r"
        f" WHERE {rollup.condition.format(r='r')} GROUP BY {groups}"
    )


def backfill_sql(rollup: Rollup, dialect: str) -> str:
    """Fill an empty rollup from its base table in one ``INSERT ... SELECT ... GROUP BY``."""
    columns = ", ".join([*rollup.key_names, *(v[0] for v in rollup.values)])
    return f"INSERT INTO {rollup.name} ({columns}) {aggregate_sql(rollup, dialect)}"


def _upsert_tail(rollup: Rollup) -> str:
    sets = ", ".join(f"{v} = {rollup.name}.{v} + excluded.{v}" for v, _, _ in rollup.values)
    return f" ON CONFLICT ({', '.join(rollup.key_names)}) DO UPDATE SET {sets}"


def _sqlite_contribution(rollup: Rollup, row: str, sign: str) -> str:
    values = [f"{sign}({expr.format(r=row)})" for _, _, expr in rollup.values]
    columns = ", ".join([*rollup.key_names, *(v[0] for v in rollup.values)])
    return (
        f"INSERT INTO {rollup.name} ({columns}) SELECT {', '.join(_keys(rollup, 'sqlite', row) + values)}"
        f" WHERE {rollup.condition.format(r=row)}{_upsert_tail(rollup)};"
    )


def sqlite_triggers(rollup: Rollup) -> list[str]:
    name, source = rollup.name, rollup.source
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in rollup.reads)
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {source} FOR EACH ROW BEGIN "
        f"{_sqlite_contribution(rollup, 'NEW', '+')} END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE OF {', '.join(rollup.reads)} ON {source} FOR EACH ROW"
        f" WHEN {changed} BEGIN {_sqlite_contribution(rollup, 'OLD', '-')}"
        f" {_sqlite_contribution(rollup, 'NEW', '+')} END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {source} FOR EACH ROW BEGIN "
        f"{_sqlite_contribution(rollup, 'OLD', '-')} END",
    ]


def _pg_part(rollup: Rollup, table: str, sign: str) -> str:
    keys = _keys(rollup, "postgresql", "r")
    values = [f"{sign}({expr.format(r='r')}) AS {v}" for v, _, expr in rollup.values]
    aliased = [f"{expr} AS {k}" for expr, k in zip(keys, rollup.key_names, strict=True)]
    return f"SELECT {', '.join(aliased + values)} FROM {table} r WHERE {rollup.condition.format(r='r')}"


def _pg_statement(rollup: Rollup, parts: list[str]) -> str:
    keys = ", ".join(rollup.key_names)
    sums = ", ".join(f"sum(d.{v})" for v, _, _ in rollup.values)
    changed = " OR ".join(f"sum(d.{v}) <> 0" for v, _, _ in rollup.values)
    columns = ", ".join([*rollup.key_names, *(v[0] for v in rollup.values)])
    return (
        f"INSERT INTO {rollup.name} ({columns}) SELECT {keys}, {sums} FROM ({' UNION ALL '.join(parts)}) d"
        f" GROUP BY {keys} HAVING {changed} ORDER BY {keys}{_upsert_tail(rollup)};"
    )


def postgresql_triggers(rollup: Rollup) -> list[str]:
    name, source = rollup.name, rollup.source
    plus, minus = _pg_part(rollup, "new_rows", "+"), _pg_part(rollup, "old_rows", "-")
    function = (
        f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP = 'INSERT' THEN {_pg_statement(rollup, [plus])}"
        f" ELSIF TG_OP = 'DELETE' THEN {_pg_statement(rollup, [minus])}"
        f" ELSE {_pg_statement(rollup, [minus, plus])} END IF; RETURN NULL; END $$"
    )
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_fn()"
    return [
        function,
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {source} REFERENCING NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {source}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {source} REFERENCING OLD TABLE AS old_rows {run}",
    ]


def trigger_names(rollup: Rollup) -> list[str]:
    return [f"{rollup.name}_{op}" for op in ("ins", "upd", "del")]


def drop_triggers_sql(rollup: Rollup, dialect: str) -> list[str]:
    if dialect == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {t} ON {rollup.source}" for t in trigger_names(rollup)]
        return [*drops, f"DROP FUNCTION IF EXISTS {rollup.name}_fn()"]
    return [f"DROP TRIGGER IF EXISTS {t}" for t in trigger_names(rollup)]


def install_triggers(connection: Connection, rollups: tuple[Rollup, ...] = ROLLUPS) -> None:
    """(Re)create the triggers of ``rollups`` (idempotent): for migrations and after SQLite table rebuilds."""
    dialect = connection.dialect.name
    for rollup in rollups:
        statements = drop_triggers_sql(rollup, dialect)
        statements += postgresql_triggers(rollup) if dialect == "postgresql" else sqlite_triggers(rollup)
        for statement in statements:
            connection.exec_driver_sql(statement)


def drop_triggers(connection: Connection, rollups: tuple[Rollup, ...] = ROLLUPS) -> None:
    for rollup in rollups:
        for statement in drop_triggers_sql(rollup, connection.dialect.name):
            connection.exec_driver_sql(statement)


def refill(connection: Connection, rollup: Rollup) -> int:
    """Empty ``rollup`` and fill it again from its base table; returns its row count."""
    connection.execute(text(f"DELETE FROM {rollup.name}"))
    connection.exec_driver_sql(backfill_sql(rollup, connection.dialect.name))
    return int(connection.execute(text(f"SELECT count(*) FROM {rollup.name}")).scalar_one())


async def rebuild(engine: AsyncEngine, report: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    """Rebuild every rollup from the base tables, one transaction per table (``cli.py rebuild-rollups``);
    returns each table's (rows, seconds).

    Missing rollup tables are created and every trigger is (re)installed first, so the command also repairs a
    database whose triggers a table rebuild dropped.

    Each table is emptied and refilled inside one transaction, so readers see either the old or the new
    contents; on PostgreSQL the table is locked against concurrent trigger updates meanwhile (a write that
    would change it waits), so no change is lost between the DELETE and the INSERT."""
    async with engine.begin() as conn:  # repairs: a table added since, triggers lost to a table rebuild
        await conn.run_sync(
            lambda sync: SQLModel.metadata.create_all(sync, tables=list(ROLLUP_TABLES.values()))
        )
        await conn.run_sync(install_triggers)
    counts: dict[str, tuple[int, float]] = {}
    for i, rollup in enumerate(ROLLUPS, 1):
        started = time.perf_counter()
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql(f"LOCK TABLE {rollup.name} IN EXCLUSIVE MODE")
            rows = await conn.run_sync(refill, rollup)
        seconds = time.perf_counter() - started
        counts[rollup.name] = (rows, round(seconds, 1))
        report(f"[{i}/{len(ROLLUPS)}] {rollup.name}: {rows} rows ({seconds:.1f} s)")
    return counts


async def rebuild_database(database_url: str) -> dict[str, tuple[int, float]]:
    """``cli.py rebuild-rollups``: ``rebuild`` on a database given by its URL."""
    from models.db import make_engine

    engine = make_engine(database_url)
    try:
        return await rebuild(engine)
    finally:
        await engine.dispose()
