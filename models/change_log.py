"""The change log behind the change feed: one row per insert, update or delete of a synced table, written by
database triggers in the writer's own transaction — so ORM writes, Core bulk inserts (legacy import, demo data),
raw SQL and the sync's own upserts are all captured, and nothing is logged for a write that rolls back.

A row says *which* key changed (``table_name``, ``row_key``), in which region, by whom (``origin``: NULL for a
local write, else the peer node whose page was being applied) and where in the log (``xid``, ``seq``). The
feed reads the row's current content when it serves the entry, so the log stays narrow and several changes of
one key collapse into one entry of a page (resolvers/changes.py).

Position: ``(xid, seq)``. On SQLite ``xid`` is 0 (one writer at a time, so seq order is commit order). On
PostgreSQL a sequence value can commit out of order, so ``xid`` is the writing transaction's
``pg_current_xact_id()`` and the feed serves only entries whose ``xid`` is below the oldest transaction of
this database still running (resolvers/changes.py): every entry that can still appear later has a larger
``xid`` than all served ones, so a cursor on ``(xid, seq)`` never skips a late commit.

The triggers are generated here from one rule per table (its key column and how its region is found) and
installed by migration 0007; a later migration that adds a synced table calls ``install_triggers`` for it.
tests/test_change_feed.py fails when a table of the metadata is neither synced with triggers nor listed as
instance-local below.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from models.columns import BigId, time_field

LOCAL_TABLES = frozenset(
    {
        "alembic_version",
        "change_log",
        "sync_node",
        "sync_state",
        "refresh_token",  # sessions belong to the instance that signed the account in
        "idempotency_key",  # a client's retry goes to the instance it wrote to
        "region",  # the national region tree: reference data loaded on every instance (cli.py load-regions)
    }
)
"""Tables never synced. Also every ``rollup_*`` table: rollups are derived, and the receiving side's own
rollup triggers maintain them from the rows it applies."""

KEY_COLUMNS = {
    "province_rollout": "province_code",
    "trial_feedback": "province_code",
    "volunteer_number_sequence": "county",
}
"""Tables whose key is not ``id``."""

_SERVICE_ROLES = "('MINISTRY_ADMIN', 'PEER')"
REGION_SQL = {
    "account": (
        "COALESCE((SELECT zv.region_code FROM volunteer zv WHERE zv.account_id = {row}.id),"
        " (SELECT min(COALESCE(zg.region_code, zt.region_code)) FROM role_grant zg"
        " LEFT JOIN team zt ON zt.id = zg.team_id"
        f" WHERE zg.account_id = {{row}}.id AND zg.role NOT IN {_SERVICE_ROLES}))"
    ),
    "role_grant": (
        f"CASE WHEN {{row}}.role IN {_SERVICE_ROLES} THEN NULL"
        " ELSE COALESCE({row}.region_code, (SELECT zt.region_code FROM team zt WHERE zt.id = {row}.team_id)) END"
    ),
    "province_rollout": "{row}.province_code",
    "trial_feedback": "{row}.province_code",
    "volunteer_number_sequence": "{row}.county || '000000'",
}
"""How a row's region is found; the default is its ``region_code``. An account belongs where its volunteer
profile or its region/team grants are; ministry admins and peer service accounts belong to no region and are
never synced."""

ALSO_LOG = {"volunteer": "account_id", "role_grant": "account_id"}
"""Rows that also log the account they point at, just before themselves: an account gets its region only when
a volunteer profile or grant links it, and the peer must receive it before the row that refers to it."""

_VISITOR = (
    "FROM volunteer zv, (SELECT {region} AS r) zr WHERE zv.id = {row}.volunteer_id AND zr.r IS NOT NULL"
    " AND substr(zv.region_code, 1, 2) <> substr(zr.r, 1, 2)"
)
"""A row of one province that names a volunteer registered in another (a Zhejiang volunteer serving in
Shandong) also logs that volunteer and their account under the row's region, so the row's province receives
them first — as reference copies its own writes never touch."""


class ChangeLog(SQLModel, table=True):
    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_position", "xid", "seq"),
        Index("ix_change_log_province_position", "province", "xid", "seq"),
        Index("ix_change_log_key", "table_name", "row_key"),
    )

    seq: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    xid: int = Field(default=0, sa_type=BigInteger)
    table_name: str = Field(max_length=40)
    row_key: str = Field(max_length=40)
    region_code: str | None = Field(default=None, max_length=12)
    province: str | None = Field(default=None, max_length=2)
    op: str = Field(max_length=1)
    """I, U or D — informative: the feed serves the row as it is now, or a tombstone when it is gone."""
    at: datetime = time_field(default_now=True)
    origin: int | None = None


def is_synced(table: str) -> bool:
    return table not in LOCAL_TABLES and not table.startswith("rollup_")


def key_column(table: str) -> str:
    return KEY_COLUMNS.get(table, "id")


def region_sql(table: str, columns: set[str], row: str) -> str | None:
    """SQL for the region of ``row`` (NEW, OLD or a table alias); None for a table without a region rule."""
    if table in REGION_SQL:
        return REGION_SQL[table].format(row=row)
    return f"{row}.region_code" if "region_code" in columns else None


def _log_columns() -> str:
    return "(xid, table_name, row_key, region_code, province, op, at, origin)"


def sqlite_triggers(table: str, columns: set[str]) -> list[str]:
    """Three AFTER triggers; inserts and updates outside a province instance's province are refused."""
    statements = []
    key = key_column(table)
    for op, event, row in (("I", "INSERT", "NEW"), ("U", "UPDATE", "NEW"), ("D", "DELETE", "OLD")):
        region = region_sql(table, columns, row) or "NULL"
        origin = "(SELECT origin FROM sync_node WHERE id = 1)"
        body = []
        if op != "D":
            body.append(
                "SELECT RAISE(ABORT, 'OUTSIDE_INSTANCE_SUBTREE') FROM sync_node zn, (SELECT "
                f"{region} AS r) zr WHERE zn.id = 1 AND zn.prefix <> '' AND zn.origin IS NULL"
                " AND zr.r IS NOT NULL AND substr(zr.r, 1, 2) <> zn.prefix;"
            )
        if op != "D" and "volunteer_id" in columns and table != "volunteer":
            visitor = _VISITOR.format(region=region, row=row)
            for name, key_sql, extra in (
                ("account", "zv.account_id", " AND zv.account_id IS NOT NULL"),
                ("volunteer", "zv.id", ""),
            ):
                body.append(
                    f"INSERT INTO change_log {_log_columns()} SELECT 0, '{name}', CAST({key_sql} AS TEXT), zr.r,"
                    f" substr(zr.r, 1, 2), 'U', datetime('now'), {origin} {visitor}{extra};"
                )
        if table in ALSO_LOG:
            ref = f"{row}.{ALSO_LOG[table]}"
            body.append(
                f"INSERT INTO change_log {_log_columns()} SELECT 0, 'account', CAST({ref} AS TEXT), zr.r,"
                f" substr(zr.r, 1, 2), 'U', datetime('now'), {origin} FROM (SELECT {region} AS r) zr"
                f" WHERE {ref} IS NOT NULL AND zr.r IS NOT NULL;"
            )
        body.append(
            f"INSERT INTO change_log {_log_columns()} SELECT 0, '{table}', CAST({row}.{key} AS TEXT), zr.r,"
            f" substr(zr.r, 1, 2), '{op}', datetime('now'), {origin} FROM (SELECT {region} AS r) zr;"
        )
        statements.append(
            f"CREATE TRIGGER change_log_{table}_{op.lower()} AFTER {event} ON {table} BEGIN\n  "
            + "\n  ".join(body)
            + "\nEND"
        )
    return statements


def postgresql_triggers(table: str, columns: set[str]) -> list[str]:
    """One plpgsql function and one row trigger per table."""
    key = key_column(table)
    new_region, old_region = (region_sql(table, columns, r) or "NULL" for r in ("NEW", "OLD"))
    also = ""
    if table in ALSO_LOG:
        ref = ALSO_LOG[table]
        also = (
            f"  IF TG_OP <> 'DELETE' AND NEW.{ref} IS NOT NULL AND r IS NOT NULL THEN\n"
            f"    INSERT INTO change_log {_log_columns()} VALUES (x, 'account', NEW.{ref}::text, r,"
            " substr(r, 1, 2), 'U', now(), n.origin);\n  END IF;\n"
        )
    if "volunteer_id" in columns and table != "volunteer":
        visitor = (  # plpgsql: the variable r itself (a column alias named r would be ambiguous)
            "FROM volunteer zv WHERE zv.id = NEW.volunteer_id AND r IS NOT NULL"
            " AND substr(zv.region_code, 1, 2) <> substr(r, 1, 2)"
        )
        also += (
            "  IF TG_OP <> 'DELETE' THEN\n"
            f"    INSERT INTO change_log {_log_columns()} SELECT x, 'account', zv.account_id::text, r,"
            f" substr(r, 1, 2), 'U', now(), n.origin {visitor} AND zv.account_id IS NOT NULL;\n"
            f"    INSERT INTO change_log {_log_columns()} SELECT x, 'volunteer', zv.id::text, r,"
            f" substr(r, 1, 2), 'U', now(), n.origin {visitor};\n  END IF;\n"
        )
    function = f"""CREATE OR REPLACE FUNCTION change_log_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r text; k text; n record; x bigint := pg_current_xact_id()::text::bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := {old_region}; k := OLD.{key}::text;
  ELSE
    r := {new_region}; k := NEW.{key}::text;
  END IF;
  SELECT prefix, origin INTO n FROM sync_node WHERE id = 1;
  IF TG_OP <> 'DELETE' AND n.prefix <> '' AND n.origin IS NULL AND r IS NOT NULL
     AND substr(r, 1, 2) <> n.prefix THEN
    RAISE EXCEPTION 'OUTSIDE_INSTANCE_SUBTREE' USING ERRCODE = 'check_violation';
  END IF;
{also}  INSERT INTO change_log {_log_columns()}
    VALUES (x, '{table}', k, r, substr(r, 1, 2), left(TG_OP, 1), now(), n.origin);
  RETURN NULL;
END $$"""
    trigger = (
        f"CREATE TRIGGER change_log_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION change_log_{table}()"
    )
    return [function, trigger]


def drop_triggers(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS change_log_{table} ON {table}",
            f"DROP FUNCTION IF EXISTS change_log_{table}()",
        ]
    return [f"DROP TRIGGER IF EXISTS change_log_{table}_{op}" for op in "iud"]


def backfill_sql(table: str, columns: set[str], dialect: str) -> str:
    """One set-based INSERT … SELECT logging every existing row of ``table`` as an insert."""
    region = region_sql(table, columns, "src") or "NULL"
    now = "now()" if dialect == "postgresql" else "datetime('now')"
    return (
        f"INSERT INTO change_log {_log_columns()} SELECT 0, '{table}', CAST(src.{key_column(table)} AS TEXT),"
        f" zr.r, substr(zr.r, 1, 2), 'I', {now}, NULL FROM {table} src,"
        f" LATERAL (SELECT {region} AS r) zr ORDER BY src.{key_column(table)}"
        if dialect == "postgresql"
        else f"INSERT INTO change_log {_log_columns()} SELECT 0, '{table}', CAST(src.{key_column(table)} AS TEXT),"
        f" {region}, substr({region}, 1, 2), 'I', {now}, NULL FROM {table} src ORDER BY src.{key_column(table)}"
    )


def trigger_sql(table: str, columns: set[str], dialect: str) -> list[str]:
    return postgresql_triggers(table, columns) if dialect == "postgresql" else sqlite_triggers(table, columns)
