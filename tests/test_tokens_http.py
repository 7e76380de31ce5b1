"""Bearer tokens at the HTTP boundary: a good one identifies the viewer, anything else is a 401 without data."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette

from settings import Settings
from tests.conftest import DEMO_PASSWORD, Api

VIEWER = "{ viewer { username } }"
LOGIN = """
mutation Login($u: String!, $p: String!) {
  login(input: {username: $u, password: $p}) { accessToken }
}
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _sign(claims: dict[str, Any], key: bytes, kid: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def expired(token: str, settings: Settings) -> str:
    """The same claims and key, but issued two hours ago and expired one hour ago."""
    now = int(time.time())
    claims = {**_claims(token), "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
    return _sign(claims, settings.jwt_keys[settings.jwt_active_kid], settings.jwt_active_kid)


def tampered_payload(token: str, settings: Settings) -> str:
    """The original header and signature around a payload promoted to ministry admin."""
    header, _, signature = token.split(".")
    claims = {**_claims(token), "grants": [{"r": "MINISTRY_ADMIN", "x": True}]}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{signature}"


def tampered_signature(token: str, settings: Settings) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def wrong_key(token: str, settings: Settings) -> str:
    return _sign(_claims(token), secrets.token_bytes(32), settings.jwt_active_kid)


def unknown_kid(token: str, settings: Settings) -> str:
    return _sign(_claims(token), settings.jwt_keys[settings.jwt_active_kid], "no-such-kid")


def alg_none(token: str, settings: Settings) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": settings.jwt_active_kid}).encode())
    payload = token.split(".")[1]
    return f"{header}.{payload}."


def alg_none_keeping_signature(token: str, settings: Settings) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": settings.jwt_active_kid}).encode())
    _, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature}"


def wrong_issuer(token: str, settings: Settings) -> str:
    claims = {**_claims(token), "iss": "someone-else"}
    return _sign(claims, settings.jwt_keys[settings.jwt_active_kid], settings.jwt_active_kid)


def no_subject(token: str, settings: Settings) -> str:
    claims = {k: v for k, v in _claims(token).items() if k != "sub"}
    return _sign(claims, settings.jwt_keys[settings.jwt_active_kid], settings.jwt_active_kid)


BAD_TOKENS: dict[str, Callable[[str, Settings], str]] = {
    "expired": expired,
    "tampered payload": tampered_payload,
    "tampered signature": tampered_signature,
    "wrong key": wrong_key,
    "unknown kid": unknown_kid,
    "alg none": alg_none,
    "alg none, old signature": alg_none_keeping_signature,
    "wrong issuer": wrong_issuer,
    "no subject": no_subject,
}

BAD_HEADERS = {
    "garbage": "Bearer garbage",
    "three garbage segments": "Bearer not.a.jwt",
    "basic scheme": "Basic xyz",
    "bearer without token": "Bearer ",
    "bare token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
}


def assert_unauthenticated(response: httpx.Response, language: str = "zh") -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body, body
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    expected = (
        "Sign-in required, or the session has expired" if language == "en" else "请先登录，或登录已失效"
    )
    assert body["errors"][0]["message"] == expected


async def test_access_token_identifies_the_viewer(api: Api, tokens: dict[str, str]) -> None:
    response = await api.as_(tokens["demo_jinan"]).post(VIEWER)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"username": "demo_jinan"}}


async def test_no_token_is_anonymous_not_an_error(api: Api) -> None:
    response = await api.post(VIEWER)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}
    assert "errors" not in response.json()


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_bad_token_is_a_401_without_data(
    api: Api, tokens: dict[str, str], settings: Settings, make: Callable[[str, Settings], str]
) -> None:
    # given a token forged or spoiled from a real one
    bad = make(tokens["demo_jinan"], settings)
    assert bad != tokens["demo_jinan"]

    # when it is presented, even for a public field
    response = await api.as_(bad).post(VIEWER)

    # then the request never reaches the schema
    assert_unauthenticated(response)


@pytest.mark.parametrize("header", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
async def test_malformed_authorization_header_is_a_401(api: Api, header: str) -> None:
    response = await api.post(VIEWER, authorization=header, **{"accept-language": "en"})
    assert_unauthenticated(response, "en")


async def test_bad_token_is_refused_for_mutations_too(
    api: Api, tokens: dict[str, str], settings: Settings
) -> None:
    # a spoiled token on login is refused before the password is even looked at
    response = await api.as_(expired(tokens["demo_jinan"], settings)).post(
        LOGIN, {"u": "demo_jinan", "p": DEMO_PASSWORD}
    )
    assert_unauthenticated(response)


@asynccontextmanager
async def app_with_keys(settings: Settings, keys: dict[str, bytes], active: str) -> AsyncIterator[Api]:
    """A second instance of the app over the same database, configured with other signing keys."""
    from server import create_app

    application: Starlette = create_app(
        replace(settings, jwt_keys=keys, jwt_active_kid=active), migrate=False
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("10.92.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client)


async def test_rotated_out_key_stops_working(api: Api, tokens: dict[str, str], settings: Settings) -> None:
    old_kid = settings.jwt_active_kid
    old_key = settings.jwt_keys[old_kid]
    new_kid, new_key = "rotated2", secrets.token_bytes(32)
    old_token = tokens["demo_jinan"]
    assert jwt.get_unverified_header(old_token)["kid"] == old_kid

    # given a deployment that signs with a new key and still verifies with the old one
    async with app_with_keys(settings, {new_kid: new_key, old_kid: old_key}, new_kid) as rotating:
        # then tokens signed with the old key keep working
        assert (await rotating.as_(old_token).data(VIEWER))["viewer"] == {"username": "demo_jinan"}
        # and new tokens are signed with the new key
        new_token = (await rotating.data(LOGIN, {"u": "demo_jinan", "p": DEMO_PASSWORD}))["login"][
            "accessToken"
        ]
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid
        assert (await rotating.as_(new_token).data(VIEWER))["viewer"] == {"username": "demo_jinan"}

    # when the old key is removed from the configuration
    async with app_with_keys(settings, {new_kid: new_key}, new_kid) as rotated:
        # then the old token is refused, while the new one works
        assert_unauthenticated(await rotated.as_(old_token).post(VIEWER))
        assert (await rotated.as_(new_token).data(VIEWER))["viewer"] == {"username": "demo_jinan"}

    # and a deployment that never had the new key refuses the new token
    assert_unauthenticated(await api.as_(new_token).post(VIEWER))
