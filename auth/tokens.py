"""Access tokens (HS256 JWTs with key rotation by ``kid``) and opaque refresh tokens.

Access tokens carry ``iss``, ``sub``, ``iat``, ``nbf``, ``exp`` and a random ``jti`` plus the caller's
claims, and name their signing key in the ``kid`` header. Several keys may be configured at once so a
key can be rotated: new tokens are signed with the active key while tokens signed with an older key
keep verifying until that key is removed from the configuration.

Refresh tokens are random strings; only their SHA-256 hex digest is meant to be stored, grouped in a
family (``new_family_id``) so a reused refresh token can revoke its whole family.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

import jwt

__all__ = [
    "InvalidToken",
    "TokenService",
    "hash_refresh_token",
    "new_family_id",
    "new_refresh_token",
]

ALGORITHM: Final = "HS256"
LEEWAY_SECONDS: Final = 30
MIN_KEY_BYTES: Final = 32  # RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
REGISTERED_CLAIMS: Final = frozenset({"iss", "sub", "iat", "nbf", "exp", "jti"})


class InvalidToken(Exception):
    """An access token that is malformed, forged, expired or otherwise unacceptable."""


def hash_refresh_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a refresh token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_refresh_token() -> tuple[str, str]:
    """Return a new random refresh token and its digest, as ``(token, sha256 hex)``."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def new_family_id() -> str:
    """Return a new refresh-token family identifier (a uuid4 in hex)."""
    return uuid.uuid4().hex


class TokenService:
    """Issues and verifies access tokens with a set of HS256 keys named by ``kid``."""

    # Also reachable from the service, for callers that only hold the instance.
    new_refresh_token = staticmethod(new_refresh_token)
    hash_refresh_token = staticmethod(hash_refresh_token)
    new_family_id = staticmethod(new_family_id)

    def __init__(
        self, keys: dict[str, bytes], active_kid: str, access_ttl: int, issuer: str = "zhiyuan"
    ) -> None:
        if active_kid not in keys:
            raise ValueError(f"active key id {active_kid!r} is not among the configured keys")
        short = sorted(kid for kid, key in keys.items() if len(key) < MIN_KEY_BYTES)
        if short:
            raise ValueError(f"HS256 keys must be at least {MIN_KEY_BYTES} bytes; too short: {short}")
        if access_ttl <= 0:
            raise ValueError("access_ttl must be a positive number of seconds")
        self._keys = dict(keys)
        self._active_kid = active_kid
        self._access_ttl = access_ttl
        self._issuer = issuer

    @property
    def access_ttl(self) -> int:
        """Lifetime of an access token, in seconds."""
        return self._access_ttl

    def issue_access(self, subject: str, claims: dict[str, object], now: datetime | None = None) -> str:
        """Return a signed access token for ``subject`` carrying ``claims``.

        ``claims`` may not redefine the registered claims this service sets itself.
        """
        clash = REGISTERED_CLAIMS.intersection(claims)
        if clash:
            raise ValueError(f"claims may not override registered claims: {sorted(clash)}")
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        issued = int(now.timestamp())
        payload: dict[str, object] = {
            **claims,
            "iss": self._issuer,
            "sub": subject,
            "iat": issued,
            "nbf": issued,
            "exp": int((now + timedelta(seconds=self._access_ttl)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(
            payload, self._keys[self._active_kid], algorithm=ALGORITHM, headers={"kid": self._active_kid}
        )

    def decode_access(self, token: str) -> dict[str, object]:
        """Verify an access token and return its claims; raise :class:`InvalidToken` on any failure."""
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if not isinstance(kid, str) or kid not in self._keys:
                raise InvalidToken("unknown signing key")
            claims: dict[str, object] = jwt.decode(
                token,
                self._keys[kid],
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        except (ValueError, TypeError) as exc:  # defensive: nothing from the JWT library leaks out
            raise InvalidToken("malformed token") from exc
        return claims
