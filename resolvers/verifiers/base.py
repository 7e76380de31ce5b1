"""The verifier interfaces. A verifier answers PASSED or FAILED, or RETRY when it could not decide now
(remote down, timeout, circuit open); callers keep the subject PENDING and try again later."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from models.enums import IdType


class Outcome(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    RETRY = "RETRY"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    note: str = ""


class IdentityVerifier(Protocol):
    async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict: ...


class LegalPersonVerifier(Protocol):
    async def verify_organisation(self, name: str, credit_code: str) -> Verdict: ...
