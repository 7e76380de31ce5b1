"""Where a bearer token becomes the viewer: a Starlette authentication backend, once per request.

Verified tokens are remembered (a small LRU keyed by the exact token string) until they expire: the same
token always names the same viewer, so a repeat skips the signature check, the claim checks and building the
Viewer — about 5 % of a small query's server time (bench/PERF-NOTES.md). Nothing else is cached: a token not seen
before, forged or expired is verified by ``TokenService.decode_access`` as always, and each app (and so each
key configuration) has its own cache.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import orjson
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.tokens import LEEWAY_SECONDS, InvalidToken, TokenService
from auth.viewer import ANONYMOUS, Viewer


class ViewerUser(BaseUser):
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer

    @property
    def is_authenticated(self) -> bool:
        return self.viewer.is_authenticated

    @property
    def display_name(self) -> str:
        return self.viewer.username


class BearerAuth(AuthenticationBackend):
    def __init__(self, tokens: TokenService, remember: int = 4096) -> None:
        self.tokens = tokens
        self.remember = remember
        self._verified: OrderedDict[str, tuple[Viewer, float]] = OrderedDict()
        """token -> (its viewer, the time until which ``decode_access`` would accept it: exp + leeway)."""

    def viewer_for(self, token: str) -> Viewer:
        """The token's viewer; raises like ``decode_access``/``Viewer.from_claims`` for a bad token."""
        hit = self._verified.get(token)
        if hit is not None:
            if time.time() < hit[1]:
                self._verified.move_to_end(token)
                return hit[0]
            del self._verified[token]
        claims = self.tokens.decode_access(token)
        viewer = Viewer.from_claims(claims)
        expires = claims.get("exp")
        if self.remember > 0 and isinstance(expires, int):
            self._verified[token] = (viewer, expires + LEEWAY_SECONDS)
            if len(self._verified) > self.remember:
                self._verified.popitem(last=False)
        return viewer

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if not header:
            return AuthCredentials(), ViewerUser(ANONYMOUS)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("malformed Authorization header")
        try:
            viewer = self.viewer_for(token.strip())
        except (InvalidToken, KeyError, ValueError, TypeError) as exc:
            raise AuthenticationError("invalid token") from exc
        return AuthCredentials(["authenticated"]), ViewerUser(viewer)


def on_auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    """A bad token never reaches the schema: UNAUTHENTICATED, in the client's language, and no data."""
    from schema.messages import locale_from, message

    locale = locale_from(conn.headers.get("accept-language"))
    body = {
        "errors": [{"message": message("UNAUTHENTICATED", locale), "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
