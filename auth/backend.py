"""Where a bearer token becomes the viewer: a Starlette authentication backend, once per request."""

from __future__ import annotations

import orjson
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.tokens import InvalidToken, TokenService
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
    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if not header:
            return AuthCredentials(), ViewerUser(ANONYMOUS)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("malformed Authorization header")
        try:
            claims = self.tokens.decode_access(token.strip())
            viewer = Viewer.from_claims(claims)
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
