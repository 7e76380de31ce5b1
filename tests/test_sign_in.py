"""Sign-in through HTTP: login names, uniform failures, throttling, legacy hashes, refresh-token rotation.

The login throttle lives in the app's memory for the whole test session, so every test that records
failures acts from its own client address and, where it locks an account, a throwaway account.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from auth.passwords import legacy_hash
from models import Account
from settings import Settings
from tests.conftest import DEMO_PASSWORD, Api

LOGIN = """
mutation Login($u: String!, $p: String!) {
  login(input: {username: $u, password: $p}) {
    accessToken refreshToken expiresIn
    viewer { username grants { role regionCode canReveal } }
  }
}
"""
VIEWER = "{ viewer { username } }"
OWN_VOLUNTEER = "{ viewer { username volunteer { phone idNumber } } }"
REFRESH = """
mutation Refresh($t: String!) {
  refreshTokens(refreshToken: $t) { accessToken refreshToken expiresIn viewer { username } }
}
"""
LOGOUT = "mutation Logout($t: String!) { logout(refreshToken: $t) }"
REVOKE_ALL = "mutation { revokeAllSessions }"
FIRST_TOWNSHIP = '{ region(code: "370102000000") { children(first: 1) { nodes { code } } } }'
CREATE_ADMIN = """
mutation Create($input: CreateAdminInput!) {
  createAdmin(input: $input) { id username status grants { role regionCode canReveal } }
}
"""
SET_STATUS = """
mutation SetStatus($id: ID!, $active: Boolean!) {
  setAccountStatus(accountId: $id, active: $active) { id username status }
}
"""
THROWAWAY_PASSWORD = "Throw4way!pw"

_addresses = itertools.count(1)

ClientAt = Callable[[], AbstractAsyncContextManager[Api]]


def unique_name(prefix: str = "si") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def error_code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def locked_for(body: dict[str, Any]) -> int:
    """Asserts an ACCOUNT_LOCKED answer and returns its ``retryAfter``, which the message repeats."""
    assert body["data"] is None
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "ACCOUNT_LOCKED", body
    seconds = extensions["retryAfter"]
    assert isinstance(seconds, int)
    assert re.search(rf"\b{seconds}\b", body["errors"][0]["message"]), body
    return seconds


@pytest.fixture
def client_at(app: Starlette) -> ClientAt:
    """``async with client_at() as api:`` — the app as seen from a client address no other test uses."""

    @asynccontextmanager
    async def open_client() -> AsyncIterator[Api]:
        host = f"10.91.{next(_addresses)}.{uuid.uuid4().int % 250 + 1}"
        transport = httpx.ASGITransport(app=app, client=(host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client)

    return open_client


@pytest.fixture
async def township_admin(api: Api, tokens: dict[str, str]) -> dict[str, str]:
    """A throwaway township admin under 历下区, created by demo_lixia: ``{"id", "username", "password"}``."""
    nodes = (await api.data(FIRST_TOWNSHIP))["region"]["children"]["nodes"]
    username = unique_name("tw")
    new = {
        "username": username,
        "password": THROWAWAY_PASSWORD,
        "displayName": "临时街道管理员",
        "regionCode": nodes[0]["code"],
    }
    created = await api.as_(tokens["demo_lixia"]).data(CREATE_ADMIN, {"input": new})
    return {"id": created["createAdmin"]["id"], "username": username, "password": THROWAWAY_PASSWORD}


async def sign_in(api: Api, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    body = await api.gql(LOGIN, {"u": username, "p": password})
    assert "errors" not in body, body
    session: dict[str, Any] = body["data"]["login"]
    return session


# --- login names -----------------------------------------------------------------------------------------


async def test_login_by_username_returns_a_working_session(api: Api, settings: Settings) -> None:
    # when demo_jinan signs in by username
    session = await sign_in(api, "demo_jinan")

    # then it gets both tokens, the configured lifetime and its grants
    assert session["accessToken"] and session["refreshToken"]
    assert session["accessToken"] != session["refreshToken"]
    assert session["expiresIn"] == settings.access_token_ttl
    assert session["viewer"] == {
        "username": "demo_jinan",
        "grants": [{"role": "REGION_ADMIN", "regionCode": "370100000000", "canReveal": False}],
    }
    # and the access token identifies it
    assert (await api.as_(session["accessToken"]).data(VIEWER))["viewer"] == {"username": "demo_jinan"}


async def test_login_by_phone_number_and_by_id_number(api: Api, tokens: dict[str, str]) -> None:
    # given the volunteer's own phone number and ID number, which its owner reads unmasked
    own = (await api.as_(tokens["demo_volunteer"]).data(OWN_VOLUNTEER))["viewer"]
    phone, id_number = own["volunteer"]["phone"], own["volunteer"]["idNumber"]
    assert phone and "*" not in phone
    assert id_number and "*" not in id_number

    for login_name in (phone, id_number, f"  {phone} "):
        # when it signs in with either of them
        session = await sign_in(api, login_name)

        # then the session is demo_volunteer's
        assert session["viewer"]["username"] == "demo_volunteer"
        viewer = (await api.as_(session["accessToken"]).data(VIEWER))["viewer"]
        assert viewer == {"username": "demo_volunteer"}


# --- uniform failures ------------------------------------------------------------------------------------


async def test_wrong_password_and_unknown_username_fail_alike(
    client_at: ClientAt, township_admin: dict[str, str]
) -> None:
    async with client_at() as api:
        for language, expected in ((None, "用户名或密码错误"), ("en", "Wrong username or password")):
            headers = {"accept-language": language} if language else {}
            # when one attempt names an existing account with a wrong password, the other an unknown name
            wrong = await api.gql(LOGIN, {"u": township_admin["username"], "p": "Wrong#pass1"}, **headers)
            unknown = await api.gql(LOGIN, {"u": unique_name("nobody"), "p": "Wrong#pass1"}, **headers)

            # then both answer INVALID_CREDENTIALS with the same message, in the client's language
            for body in (wrong, unknown):
                assert body["data"] is None
                assert len(body["errors"]) == 1
                assert body["errors"][0]["extensions"] == {"code": "INVALID_CREDENTIALS"}
                assert body["errors"][0]["message"] == expected
            assert wrong["errors"] == unknown["errors"]


async def test_empty_login_name_is_invalid_credentials(client_at: ClientAt) -> None:
    async with client_at() as api:
        body = await api.gql(LOGIN, {"u": "   ", "p": DEMO_PASSWORD})
    assert body["data"] is None
    assert error_code(body) == "INVALID_CREDENTIALS"


# --- throttling ------------------------------------------------------------------------------------------


async def test_account_locks_after_max_failures(
    client_at: ClientAt, township_admin: dict[str, str], settings: Settings
) -> None:
    username, password = township_admin["username"], township_admin["password"]
    async with client_at() as api:
        # given max_failures wrong passwords in a row
        for _ in range(settings.login_max_failures):
            body = await api.gql(LOGIN, {"u": username, "p": "Wrong#pass1"})
            assert error_code(body) == "INVALID_CREDENTIALS"

        # when the next attempt brings the right password
        body = await api.gql(LOGIN, {"u": username, "p": password}, **{"accept-language": "en"})

    # then the account is locked, and the client learns when to retry
    assert body["data"] is None
    seconds = locked_for(body)
    assert 0 < seconds <= settings.login_lockout_seconds
    assert body["errors"][0]["message"] == f"Too many attempts; retry in {seconds} s"

    # and the lock follows the account to other addresses and other spellings of the name
    async with client_at() as elsewhere:
        for name in (username, username.upper(), f" {username} "):
            body = await elsewhere.gql(LOGIN, {"u": name, "p": password})
            assert error_code(body) == "ACCOUNT_LOCKED", name


async def test_failures_below_the_limit_are_cleared_by_a_success(
    client_at: ClientAt, township_admin: dict[str, str], settings: Settings
) -> None:
    username, password = township_admin["username"], township_admin["password"]
    async with client_at() as api:
        # given one failure short of the limit, then a success
        for _ in range(settings.login_max_failures - 1):
            assert (
                error_code(await api.gql(LOGIN, {"u": username, "p": "Wrong#pass1"})) == "INVALID_CREDENTIALS"
            )
        await sign_in(api, username, password)

        # when the same number of failures follows
        for _ in range(settings.login_max_failures - 1):
            assert (
                error_code(await api.gql(LOGIN, {"u": username, "p": "Wrong#pass1"})) == "INVALID_CREDENTIALS"
            )

        # then the account is still open
        assert (await sign_in(api, username, password))["viewer"]["username"] == username


async def test_client_address_locks_after_many_failures(client_at: ClientAt, settings: Settings) -> None:
    async with client_at() as attacker:
        # given more than login_ip_max_failures failures from one address, each for a different name
        for _ in range(settings.login_ip_max_failures + 1):
            body = await attacker.gql(LOGIN, {"u": unique_name("probe"), "p": "Guess#1234"})
            assert error_code(body) == "INVALID_CREDENTIALS"

        # when that address tries again, even a real account with its right password
        fresh = await attacker.gql(LOGIN, {"u": unique_name("probe"), "p": "Guess#1234"})
        real = await attacker.gql(LOGIN, {"u": "demo_xihu", "p": DEMO_PASSWORD})

    # then it is refused as locked
    for body in (fresh, real):
        assert body["data"] is None
        assert 0 < locked_for(body) <= settings.login_lockout_seconds

    # while the account itself is not locked for everyone else
    async with client_at() as someone_else:
        assert (await sign_in(someone_else, "demo_xihu"))["viewer"]["username"] == "demo_xihu"


# --- legacy hashes ---------------------------------------------------------------------------------------


async def stored_hash(app: Starlette, username: str) -> str:
    async with app.state.services.sessions() as session:
        account = (await session.execute(select(Account).where(Account.username == username))).scalar_one()
        password_hash: str = account.password_hash
        return password_hash


async def test_legacy_hash_is_upgraded_to_argon2id_at_login(api: Api, app: Starlette) -> None:
    # given mz_legacy01 with its migrated md5 hash (restored, as another test may have signed it in already)
    async with app.state.services.sessions() as session, session.begin():
        account = (
            await session.execute(select(Account).where(Account.username == "mz_legacy01"))
        ).scalar_one()
        if not account.password_hash.startswith("legacy$"):
            account.password_hash = legacy_hash("md5", "s4lt", DEMO_PASSWORD)
    assert (await stored_hash(app, "mz_legacy01")).startswith("legacy$md5$")

    # when it signs in with the demo password
    session_one = await sign_in(api, "mz_legacy01")

    # then the stored hash is now argon2id
    assert session_one["viewer"]["username"] == "mz_legacy01"
    upgraded = await stored_hash(app, "mz_legacy01")
    assert upgraded.startswith("$argon2id$")

    # and signing in still works, without touching the new hash
    session_two = await sign_in(api, "mz_legacy01")
    assert session_two["viewer"]["username"] == "mz_legacy01"
    assert await stored_hash(app, "mz_legacy01") == upgraded


# --- refresh tokens --------------------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    # given a fresh session
    first = await sign_in(api, "demo_jinan")

    # when its refresh token is exchanged
    body = await api.gql(REFRESH, {"t": first["refreshToken"]})

    # then a new pair comes back, and the new access token works
    assert "errors" not in body, body
    second = body["data"]["refreshTokens"]
    assert second["viewer"] == {"username": "demo_jinan"}
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert (await api.as_(second["accessToken"]).data(VIEWER))["viewer"] == {"username": "demo_jinan"}

    # when the spent refresh token is presented again
    reuse = await api.gql(REFRESH, {"t": first["refreshToken"]})

    # then it is refused, and the whole family dies with it: the newer token too
    assert reuse["data"] is None
    assert error_code(reuse) == "INVALID_REFRESH_TOKEN"
    assert error_code(await api.gql(REFRESH, {"t": second["refreshToken"]})) == "INVALID_REFRESH_TOKEN"

    # while a separate session of the same account is untouched
    other = await sign_in(api, "demo_jinan")
    assert "errors" not in await api.gql(REFRESH, {"t": other["refreshToken"]})


async def test_unknown_refresh_token_is_refused(api: Api) -> None:
    body = await api.gql(REFRESH, {"t": "not-a-refresh-token"}, **{"accept-language": "en"})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_REFRESH_TOKEN"
    assert body["errors"][0]["message"] == "Invalid or expired refresh token; sign in again"


async def test_logout_spends_the_refresh_token(api: Api) -> None:
    # given a session that has been refreshed once
    first = await sign_in(api, "demo_jinan")
    second = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshTokens"]

    # when it signs out with the current refresh token
    assert (await api.data(LOGOUT, {"t": second["refreshToken"]}))["logout"] is True

    # then that token can no longer be exchanged
    assert error_code(await api.gql(REFRESH, {"t": second["refreshToken"]})) == "INVALID_REFRESH_TOKEN"
    # and signing out with an unknown token is a harmless no-op
    assert (await api.data(LOGOUT, {"t": "no-such-token"}))["logout"] is False


async def test_revoke_all_sessions_ends_every_refresh_token(api: Api, township_admin: dict[str, str]) -> None:
    username, password = township_admin["username"], township_admin["password"]
    # given three sessions, one of them already rotated once
    sessions = [await sign_in(api, username, password) for _ in range(3)]
    rotated = (await api.data(REFRESH, {"t": sessions[2]["refreshToken"]}))["refreshTokens"]
    live = [sessions[0]["refreshToken"], sessions[1]["refreshToken"], rotated["refreshToken"]]
    # and a session of another account
    bystander = await sign_in(api, "demo_jinan")

    # when the account revokes all its sessions
    count = (await api.as_(rotated["accessToken"]).data(REVOKE_ALL))["revokeAllSessions"]

    # then each live refresh token was counted once, and none can be exchanged any more
    assert count == 3
    for token in live:
        assert error_code(await api.gql(REFRESH, {"t": token})) == "INVALID_REFRESH_TOKEN"
    # and a second call finds nothing left to revoke
    assert (await api.as_(rotated["accessToken"]).data(REVOKE_ALL))["revokeAllSessions"] == 0
    # while the other account's session lives on
    assert "errors" not in await api.gql(REFRESH, {"t": bystander["refreshToken"]})


async def test_revoke_all_sessions_needs_a_signed_in_viewer(api: Api) -> None:
    body = await api.gql(REVOKE_ALL)
    assert body["data"] is None
    assert error_code(body) == "UNAUTHENTICATED"


# --- disabled accounts -----------------------------------------------------------------------------------


async def test_disabled_account_cannot_sign_in_or_refresh(
    api: Api, client_at: ClientAt, tokens: dict[str, str], township_admin: dict[str, str]
) -> None:
    username, password = township_admin["username"], township_admin["password"]
    lixia = api.as_(tokens["demo_lixia"])
    # given a session of the throwaway admin
    before = await sign_in(api, username, password)

    # when its creator disables it
    disabled = await lixia.data(SET_STATUS, {"id": township_admin["id"], "active": False})
    assert disabled["setAccountStatus"]["status"] == "DISABLED"

    # then it cannot sign in, with the same answer as a wrong password
    async with client_at() as elsewhere:
        body = await elsewhere.gql(LOGIN, {"u": username, "p": password})
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID_CREDENTIALS"}
    assert body["errors"][0]["message"] == "用户名或密码错误"
    # nor exchange the refresh token it held
    assert error_code(await api.gql(REFRESH, {"t": before["refreshToken"]})) == "INVALID_REFRESH_TOKEN"

    # and once re-enabled, it signs in again
    enabled = await lixia.data(SET_STATUS, {"id": township_admin["id"], "active": True})
    assert enabled["setAccountStatus"]["status"] == "ACTIVE"
    assert (await sign_in(api, username, password))["viewer"]["username"] == username
