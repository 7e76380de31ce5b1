"""auth.backend.BearerAuth remembers verified tokens until they expire, and only verified ones."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from starlette.authentication import AuthenticationError
from starlette.requests import HTTPConnection

from auth.backend import BearerAuth, ViewerUser
from auth.tokens import LEEWAY_SECONDS, TokenService

KEY = b"k1-secret-key-material-0123456789abcdef"
TTL = 900


class CountingTokens(TokenService):
    """The real token service, counting how often it verifies a token."""

    def __init__(self) -> None:
        super().__init__({"k1": KEY}, "k1", TTL)
        self.verified = 0

    def decode_access(self, token: str) -> dict[str, object]:
        self.verified += 1
        return super().decode_access(token)


def connection(token: str) -> HTTPConnection:
    headers = [(b"authorization", f"Bearer {token}".encode())]
    return HTTPConnection({"type": "http", "headers": headers, "path": "/graphql"})


async def viewer_of(auth: BearerAuth, token: str) -> ViewerUser:
    result = await auth.authenticate(connection(token))
    assert result is not None
    user = result[1]
    assert isinstance(user, ViewerUser)
    return user


async def test_a_token_is_verified_once_and_names_the_same_viewer() -> None:
    tokens = CountingTokens()
    auth = BearerAuth(tokens)
    first = tokens.issue_access("7", {"name": "a", "vid": 11, "grants": []})
    second = tokens.issue_access("8", {"name": "b", "vid": 12, "grants": []})
    for _ in range(3):
        assert (await viewer_of(auth, first)).viewer.volunteer_id == 11
        assert (await viewer_of(auth, second)).viewer.volunteer_id == 12
    assert tokens.verified == 2


async def test_a_forged_token_is_never_remembered() -> None:
    tokens = CountingTokens()
    auth = BearerAuth(tokens)
    token = tokens.issue_access("7", {"name": "a", "grants": []})
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            await auth.authenticate(connection(forged))
    assert tokens.verified == 2


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    tokens = CountingTokens()
    auth = BearerAuth(tokens)
    # expires (with the leeway) a little more than a second from now
    issued = datetime.now(UTC) - timedelta(seconds=TTL + LEEWAY_SECONDS - 1.5)
    token = tokens.issue_access("7", {"name": "a", "grants": []}, now=issued)
    assert (await viewer_of(auth, token)).viewer.account_id == 7
    assert (await viewer_of(auth, token)).viewer.account_id == 7
    assert tokens.verified == 1
    time.sleep(2.0)
    with pytest.raises(AuthenticationError):
        await auth.authenticate(connection(token))
    assert tokens.verified == 2


async def test_the_cache_is_bounded() -> None:
    tokens = CountingTokens()
    auth = BearerAuth(tokens, remember=2)
    issued = [tokens.issue_access(str(i), {"name": str(i), "grants": []}) for i in range(3)]
    for token in issued:
        await viewer_of(auth, token)
    await viewer_of(auth, issued[0])  # pushed out by the third token: verified again
    assert tokens.verified == 4
