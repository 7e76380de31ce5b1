"""Username and password rules (DOMAIN.md): usernames ``^[A-Za-z][A-Za-z0-9_]{5,19}$`` with the ``mz_`` and
``wm_`` prefixes reserved for migrated accounts; passwords of 8-20 characters with a digit, an upper- and a
lower-case letter."""

from __future__ import annotations

import re

from schema.errors import AppError

USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{5,19}")
RESERVED_PREFIXES = ("mz_", "wm_")


def check_username(username: str, field: str = "username", *, migrated: bool = False) -> None:
    if not USERNAME.fullmatch(username):
        raise AppError("BAD_USER_INPUT", key="USERNAME_FORMAT", field=field)
    if not migrated and username.lower().startswith(RESERVED_PREFIXES):
        raise AppError("BAD_USER_INPUT", key="USERNAME_RESERVED", field=field)


def password_ok(password: str) -> bool:
    return (
        8 <= len(password) <= 20
        and any(c.isdigit() for c in password)
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
    )


def check_password(password: str, field: str = "password") -> None:
    if not password_ok(password):
        raise AppError("BAD_USER_INPUT", key="PASSWORD_WEAK", field=field)
