"""Load the vendored region tree (``data/regions/regions.csv``) into the ``region`` table.

Idempotent: a table already holding as many rows as the CSV is left alone; a partly filled one gets only the
missing codes. Rows go in parents first (the CSV is ordered so, and we sort by level again to be sure), in
Core ``executemany`` chunks inside one transaction.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.region import Region

REGIONS_CSV: Path = Path(__file__).resolve().parent.parent / "data" / "regions" / "regions.csv"
CHUNK = 5000
HEADER = ["code", "name", "level", "parent_code", "retired_year"]
REGION_TABLE: Table = Region.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__

log = logging.getLogger("zhiyuan.region_seed")


def read_regions(path: Path = REGIONS_CSV) -> list[dict[str, Any]]:
    """The CSV rows as insert parameters, parents before children."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != HEADER:
            raise ValueError(f"{path}: expected header {HEADER}, got {reader.fieldnames}")
        rows: list[dict[str, Any]] = [
            {
                "code": r["code"],
                "name": r["name"],
                "level": int(r["level"]),
                "parent_code": r["parent_code"] or None,
                "retired_year": int(r["retired_year"]) if r["retired_year"] else None,
            }
            for r in reader
        ]
    rows.sort(key=lambda row: int(row["level"]))  # stable; keeps the file's order within a level
    return rows


async def load_regions(session_factory: async_sessionmaker[AsyncSession], path: Path = REGIONS_CSV) -> int:
    """Insert the region rows that are not there yet; returns how many were inserted."""
    rows = read_regions(path)
    table = REGION_TABLE
    async with session_factory() as session, session.begin():
        present = (await session.execute(select(func.count()).select_from(table))).scalar_one()
        if present == len(rows):
            return 0
        if present:
            existing = set((await session.execute(select(table.c.code))).scalars())
            rows = [row for row in rows if row["code"] not in existing]
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(table), rows[start : start + CHUNK])
    log.info("inserted %d region rows (%d were present)", len(rows), present)
    return len(rows)
