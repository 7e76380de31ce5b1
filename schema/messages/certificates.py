"""Messages for certificates and their verification."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {}
