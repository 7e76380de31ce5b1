"""Tests for auth.passwords: argon2id hashing, rehash detection and legacy formats."""

from __future__ import annotations

import hashlib
from typing import Literal

import pytest
from argon2 import PasswordHasher, Type

from auth.passwords import PasswordCheck, Passwords, legacy_hash

CHEAP = {"time_cost": 1, "memory_cost": 1024}
OK = PasswordCheck(ok=True, needs_rehash=False)
OK_REHASH = PasswordCheck(ok=True, needs_rehash=True)
FAILED = PasswordCheck(ok=False, needs_rehash=False)


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(**CHEAP)


def test_argon2_round_trip(passwords: Passwords) -> None:
    stored = passwords.hash("correct horse 志愿")
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.verify(stored, "correct horse 志愿") == OK
    assert passwords.verify(stored, "correct horse") == FAILED
    assert passwords.hash("same") != passwords.hash("same")  # random salt


def test_argon2_rehash_flag_when_parameters_change(passwords: Passwords) -> None:
    stronger = Passwords(time_cost=2, memory_cost=1024)
    stored = passwords.hash("pw")
    assert stronger.verify(stored, "pw") == OK_REHASH
    assert stronger.verify(stored, "wrong") == FAILED
    assert stronger.verify(stronger.hash("pw"), "pw") == OK


def test_argon2i_hash_verifies_and_needs_rehash(passwords: Passwords) -> None:
    stored = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.I).hash("pw")
    assert passwords.verify(stored, "pw") == OK_REHASH


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
@pytest.mark.parametrize("salt", ["", "s4lt", "sa$lt"])
@pytest.mark.parametrize("suffix", [False, True])
def test_legacy_formats(passwords: Passwords, algo: str, salt: str, suffix: bool) -> None:
    stored = legacy_hash(algo, salt, "secret 密码", suffix=suffix)
    data = ("secret 密码" + salt) if suffix else (salt + "secret 密码")
    digest = hashlib.new(algo, data.encode("utf-8")).hexdigest()
    mark = "-suffix" if suffix else ""
    assert stored == f"legacy${algo}{mark}${salt}${digest}"
    assert passwords.verify(stored, "secret 密码") == OK_REHASH
    assert passwords.verify(stored, "secret") == FAILED
    assert passwords.verify(stored.upper().replace("LEGACY$", "legacy$"), "secret 密码") == FAILED


def test_legacy_known_vectors(passwords: Passwords) -> None:
    # md5("") and sha1("abc") from the published test vectors.
    assert passwords.verify("legacy$md5$$d41d8cd98f00b204e9800998ecf8427e", "") == OK_REHASH
    assert passwords.verify("legacy$sha1$a$a9993e364706816aba3e25717850c26c9cd0d89d", "bc") == OK_REHASH
    assert (
        passwords.verify("legacy$sha1-suffix$c$A9993E364706816ABA3E25717850C26C9CD0D89D", "ab") == OK_REHASH
    )


def test_prefix_and_suffix_are_not_interchangeable(passwords: Passwords) -> None:
    prefixed = legacy_hash("sha256", "salt", "pw")
    suffixed = legacy_hash("sha256", "salt", "pw", suffix=True)
    assert passwords.verify(prefixed.replace("sha256$", "sha256-suffix$", 1), "pw") == FAILED
    assert passwords.verify(suffixed.replace("sha256-suffix$", "sha256$", 1), "pw") == FAILED


def test_legacy_hash_rejects_unknown_algorithm() -> None:
    with pytest.raises(ValueError):
        legacy_hash("sha512", "", "pw")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "legacy$",
        "legacy$md5",
        "legacy$md5$",
        "legacy$md5$salt",
        "legacy$md4$$" + "0" * 32,
        "legacy$sha512$$" + "0" * 128,
        "legacy$MD5$$" + hashlib.md5(b"pw").hexdigest(),
        "legacy$md5-prefix$$" + hashlib.md5(b"pw").hexdigest(),
        "legacy$md5$$" + hashlib.md5(b"pw").hexdigest()[:-1],
        "legacy$md5$$" + hashlib.md5(b"pw").hexdigest() + "0",
        "legacy$md5$$" + "g" * 32,
        "legacy$md5$$" + "é" * 32,
        "legacy$sha1$$" + hashlib.md5(b"pw").hexdigest(),
        "md5$$" + hashlib.md5(b"pw").hexdigest(),
        "$argon2id$",
        "$argon2id$v=19$m=1024,t=1,p=1$garbage$garbage",
        "$argon2xx$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$2b$12$abcdefghijklmnopqrstuuCrVU9O7QeBd1xBsy6Nq8F4HXB9qyuC",
    ],
)
def test_garbled_hashes_fail_without_raising(passwords: Passwords, stored: str) -> None:
    assert passwords.verify(stored, "pw") == FAILED


def test_unencodable_password_fails_without_raising(passwords: Passwords) -> None:
    assert passwords.verify(passwords.hash("pw"), "\ud800") == FAILED
    assert passwords.verify(legacy_hash("md5", "", "pw"), "\ud800") == FAILED
    passwords.dummy_verify("\ud800")


def test_argon2_hash_truncated_fails(passwords: Passwords) -> None:
    stored = passwords.hash("pw")
    assert passwords.verify(stored[:-5], "pw") == FAILED


def test_dummy_verify_runs_a_real_argon2_verification(
    passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_verify = PasswordHasher.verify
    checked: list[str | bytes] = []

    def spy(self: PasswordHasher, stored: str | bytes, password: str | bytes) -> Literal[True]:
        checked.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    passwords.dummy_verify("anything")
    passwords.dummy_verify("")
    assert len(checked) == 2 and checked[0] == checked[1]
    assert isinstance(checked[0], str) and checked[0].startswith("$argon2id$v=19$m=1024,t=1,p=1$")
