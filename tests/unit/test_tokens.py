"""Tests for auth.tokens: access token issue/verify, forgery refusal, key rotation, refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from auth.tokens import InvalidToken, TokenService, hash_refresh_token, new_family_id, new_refresh_token

K1 = b"k1-secret-key-material-0123456789abcdef"
K2 = b"k2-secret-key-material-0123456789abcdef"
TTL = 900


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def service(keys: dict[str, bytes] | None = None, active: str = "k1") -> TokenService:
    return TokenService(keys if keys is not None else {"k1": K1}, active, TTL)


def test_round_trip() -> None:
    svc = service()
    now = datetime.now(UTC)
    token = svc.issue_access("user-42", {"roles": ["admin"], "region": "110000"}, now=now)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    claims = svc.decode_access(token)
    assert claims["sub"] == "user-42"
    assert claims["iss"] == "zhiyuan"
    assert claims["roles"] == ["admin"]
    assert claims["region"] == "110000"
    assert claims["iat"] == claims["nbf"] == int(now.timestamp())
    assert claims["exp"] == int(now.timestamp()) + TTL
    assert isinstance(claims["jti"], str) and claims["jti"]


def test_jti_is_unique() -> None:
    svc = service()
    first = svc.decode_access(svc.issue_access("u", {}))
    second = svc.decode_access(svc.issue_access("u", {}))
    assert first["jti"] != second["jti"]


def test_claims_cannot_override_registered_claims() -> None:
    with pytest.raises(ValueError):
        service().issue_access("u", {"sub": "someone-else"})
    with pytest.raises(ValueError):
        service().issue_access("u", {"exp": 2**40})


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        service().issue_access("u", {}, now=datetime(2025, 1, 1))


def test_expired() -> None:
    svc = service()
    token = svc.issue_access("u", {}, now=datetime.now(UTC) - timedelta(seconds=TTL + 31))
    with pytest.raises(InvalidToken):
        svc.decode_access(token)


def test_expiry_leeway() -> None:
    svc = service()
    token = svc.issue_access("u", {}, now=datetime.now(UTC) - timedelta(seconds=TTL + 10))
    assert svc.decode_access(token)["sub"] == "u"


def test_not_yet_valid() -> None:
    svc = service()
    token = svc.issue_access("u", {}, now=datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(InvalidToken):
        svc.decode_access(token)


def test_tampered_payload() -> None:
    svc = service()
    header, payload, signature = svc.issue_access("user-1", {"role": "volunteer"}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    with pytest.raises(InvalidToken):
        svc.decode_access(forged)


def test_tampered_signature() -> None:
    svc = service()
    header, payload, signature = svc.issue_access("u", {}).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidToken):
        svc.decode_access(f"{header}.{payload}.{flipped}")
    with pytest.raises(InvalidToken):
        svc.decode_access(f"{header}.{payload}.")


def test_wrong_key() -> None:
    other = TokenService({"k1": b"another-key-entirely-0123456789abcdef"}, "k1", TTL)
    with pytest.raises(InvalidToken):
        service().decode_access(other.issue_access("u", {}))


def test_wrong_issuer() -> None:
    other = TokenService({"k1": K1}, "k1", TTL, issuer="elsewhere")
    with pytest.raises(InvalidToken):
        service().decode_access(other.issue_access("u", {}))


def test_unknown_kid() -> None:
    foreign = TokenService({"k9": K1}, "k9", TTL)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        service().decode_access(foreign.issue_access("u", {}))


def test_missing_kid() -> None:
    token = jwt.encode({"sub": "u", "iss": "zhiyuan", "iat": 0, "exp": 2**40}, K1, algorithm="HS256")
    with pytest.raises(InvalidToken):
        service().decode_access(token)


def test_alg_none_is_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    header = b64url(json.dumps({"alg": "none", "kid": "k1"}).encode())
    payload = b64url(
        json.dumps({"sub": "admin", "iss": "zhiyuan", "iat": now, "nbf": now, "exp": now + 600}).encode()
    )
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(InvalidToken):
            service().decode_access(token)


def test_other_algorithms_are_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "u", "iss": "zhiyuan", "iat": now, "exp": now + 600}
    long_key = K1 * 2  # HS512 wants a 64-byte key
    token = jwt.encode(claims, long_key, algorithm="HS512", headers={"kid": "k1"})
    with pytest.raises(InvalidToken, match="alg value is not allowed"):
        service({"k1": long_key}).decode_access(token)


def test_token_signed_with_key_of_another_kid() -> None:
    # Signed with k2's key but claiming kid k1: verification uses k1's key and fails.
    svc = service({"k1": K1, "k2": K2})
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "u", "iss": "zhiyuan", "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, K2, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        svc.decode_access(forged)
    genuine = jwt.encode(claims, K2, algorithm="HS256", headers={"kid": "k2"})
    assert svc.decode_access(genuine)["sub"] == "u"


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "iss"])
def test_required_claims(missing: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {"sub": "u", "iss": "zhiyuan", "iat": now, "exp": now + 600}
    del claims[missing]
    token = jwt.encode(claims, K1, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        service().decode_access(token)


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "\u00e9.\u00e9.\u00e9"]
)
def test_garbage_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(token)


def test_non_object_header_and_non_string_kid() -> None:
    body = b64url(b"{}")
    for header in (b"[]", b'"x"', b'{"alg":"HS256","kid":1}', b"not json"):
        with pytest.raises(InvalidToken):
            service().decode_access(f"{b64url(header)}.{body}.sig")


def test_key_rotation() -> None:
    old = TokenService({"k1": K1}, "k1", TTL)
    token = old.issue_access("u", {})
    rotated = TokenService({"k1": K1, "k2": K2}, "k2", TTL)
    assert rotated.decode_access(token)["sub"] == "u"
    new_token = rotated.issue_access("u", {})
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"
    assert rotated.decode_access(new_token)["sub"] == "u"
    retired = TokenService({"k2": K2}, "k2", TTL)
    assert retired.decode_access(new_token)["sub"] == "u"
    with pytest.raises(InvalidToken):
        retired.decode_access(token)


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        TokenService({"k1": K1}, "k2", TTL)
    with pytest.raises(ValueError):
        TokenService({"k1": b"short"}, "k1", TTL)
    with pytest.raises(ValueError):
        TokenService({"k1": K1}, "k1", 0)


def test_refresh_tokens() -> None:
    token, digest = new_refresh_token()
    assert len(token) >= 43
    assert digest == hashlib.sha256(token.encode()).hexdigest() == hash_refresh_token(token)
    assert new_refresh_token()[0] != token
    assert TokenService.new_refresh_token()[0] != token


def test_family_id() -> None:
    family = new_family_id()
    assert len(family) == 32 and int(family, 16) >= 0
    assert new_family_id() != family
