"""The session payload shared by sign-in, token refresh and registration."""

from __future__ import annotations

import strawberry

from resolvers import sessions
from schema.types.account import Viewer
from schema.viewer_info import viewer_info


@strawberry.type(description="A new session (登录结果)")
class LoginPayload:
    access_token: str = strawberry.field(description="Short-lived bearer token (访问令牌)")
    refresh_token: str = strawberry.field(description="Opaque token for refreshTokens; single use (刷新令牌)")
    expires_in: int = strawberry.field(description="Access token lifetime in seconds (有效期，秒)")
    viewer: Viewer = strawberry.field(description="Who signed in (当前用户)")


def login_payload(session: sessions.Session) -> LoginPayload:
    viewer = viewer_info(session.viewer)
    assert viewer is not None
    return LoginPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        viewer=viewer,
    )
