"""The identity and legal-person verifiers and the pending-verification worker.

The HTTP adapters talk real HTTP to a fake population database: a Starlette app served by uvicorn on
loopback, whose answers each test scripts (MATCH, MISMATCH, slow, 5xx, 429, 401) and which counts the
requests it gets. A closed port stands in for a system that is down.

The worker tests run on a SQLite file of their own, made by the alembic migrations once per module and
copied for each test.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import Region, Team, Volunteer
from models.db import SessionFactory, make_engine, make_session_factory
from models.enums import IdType, LegalVerification, RealNameStatus, Sex, TeamType
from models.identifiers import make_credit_code, make_resident_id
from models.migrate import upgrade
from models.pii import PiiCipher
from resolvers.verifiers.base import Outcome, Verdict
from resolvers.verifiers.breaker import BreakerState, CircuitBreaker
from resolvers.verifiers.http import HttpIdentityVerifier, HttpLegalPersonVerifier, mask_identifier
from resolvers.verifiers.offline import OfflineIdentityVerifier, OfflineLegalPersonVerifier
from resolvers.verifiers.worker import (
    build_verifiers,
    close_verifiers,
    retry_delay,
    run_forever,
    verify_pending_identities,
    verify_pending_teams,
)
from settings import Settings

TOKEN = "s3cret-adapter-token"
NAME = "张三"
NUMBER = make_resident_id("110101", date(1990, 3, 7), 42, Sex.MALE)
RETIRED_AREA_NUMBER = make_resident_id("132100", date(1968, 5, 1), 7, Sex.FEMALE)
"""邯郸地区 (132100) was retired in 1993; numbers issued there are still valid."""
CIPHER = PiiCipher(b"k" * 32)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------------
# The fake population database
# ---------------------------------------------------------------------------------------------------------


@dataclass
class FakeRemote:
    """A scripted remote system. ``script`` answers the next requests in order, then ``default`` answers.

    Actions: "match", "mismatch", "slow" (answers after ``slow_seconds``), "records" (MATCH when the name fits
    ``people[idNumber]``, else MISMATCH), "garbage" (200 without a result), or an HTTP status code.
    """

    url: str = ""
    default: str | int = "match"
    script: list[str | int] = field(default_factory=list)
    slow_seconds: float = 0.6
    people: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"authorization": request.headers.get("authorization"), "body": body})
        action = self.script.pop(0) if self.script else self.default
        if action == "slow":
            await asyncio.sleep(self.slow_seconds)
            action = "match"
        if action == "records":
            known = self.people.get(body.get("idNumber", ""))
            action = "match" if known == body.get("name") else "mismatch"
        if action == "match":
            return JSONResponse({"result": "MATCH", "note": "CONSISTENT"})
        if action == "mismatch":
            return JSONResponse({"result": "MISMATCH", "note": "NAME_MISMATCH"})
        if action == "garbage":
            return JSONResponse({"status": "ok"})
        assert isinstance(action, int)
        headers = {"Retry-After": "0"} if action == 429 else {}
        return JSONResponse({"error": "scripted"}, status_code=action, headers=headers)


@pytest.fixture
async def remote() -> AsyncIterator[FakeRemote]:
    fake = FakeRemote()
    app = Starlette(routes=[Route("/verify", fake.endpoint, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the fake remote did not start"
    fake.url = f"http://127.0.0.1:{port}/verify"
    try:
        yield fake
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/verify"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def verifiers() -> AsyncIterator[list[Any]]:
    """Collects the verifiers a test makes and closes their HTTP clients afterwards."""
    made: list[Any] = []
    yield made
    await close_verifiers(made)


def identity(
    made: list[Any],
    url: str,
    *,
    timeout: float = 0.3,
    retries: int = 2,
    breaker: CircuitBreaker | None = None,
) -> HttpIdentityVerifier:
    verifier = HttpIdentityVerifier(url, TOKEN, timeout, retries, breaker, backoff=0.01)
    made.append(verifier)
    return verifier


# ---------------------------------------------------------------------------------------------------------
# HTTP adapters
# ---------------------------------------------------------------------------------------------------------


async def test_match_passes_and_sends_the_token(remote: FakeRemote, verifiers: list[Any]) -> None:
    verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict == Verdict(Outcome.PASSED, "CONSISTENT")
    assert remote.requests == [
        {
            "authorization": f"Bearer {TOKEN}",
            "body": {"name": NAME, "idType": "RESIDENT_ID", "idNumber": NUMBER},
        }
    ]


async def test_mismatch_fails_with_the_remote_note(remote: FakeRemote, verifiers: list[Any]) -> None:
    remote.default = "mismatch"
    verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict == Verdict(Outcome.FAILED, "NAME_MISMATCH")
    assert len(remote.requests) == 1


async def test_timeout_is_retried_then_left_pending(remote: FakeRemote, verifiers: list[Any]) -> None:
    remote.default = "slow"
    verifier = identity(verifiers, remote.url, timeout=0.2, retries=2)
    started = asyncio.get_running_loop().time()
    verdict = await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    elapsed = asyncio.get_running_loop().time() - started
    assert verdict == Verdict(Outcome.RETRY, "TIMEOUT")
    assert len(remote.requests) == 3  # the first attempt and two retries
    assert elapsed < verifier.max_total


async def test_server_errors_then_success_within_the_retries(
    remote: FakeRemote, verifiers: list[Any]
) -> None:
    remote.script = [500, 503]
    verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict.outcome is Outcome.PASSED
    assert len(remote.requests) == 3


async def test_rate_limit_is_retried(remote: FakeRemote, verifiers: list[Any]) -> None:
    remote.script = [429]
    verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict.outcome is Outcome.PASSED
    assert len(remote.requests) == 2


async def test_server_errors_beyond_the_retries(remote: FakeRemote, verifiers: list[Any]) -> None:
    remote.default = 502
    verdict = await identity(verifiers, remote.url, retries=1).verify_identity(
        NAME, IdType.RESIDENT_ID, NUMBER
    )
    assert verdict == Verdict(Outcome.RETRY, "HTTP_502")
    assert len(remote.requests) == 2


async def test_client_error_is_a_configuration_problem(
    remote: FakeRemote, verifiers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    remote.default = 401
    with caplog.at_level(logging.WARNING, logger="zhiyuan.verifiers"):
        verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict == Verdict(Outcome.RETRY, "HTTP_401")
    assert len(remote.requests) == 1  # not retried: it would fail the same way
    assert "HTTP 401" in caplog.text and "token" in caplog.text


async def test_an_answer_without_a_result_is_not_a_decision(remote: FakeRemote, verifiers: list[Any]) -> None:
    remote.default = "garbage"
    verdict = await identity(verifiers, remote.url).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict == Verdict(Outcome.RETRY, "BAD_RESPONSE")


async def test_connection_refused(verifiers: list[Any]) -> None:
    verdict = await identity(verifiers, closed_port_url()).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    assert verdict.outcome is Outcome.RETRY
    assert verdict.note.startswith("UNAVAILABLE")


async def test_the_breaker_opens_and_calls_stop_reaching_the_server(
    remote: FakeRemote, verifiers: list[Any]
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30, clock=clock)
    verifier = identity(verifiers, remote.url, retries=0, breaker=breaker)
    remote.default = 500
    for _ in range(3):
        assert (await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)).note == "HTTP_500"
    assert breaker.state is BreakerState.OPEN
    for _ in range(5):
        verdict = await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
        assert verdict == Verdict(Outcome.RETRY, "CIRCUIT_OPEN")
    assert len(remote.requests) == 3

    # half open after reset_after: one probe; it fails, so the circuit opens again at once
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert (await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)).note == "HTTP_500"
    assert len(remote.requests) == 4
    assert (await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)).note == "CIRCUIT_OPEN"
    assert len(remote.requests) == 4

    # the remote recovers: the next probe succeeds and closes the circuit
    remote.default = "match"
    clock.now += 30
    assert (await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)).outcome is Outcome.PASSED
    assert breaker.state is BreakerState.CLOSED
    assert (await verifier.verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)).outcome is Outcome.PASSED
    assert len(remote.requests) == 6


async def test_retries_stop_when_the_breaker_opens(remote: FakeRemote, verifiers: list[Any]) -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    remote.default = 503
    verdict = await identity(verifiers, remote.url, retries=5, breaker=breaker).verify_identity(
        NAME, IdType.RESIDENT_ID, NUMBER
    )
    assert verdict == Verdict(Outcome.RETRY, "CIRCUIT_OPEN")
    assert len(remote.requests) == 2


async def test_the_id_number_is_never_logged(
    remote: FakeRemote, verifiers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    breaker = CircuitBreaker(failure_threshold=100)
    for action in ("slow", 401, 500, "garbage", "mismatch", "match"):
        remote.default = action
        await identity(verifiers, remote.url, timeout=0.1, retries=1, breaker=breaker).verify_identity(
            NAME, IdType.RESIDENT_ID, NUMBER
        )
    await identity(verifiers, closed_port_url(), retries=0).verify_identity(NAME, IdType.RESIDENT_ID, NUMBER)
    await identity(verifiers, remote.url, breaker=CircuitBreaker(1, clock=FakeClock())).verify_identity(
        NAME, IdType.RESIDENT_ID, NUMBER
    )
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert caplog.records, "the failures should have been logged"
    assert NUMBER not in logged
    assert NUMBER[3:-1] not in logged  # not even the birth date and sequence
    assert mask_identifier(NUMBER) in logged


def test_mask_identifier() -> None:
    assert mask_identifier("11010519491231002X") == "110**************X"
    assert mask_identifier("E1234567") == "********"


async def test_legal_person_adapter(remote: FakeRemote, verifiers: list[Any]) -> None:
    code = make_credit_code("5", "1", "110101", "MA0000001")
    verifier = HttpLegalPersonVerifier(remote.url, TOKEN, 0.5, 1, None, backoff=0.01)
    verifiers.append(verifier)
    assert (await verifier.verify_organisation("北京志愿者协会", code)).outcome is Outcome.PASSED
    remote.default = "mismatch"
    assert (await verifier.verify_organisation("北京志愿者协会", code)).outcome is Outcome.FAILED
    assert remote.requests[0] == {
        "authorization": f"Bearer {TOKEN}",
        "body": {"name": "北京志愿者协会", "creditCode": code},
    }


# ---------------------------------------------------------------------------------------------------------
# The circuit breaker on its own
# ---------------------------------------------------------------------------------------------------------


def test_breaker_counts_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.allow() and breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()


def test_half_open_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=30, clock=clock)
    breaker.record_failure()
    clock.now += 29.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else waits for it
    clock.now += 30  # a probe that never reported back is given up
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow() and breaker.allow()


# ---------------------------------------------------------------------------------------------------------
# Database fixtures for the offline verifier and the worker
# ---------------------------------------------------------------------------------------------------------

REGIONS = [
    ("110000000000", "北京市", 1, None, None),
    ("110100000000", "市辖区", 2, "110000000000", None),
    ("110101000000", "东城区", 3, "110100000000", None),
    ("130000000000", "河北省", 1, None, None),
    ("132100000000", "邯郸地区", 2, "130000000000", 1993),
]


@pytest.fixture(scope="module")
async def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verifiers") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        for code, name, level, parent, retired in REGIONS:
            session.add(Region(code=code, name=name, level=level, parent_code=parent, retired_year=retired))
    await engine.dispose()
    return path


@pytest.fixture
async def sessions(template_db: Path, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    path = tmp_path / "worker.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    yield make_session_factory(engine)
    await engine.dispose()


_serial = iter(range(1, 10**6))


async def add_volunteer(
    sessions: SessionFactory,
    number: str,
    *,
    name: str = NAME,
    id_type: IdType = IdType.RESIDENT_ID,
    status: RealNameStatus = RealNameStatus.PENDING,
    next_at: datetime | None = None,
) -> int:
    volunteer = Volunteer(
        volunteer_number=f"110101{next(_serial):08d}",
        name=name,
        id_type=id_type,
        id_number_enc=CIPHER.encrypt(number, "volunteer.id_number"),
        id_number_hash=CIPHER.blind_index(number),
        region_code="110101000000",
        real_name_status=status,
        verification_next_at=next_at,
    )
    async with sessions() as session, session.begin():
        session.add(volunteer)
    assert volunteer.id is not None
    return volunteer.id


async def volunteer(sessions: SessionFactory, volunteer_id: int) -> Volunteer:
    async with sessions() as session:
        return (
            await session.execute(select(Volunteer).where(col(Volunteer.id) == volunteer_id))
        ).scalar_one()


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (in UTC)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass
class ScriptedIdentity:
    """An identity verifier answering from a list (then ``default``), remembering what it was asked."""

    default: Verdict = field(default_factory=lambda: Verdict(Outcome.RETRY, "TIMEOUT"))
    answers: list[Verdict] = field(default_factory=list)
    asked: list[tuple[str, str, str]] = field(default_factory=list)

    async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
        self.asked.append((name, str(id_type), id_number))
        return self.answers.pop(0) if self.answers else self.default


# ---------------------------------------------------------------------------------------------------------
# Offline verifiers
# ---------------------------------------------------------------------------------------------------------


async def test_offline_identity(sessions: SessionFactory) -> None:
    verifier = OfflineIdentityVerifier(sessions)
    resident = IdType.RESIDENT_ID
    assert (await verifier.verify_identity(NAME, resident, NUMBER)).outcome is Outcome.PASSED
    assert (await verifier.verify_identity(NAME, resident, RETIRED_AREA_NUMBER)).outcome is Outcome.PASSED
    prefecture = make_resident_id("110100", date(1960, 1, 1), 1, Sex.MALE)
    assert (await verifier.verify_identity(NAME, resident, prefecture)).outcome is Outcome.PASSED
    legacy15 = NUMBER[:6] + NUMBER[8:17]  # the 15-digit form of the same person
    assert (await verifier.verify_identity(NAME, resident, legacy15)).outcome is Outcome.PASSED
    unknown = make_resident_id("990101", date(1990, 1, 1), 1, Sex.MALE)
    assert await verifier.verify_identity(NAME, resident, unknown) == Verdict(
        Outcome.FAILED, "AREA_CODE_UNKNOWN"
    )
    wrong_check = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    assert await verifier.verify_identity(NAME, resident, wrong_check) == Verdict(
        Outcome.FAILED, "ID_NUMBER_CHECKSUM"
    )
    assert (await verifier.verify_identity(NAME, resident, "12345")).note == "ID_NUMBER_FORMAT"
    passport = await verifier.verify_identity(NAME, IdType.PASSPORT, "E12345678")
    assert passport == Verdict(Outcome.RETRY, "ID_TYPE_NEEDS_MANUAL_REVIEW")


async def test_offline_legal_person() -> None:
    verifier = OfflineLegalPersonVerifier()
    assert (await verifier.verify_organisation("x", "91350100M000100Y43")).outcome is Outcome.PASSED
    assert await verifier.verify_organisation("x", "91350100M000100Y44") == Verdict(
        Outcome.FAILED, "CREDIT_CODE_CHECKSUM"
    )


# ---------------------------------------------------------------------------------------------------------
# The worker
# ---------------------------------------------------------------------------------------------------------


async def test_worker_decides_pending_volunteers_offline(sessions: SessionFactory) -> None:
    good = await add_volunteer(sessions, NUMBER)
    retired = await add_volunteer(sessions, RETIRED_AREA_NUMBER)
    unknown = await add_volunteer(sessions, make_resident_id("990101", date(1990, 1, 1), 3, Sex.FEMALE))
    passport = await add_volunteer(sessions, "E12345678", id_type=IdType.PASSPORT)
    decided = await add_volunteer(
        sessions, make_resident_id("110101", date(1985, 2, 2), 9, Sex.MALE), status=RealNameStatus.PASSED
    )

    counts = await verify_pending_identities(sessions, CIPHER, OfflineIdentityVerifier(sessions), now=T0)
    assert counts == {"passed": 2, "failed": 1, "retry": 0}
    for volunteer_id, status, note in (
        (good, RealNameStatus.PASSED, "OFFLINE_CHECK"),
        (retired, RealNameStatus.PASSED, "OFFLINE_CHECK"),
        (unknown, RealNameStatus.FAILED, "AREA_CODE_UNKNOWN"),
        (passport, RealNameStatus.PENDING, ""),  # manual review, never sent to a verifier
        (decided, RealNameStatus.PASSED, ""),
    ):
        row = await volunteer(sessions, volunteer_id)
        assert (row.real_name_status, row.verification_note) == (status, note), volunteer_id
        assert row.verification_next_at is None

    # nothing is left to do
    again = await verify_pending_identities(sessions, CIPHER, OfflineIdentityVerifier(sessions), now=T0)
    assert again == {"passed": 0, "failed": 0, "retry": 0}


async def test_worker_retry_bookkeeping(sessions: SessionFactory) -> None:
    volunteer_id = await add_volunteer(sessions, NUMBER)
    verifier = ScriptedIdentity()

    assert (await verify_pending_identities(sessions, CIPHER, verifier, now=T0))["retry"] == 1
    row = await volunteer(sessions, volunteer_id)
    assert row.real_name_status == RealNameStatus.PENDING
    assert row.verification_attempts == 1
    assert aware(row.verification_next_at) == T0 + timedelta(seconds=30)
    assert row.verification_note == "TIMEOUT"
    assert verifier.asked == [(NAME, "RESIDENT_ID", NUMBER)]  # decrypted for the call

    # not due yet: skipped
    early = T0 + timedelta(seconds=29)
    assert await verify_pending_identities(sessions, CIPHER, verifier, now=early) == {
        "passed": 0,
        "failed": 0,
        "retry": 0,
    }
    assert len(verifier.asked) == 1

    # due: tried again, the wait doubles
    t1 = T0 + timedelta(seconds=30)
    assert (await verify_pending_identities(sessions, CIPHER, verifier, now=t1))["retry"] == 1
    row = await volunteer(sessions, volunteer_id)
    assert row.verification_attempts == 2
    assert aware(row.verification_next_at) == t1 + timedelta(seconds=60)

    # the remote answers at last
    verifier.answers = [Verdict(Outcome.FAILED, "NAME_MISMATCH")]
    t2 = t1 + timedelta(seconds=60)
    assert (await verify_pending_identities(sessions, CIPHER, verifier, now=t2))["failed"] == 1
    row = await volunteer(sessions, volunteer_id)
    assert (row.real_name_status, row.verification_note) == (RealNameStatus.FAILED, "NAME_MISMATCH")
    assert row.verification_next_at is None and row.verification_attempts == 2


def test_retry_delay_doubles_up_to_six_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in range(4)] == [30, 60, 120, 240]
    assert retry_delay(9) == timedelta(seconds=30 * 512)
    assert retry_delay(10) == timedelta(hours=6)
    assert retry_delay(10_000) == timedelta(hours=6)


async def test_worker_takes_due_volunteers_in_order_and_in_batches(sessions: SessionFactory) -> None:
    later = await add_volunteer(sessions, NUMBER, next_at=T0 - timedelta(minutes=1))
    earlier = await add_volunteer(sessions, RETIRED_AREA_NUMBER, next_at=T0 - timedelta(minutes=5))
    never_tried = await add_volunteer(sessions, make_resident_id("110101", date(1999, 9, 9), 5, Sex.MALE))
    future = await add_volunteer(
        sessions, make_resident_id("110101", date(1999, 9, 9), 6, Sex.MALE), next_at=T0 + timedelta(hours=1)
    )
    verifier = ScriptedIdentity(default=Verdict(Outcome.PASSED, "MATCH"))
    assert (await verify_pending_identities(sessions, CIPHER, verifier, now=T0, batch=2))["passed"] == 2
    assert [
        (await volunteer(sessions, v)).real_name_status for v in (never_tried, earlier, later, future)
    ] == [
        RealNameStatus.PASSED,
        RealNameStatus.PASSED,
        RealNameStatus.PENDING,
        RealNameStatus.PENDING,
    ]


async def test_worker_survives_a_failing_row_and_holds_no_transaction_during_calls(
    sessions: SessionFactory,
) -> None:
    broken = await add_volunteer(sessions, NUMBER)
    async with sessions() as session, session.begin():
        row = (await session.execute(select(Volunteer).where(col(Volunteer.id) == broken))).scalar_one()
        row.id_number_enc = PiiCipher(b"x" * 32).encrypt(NUMBER, "volunteer.id_number")  # undecryptable
    fine = await add_volunteer(sessions, RETIRED_AREA_NUMBER)

    class WritesDuringTheCall:
        """Writes to the database in the middle of the call: would wait on a write transaction left open."""

        async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
            async with sessions() as session, session.begin():
                other = (
                    await session.execute(select(Volunteer).where(col(Volunteer.id) == broken))
                ).scalar_one()
                other.availability = "weekends"
            return Verdict(Outcome.PASSED, "MATCH")

    counts = await asyncio.wait_for(
        verify_pending_identities(sessions, CIPHER, WritesDuringTheCall(), now=T0), timeout=20
    )
    assert counts == {"passed": 1, "failed": 0, "retry": 1}
    assert (await volunteer(sessions, broken)).verification_note == "INTERNAL_ERROR"
    assert (await volunteer(sessions, fine)).real_name_status == RealNameStatus.PASSED


async def test_a_decision_made_meanwhile_is_not_overwritten(sessions: SessionFactory) -> None:
    volunteer_id = await add_volunteer(sessions, NUMBER)

    class ReviewerDecidesMeanwhile:
        async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
            async with sessions() as session, session.begin():
                row = (
                    await session.execute(select(Volunteer).where(col(Volunteer.id) == volunteer_id))
                ).scalar_one()
                row.real_name_status = RealNameStatus.UNDER_REVIEW
            return Verdict(Outcome.PASSED, "MATCH")

    await verify_pending_identities(sessions, CIPHER, ReviewerDecidesMeanwhile(), now=T0)
    assert (await volunteer(sessions, volunteer_id)).real_name_status == RealNameStatus.UNDER_REVIEW


async def test_worker_over_http(remote: FakeRemote, sessions: SessionFactory, verifiers: list[Any]) -> None:
    matching = await add_volunteer(sessions, NUMBER)
    other_number = make_resident_id("110101", date(2001, 6, 1), 11, Sex.FEMALE)
    mismatching = await add_volunteer(sessions, other_number, name="李四")
    remote.default = "records"
    remote.people = {NUMBER: NAME, other_number: "李思"}
    verifier = identity(verifiers, remote.url)
    assert await verify_pending_identities(sessions, CIPHER, verifier, now=T0) == {
        "passed": 1,
        "failed": 1,
        "retry": 0,
    }
    assert (await volunteer(sessions, matching)).real_name_status == RealNameStatus.PASSED
    mismatched = await volunteer(sessions, mismatching)
    assert (mismatched.real_name_status, mismatched.verification_note) == (
        RealNameStatus.FAILED,
        "NAME_MISMATCH",
    )

    # the remote is down: the volunteer stays pending with the reason
    down = await add_volunteer(sessions, RETIRED_AREA_NUMBER)
    remote.default = 503
    assert (await verify_pending_identities(sessions, CIPHER, verifier, now=T0))["retry"] == 1
    row = await volunteer(sessions, down)
    assert (row.real_name_status, row.verification_note, row.verification_attempts) == (
        RealNameStatus.PENDING,
        "HTTP_503",
        1,
    )


async def add_team(
    sessions: SessionFactory, name: str, credit_code: str | None, legal: LegalVerification
) -> int:
    team = Team(
        name=name,
        team_type=TeamType.LEGAL_PERSON,
        credit_code=credit_code,
        region_code="110101000000",
        legal_verification=legal,
    )
    async with sessions() as session, session.begin():
        session.add(team)
    assert team.id is not None
    return team.id


async def team_state(sessions: SessionFactory, team_id: int) -> str:
    async with sessions() as session:
        return (
            await session.execute(select(col(Team.legal_verification)).where(col(Team.id) == team_id))
        ).scalar_one()


async def test_worker_teams(sessions: SessionFactory) -> None:
    valid = await add_team(
        sessions,
        "东城区志愿者协会",
        make_credit_code("5", "1", "110101", "MA0000001"),
        LegalVerification.PENDING,
    )
    bad = await add_team(sessions, "坏代码协会", "91350100M000100Y44", LegalVerification.PENDING)
    missing = await add_team(sessions, "无代码协会", None, LegalVerification.PENDING)
    group = await add_team(sessions, "社区小组", None, LegalVerification.NOT_REQUIRED)

    counts = await verify_pending_teams(sessions, OfflineLegalPersonVerifier(), now=T0)
    assert counts == {"passed": 1, "failed": 2, "retry": 0}
    assert [await team_state(sessions, t) for t in (valid, bad, missing, group)] == [
        LegalVerification.PASSED,
        LegalVerification.FAILED,
        LegalVerification.FAILED,
        LegalVerification.NOT_REQUIRED,
    ]


async def test_worker_teams_retry_stays_pending(sessions: SessionFactory) -> None:
    team_id = await add_team(
        sessions,
        "朝阳志愿者协会",
        make_credit_code("5", "2", "110101", "MA0000002"),
        LegalVerification.PENDING,
    )

    class Down:
        calls = 0

        async def verify_organisation(self, name: str, credit_code: str) -> Verdict:
            self.calls += 1
            return Verdict(Outcome.RETRY, "CIRCUIT_OPEN")

    down = Down()
    for _ in range(2):  # tried on every run
        assert (await verify_pending_teams(sessions, down, now=T0))["retry"] == 1
    assert down.calls == 2
    assert await team_state(sessions, team_id) == LegalVerification.PENDING


# ---------------------------------------------------------------------------------------------------------
# Wiring
# ---------------------------------------------------------------------------------------------------------


def settings_with(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        environment="test",
        database_url="sqlite+aiosqlite://",
        var_dir=tmp_path,
        pii_key=b"k" * 32,
        jwt_keys={"k1": b"j" * 32},
        jwt_active_kid="k1",
        **overrides,
    )


async def test_build_verifiers(sessions: SessionFactory, tmp_path: Path) -> None:
    offline = build_verifiers(settings_with(tmp_path), sessions)
    assert isinstance(offline[0], OfflineIdentityVerifier)
    assert isinstance(offline[1], OfflineLegalPersonVerifier)
    remote = build_verifiers(
        settings_with(
            tmp_path,
            identity_verifier_url="http://127.0.0.1:9/id",
            identity_verifier_token="t",
            legal_verifier_url="http://127.0.0.1:9/org",
            verifier_timeout=1.5,
            verifier_retries=4,
        ),
        sessions,
    )
    identity_verifier, legal_verifier = remote
    assert isinstance(identity_verifier, HttpIdentityVerifier)
    assert isinstance(legal_verifier, HttpLegalPersonVerifier)
    assert (identity_verifier.timeout, identity_verifier.retries) == (1.5, 4)
    assert identity_verifier.breaker is not legal_verifier.breaker
    await close_verifiers([*offline, *remote])


async def test_run_forever_keeps_going_and_can_be_cancelled(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await add_volunteer(sessions, NUMBER)
    await add_volunteer(sessions, RETIRED_AREA_NUMBER)

    class FlakyIdentity:
        calls = 0

        async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("boom")
            return Verdict(Outcome.PASSED, "MATCH")

    class BrokenLegal:
        async def verify_organisation(self, name: str, credit_code: str) -> Verdict:
            raise AssertionError("no team is pending")

    flaky = FlakyIdentity()
    failing_sessions = _FailingOnce(sessions)
    task = asyncio.create_task(run_forever(failing_sessions, CIPHER, flaky, BrokenLegal(), interval=0.01))
    with caplog.at_level(logging.ERROR, logger="zhiyuan.verifiers"):
        for _ in range(500):  # until the second call's verdict is written, not merely made
            rows = await _all_volunteers(sessions)
            if any(row.real_name_status == RealNameStatus.PASSED for row in rows):
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert flaky.calls >= 2  # went on after the verifier raised and after a database error
    assert "the identity verification run failed" in caplog.text
    assert "identity check of volunteer" in caplog.text
    rows = await _all_volunteers(sessions)
    assert sorted((row.real_name_status, row.verification_note) for row in rows) == [
        (RealNameStatus.PASSED, "MATCH"),
        (RealNameStatus.PENDING, "INTERNAL_ERROR"),
    ]


class _FailingOnce:
    """A session factory whose first session fails: a database outage during one run."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._failed = False

    def __call__(self) -> Any:
        if not self._failed:
            self._failed = True
            raise ConnectionError("database unavailable")
        return self._sessions()


async def _all_volunteers(sessions: SessionFactory) -> list[Volunteer]:
    async with sessions() as session:
        return list((await session.execute(select(Volunteer))).scalars())


async def test_run_forever_needs_a_positive_interval(sessions: SessionFactory) -> None:
    with pytest.raises(ValueError, match="interval"):
        await run_forever(sessions, CIPHER, ScriptedIdentity(), OfflineLegalPersonVerifier(), 0)
