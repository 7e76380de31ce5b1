"""Messages for attendance, service records, corrections and stars."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {}
