"""HTTP adapters for the remote government systems: the national population database (identity) and the
social-organisation legal-person database (teams).

Both speak the same small protocol to an adapter endpoint (``settings.identity_verifier_url`` /
``settings.legal_verifier_url``)::

    POST <url>   Authorization: Bearer <token>   Content-Type: application/json
         {"name": "...", "idType": "RESIDENT_ID", "idNumber": "..."}    (identity)
         {"name": "...", "creditCode": "..."}                          (legal person)
    200  {"result": "MATCH" | "MISMATCH", "note": "..."}

MATCH → PASSED, MISMATCH → FAILED (with the remote note). Everything else is RETRY: the subject stays PENDING
and the worker tries again later.

* Timeouts, connection errors, 5xx and 429 are retried up to ``retries`` more times with a short exponential
  backoff (honouring a numeric ``Retry-After``), all within ``max_total`` seconds; then RETRY.
* Any other 4xx (or 3xx) means the adapter is misconfigured (URL, token): RETRY at once with ``HTTP_<code>``
  and a warning in the log.
* Each attempt reports to a :class:`CircuitBreaker`; while it is open the verifier answers RETRY
  (``CIRCUIT_OPEN``) without touching the network. Failures are counted per attempt, so with ``retries=2``
  two unanswered calls are six failures.

ID numbers are never logged, only a masked form (``110***********002X``). Remote notes are not logged either.
One ``httpx.AsyncClient`` per verifier, created on first use (inside the running loop); ``aclose()`` ends it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from models.enums import IdType
from resolvers.verifiers.base import Outcome, Verdict
from resolvers.verifiers.breaker import CircuitBreaker

log = logging.getLogger("zhiyuan.verifiers")

NOTE_MAX = 200
"""Notes are stored in ``volunteer.verification_note`` (200 characters)."""
MAX_DELAY = 2.0
"""The longest pause between two attempts of one call."""


def mask_identifier(value: str) -> str:
    """For logs: the first three and the last character of a long value, nothing of a short one."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 4) + value[-1]


@dataclass(frozen=True)
class _Attempt:
    verdict: Verdict | None = None
    """A final answer (MATCH, MISMATCH, or a RETRY not worth repeating now)."""
    note: str = ""
    retry_after: float = 0.0


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return 0.0  # absent, or an HTTP date: use the normal backoff
    return max(0.0, seconds)


class _HttpVerifier:
    system: ClassVar[str] = "remote"

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float = 5.0,
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
        *,
        backoff: float = 0.2,
        max_total: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.backoff = backoff
        self.max_total = max_total if max_total is not None else timeout * (retries + 1) + MAX_DELAY
        """No call takes (much) longer than this, retries and pauses included."""
        self._token = token
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = {"Accept": "application/json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._http = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.timeout),
                transport=self._transport,
                follow_redirects=False,
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            client, self._http = self._http, None
            await client.aclose()

    async def _call(self, payload: dict[str, str], subject: str) -> Verdict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_total
        last = _Attempt(note="UNAVAILABLE")
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                delay = max(min(self.backoff * 2 ** (attempt - 1), MAX_DELAY), last.retry_after)
                if loop.time() + delay >= deadline:
                    break
                await asyncio.sleep(delay)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            if not self.breaker.allow():
                log.debug("%s verifier: circuit open, %s left pending", self.system, subject)
                return Verdict(Outcome.RETRY, "CIRCUIT_OPEN")
            attempts += 1
            last = await self._attempt(payload, min(self.timeout, remaining), subject)
            if last.verdict is not None:
                return last.verdict
        log.warning(
            "%s verifier unavailable for %s after %d attempt(s): %s",
            self.system,
            subject,
            attempts,
            last.note,
        )
        return Verdict(Outcome.RETRY, last.note)

    async def _attempt(self, payload: dict[str, str], limit: float, subject: str) -> _Attempt:
        """One request. Returns a verdict, or a note (and Retry-After) for a failure worth retrying."""
        try:
            async with asyncio.timeout(limit):
                response = await self._client().post(self.url, json=payload)
        except (TimeoutError, httpx.TimeoutException):
            self.breaker.record_failure()
            return _Attempt(note="TIMEOUT")
        except httpx.TransportError as error:
            self.breaker.record_failure()
            return _Attempt(note=f"UNAVAILABLE_{type(error).__name__.upper()}"[:NOTE_MAX])
        except httpx.InvalidURL:
            self.breaker.record_failure()
            log.warning("%s verifier: invalid URL setting", self.system)
            return _Attempt(Verdict(Outcome.RETRY, "INVALID_URL"))

        status = response.status_code
        if status == 429 or status >= 500:
            self.breaker.record_failure()
            return _Attempt(note=f"HTTP_{status}", retry_after=_retry_after(response))
        if status != 200:
            self.breaker.record_failure()
            log.warning(
                "%s verifier answered HTTP %d for %s: check the verifier URL and token settings",
                self.system,
                status,
                subject,
            )
            return _Attempt(Verdict(Outcome.RETRY, f"HTTP_{status}"))
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        result = body.get("result") if isinstance(body, dict) else None
        note = body.get("note") if isinstance(body, dict) else None
        note = note[:NOTE_MAX] if isinstance(note, str) else ""
        if result == "MATCH":
            self.breaker.record_success()
            return _Attempt(Verdict(Outcome.PASSED, note or "MATCH"))
        if result == "MISMATCH":
            self.breaker.record_success()
            return _Attempt(Verdict(Outcome.FAILED, note or "MISMATCH"))
        self.breaker.record_failure()
        log.warning("%s verifier: unexpected answer for %s (no MATCH/MISMATCH result)", self.system, subject)
        return _Attempt(Verdict(Outcome.RETRY, "BAD_RESPONSE"))


class HttpIdentityVerifier(_HttpVerifier):
    """The population-database adapter (国家人口基础信息库)."""

    system: ClassVar[str] = "identity"

    async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
        payload = {"name": name, "idType": str(id_type), "idNumber": id_number}
        return await self._call(payload, mask_identifier(id_number))


class HttpLegalPersonVerifier(_HttpVerifier):
    """The social-organisation legal-person database adapter (社会组织法人库). Credit codes are public."""

    system: ClassVar[str] = "legal person"

    async def verify_organisation(self, name: str, credit_code: str) -> Verdict:
        return await self._call({"name": name, "creditCode": credit_code}, credit_code)
