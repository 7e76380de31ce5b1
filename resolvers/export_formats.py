"""Export files written as the rows arrive, batch by batch, so memory stays flat whatever the row count.

* CSV: UTF-8 with a byte-order mark (Excel then opens Chinese text correctly), RFC 4180 quoting, CRLF; each
  batch is encoded and sent as it comes.
* XLSX: xlsxwriter in ``constant_memory`` mode — each row is flushed to the worksheet's temporary file as soon
  as it is written, so only one row is held — into a temporary file that is then streamed in chunks and
  removed. A worksheet holds at most 1,048,576 rows: longer exports continue on ``Sheet2``, ``Sheet3`` …
  Writing runs in a worker thread, one batch at a time, so the event loop keeps serving.

Cells: times in China Standard Time (UTC+8) as ``YYYY-MM-DD HH:MM:SS``, dates ISO, numbers as numbers (XLSX),
lists joined, JSON as text, booleans 是/否 (yes/no). Text that a spreadsheet would take for a formula (starting
with ``= + - @``, tab or CR) gets a leading apostrophe in CSV (OWASP "CSV injection"); XLSX cells are always
written as strings, never formulas.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import xlsxwriter  # type: ignore[import-untyped]

CHINA = timezone(timedelta(hours=8))
SHEET_ROWS = 1_048_576
CHUNK = 64 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | None
Batch = Sequence[Sequence[Any]]


def cell(value: Any, locale: str) -> Cell:
    """A value as a spreadsheet cell: text, a number or empty."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is Decimal or kind is float:
        return value  # type: ignore[no-any-return]
    if isinstance(value, bool):
        return ("yes" if value else "no") if locale == "en" else ("是" if value else "否")
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str | Decimal):
        return value
    if isinstance(value, list | tuple):
        return ("、" if locale != "en" else ", ").join(str(v) for v in value)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _csv_text(value: Cell) -> str | int | float | Decimal:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def csv_stream(headers: Sequence[str], batches: AsyncIterator[Batch]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    async for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_text(c) for c in row] for row in batch)
        yield buffer.getvalue().encode()


class _Sheets:
    """An xlsxwriter workbook in constant-memory mode that starts a new sheet when one is full."""

    def __init__(self, path: str, headers: Sequence[str], tmpdir: str) -> None:
        self.book = xlsxwriter.Workbook(
            path, {"constant_memory": True, "tmpdir": tmpdir, "strings_to_formulas": False}
        )
        self.bold = self.book.add_format({"bold": True})
        self.headers = list(headers)
        self.sheet: Any = None
        self.row = SHEET_ROWS

    def _next_sheet(self) -> None:
        self.sheet = self.book.add_worksheet()
        self.sheet.freeze_panes(1, 0)
        for i, header in enumerate(self.headers):
            self.sheet.write_string(0, i, header, self.bold)
        self.row = 1

    def write(self, batch: Batch) -> None:
        for values in batch:
            if self.row >= SHEET_ROWS:
                self._next_sheet()
            for i, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, int | float | Decimal):
                    self.sheet.write_number(self.row, i, float(value))
                else:
                    self.sheet.write_string(self.row, i, str(value))
            self.row += 1

    def close(self) -> None:
        if self.sheet is None:
            self._next_sheet()
        self.book.close()


async def xlsx_stream(headers: Sequence[str], batches: AsyncIterator[Batch]) -> AsyncIterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="zhiyuan-export-") as tmpdir:
        path = os.path.join(tmpdir, "export.xlsx")
        sheets = _Sheets(path, headers, tmpdir)
        async for batch in batches:
            await asyncio.to_thread(sheets.write, batch)
        await asyncio.to_thread(sheets.close)
        with open(path, "rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
