"""Messages for projects, posts and sign-ups."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {}
