"""Password hashing and verification: argon2id for new hashes, legacy digests accepted for migration.

Accepted stored formats
-----------------------

``$argon2id$v=19$m=<memory>,t=<time>,p=<parallelism>$<salt>$<hash>``
    The argon2 PHC string written by :meth:`Passwords.hash`. Every new or rehashed password uses this
    format. Hashes of the other argon2 variants (``$argon2i$``, ``$argon2d$``) are verified as well, and
    any argon2 hash whose variant or parameters differ from the configured ones is reported as needing
    a rehash.

``legacy$<algo>$<salt>$<hexdigest>``
    A hash migrated from the old system, where ``<hexdigest>`` is ``algo(salt + password)``: the salt
    and the password are UTF-8 encoded and concatenated, salt first. ``<algo>`` is one of ``md5``,
    ``sha1`` or ``sha256`` (lower case). ``<salt>`` may be empty, which means the old hash was unsalted
    (``legacy$md5$$<hexdigest>``); it may contain any character except that it ends at the *last*
    ``$`` of the string. ``<hexdigest>`` is the full hexadecimal digest of the algorithm (32, 40 or 64
    characters), upper or lower case.

``legacy$<algo>-suffix$<salt>$<hexdigest>``
    The same, for old exports that appended the salt instead: ``<hexdigest>`` is
    ``algo(password + salt)``. For example ``legacy$sha1-suffix$pepper$<hexdigest>``.

A legacy hash that verifies is always reported as needing a rehash, so it is replaced by argon2id at
the next successful login. Anything else (an unknown algorithm, a digest of the wrong length or with
non-hex characters, a missing field, an unrecognised prefix, an empty string) never raises: it simply
fails to verify. :func:`legacy_hash` produces the legacy formats (for demo data and tests).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import string
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["LEGACY_ALGORITHMS", "PasswordCheck", "Passwords", "legacy_hash"]

LEGACY_PREFIX: Final = "legacy$"
LEGACY_SUFFIX_MARK: Final = "-suffix"
LEGACY_ALGORITHMS: Final = frozenset({"md5", "sha1", "sha256"})
_HEX_DIGITS: Final = frozenset(string.hexdigits)
# A password nobody uses, hashed once per Passwords instance for dummy_verify.
_DUMMY_PASSWORD: Final = "zhiyuan-dummy-password-for-constant-time-login"


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of a verification.

    ``needs_rehash`` is only ever True together with ``ok``: the caller should then store
    ``Passwords.hash(password)`` in place of the old hash.
    """

    ok: bool
    needs_rehash: bool


_FAILED: Final = PasswordCheck(ok=False, needs_rehash=False)


def _legacy_digest(algo: str, salt: str, password: str, suffix: bool) -> str:
    data = (password + salt) if suffix else (salt + password)
    return hashlib.new(algo, data.encode("utf-8")).hexdigest()


def legacy_hash(algo: str, salt: str, password: str, suffix: bool = False) -> str:
    """Return ``password`` hashed in the legacy format (``legacy$<algo>[-suffix]$<salt>$<hexdigest>``)."""
    if algo not in LEGACY_ALGORITHMS:
        raise ValueError(f"unknown legacy algorithm {algo!r}; expected one of {sorted(LEGACY_ALGORITHMS)}")
    mark = LEGACY_SUFFIX_MARK if suffix else ""
    return f"{LEGACY_PREFIX}{algo}{mark}${salt}${_legacy_digest(algo, salt, password, suffix)}"


def _verify_legacy(stored: str, password: str) -> bool:
    """Check ``password`` against a ``legacy$...`` string; False for any malformed input."""
    algo_field, sep, rest = stored[len(LEGACY_PREFIX) :].partition("$")
    if not sep:
        return False
    salt, sep, digest = rest.rpartition("$")
    if not sep:
        return False
    suffix = algo_field.endswith(LEGACY_SUFFIX_MARK)
    algo = algo_field.removesuffix(LEGACY_SUFFIX_MARK) if suffix else algo_field
    if algo not in LEGACY_ALGORITHMS:
        return False
    expected = _legacy_digest(algo, salt, password, suffix)
    if len(digest) != len(expected) or not _HEX_DIGITS.issuperset(digest):
        return False
    return hmac.compare_digest(digest.lower().encode("ascii"), expected.encode("ascii"))


class Passwords:
    """Hashes passwords with argon2id and verifies both argon2 and legacy hashes."""

    def __init__(self, time_cost: int, memory_cost: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=1, type=Type.ID
        )
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        """Return the argon2id PHC string for ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> PasswordCheck:
        """Check ``password`` against a stored hash in any accepted format. Never raises."""
        try:
            if stored.startswith(LEGACY_PREFIX):
                ok = _verify_legacy(stored, password)
                return PasswordCheck(ok=True, needs_rehash=True) if ok else _FAILED
            if stored.startswith("$argon2"):
                self._hasher.verify(stored, password)
                return PasswordCheck(ok=True, needs_rehash=self._hasher.check_needs_rehash(stored))
        except (VerificationError, InvalidHashError, UnicodeError):
            # UnicodeError: a password with lone surrogates cannot be UTF-8 encoded.
            return _FAILED
        return _FAILED

    def dummy_verify(self, password: str) -> None:
        """Spend as long as a real argon2 verification, for logins whose account does not exist."""
        with contextlib.suppress(VerificationError, InvalidHashError, UnicodeError):
            self._hasher.verify(self._dummy_hash, password)
