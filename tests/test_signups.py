"""Sign-ups: every gate, approval and rejection, the waitlist and its promotion, invitations, idempotency keys,
cancellation of a whole project, jurisdiction, and the quota under 100 concurrent sign-ups over HTTP.

The concurrency test runs on SQLite and, with ZHIYUAN_TEST_DATABASE_URL set, on PostgreSQL; it prints how long
the 100 sign-ups took (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

import models as m
from auth.viewer import Viewer
from models.enums import RealNameStatus
from tests.conftest import Api
from tests.database import is_postgres
from tests.registration_helpers import adult_id, code_of
from tests.test_projects import (
    CANCEL,
    CLOSE,
    LIXIA,
    UPDATE_POST,
    XIHU,
    count,
    create,
    db_id,
    error,
    iso,
    organiser,
    publish,
    volunteer,
)

SIGN_UP = """mutation($id: ID!, $key: String) {
  signUp(postId: $id, idempotencyKey: $key) { id status reason decidedAt cancelledAt post { id taken } } }"""
CANCEL_SIGN_UP = """mutation($id: ID!, $key: String) {
  cancelSignUp(signUpId: $id, idempotencyKey: $key) { id status cancelledAt } }"""
APPROVE = "mutation($id: ID!) { approveSignUp(signUpId: $id) { id status decidedAt } }"
REJECT = "mutation($id: ID!, $r: String!) { rejectSignUp(signUpId: $id, reason: $r) { id status reason } }"
INVITE = "mutation($id: ID!, $n: String!) { inviteToPost(postId: $id, volunteerNumber: $n) { id status } }"
RESPOND = (
    "mutation($id: ID!, $ok: Boolean!) { respondToPostInvitation(signUpId: $id, accept: $ok) { id status } }"
)
CONSENT = "mutation($c: InviteConsent!) { setInviteConsent(consent: $c) }"
APPLY = "mutation($id: ID!) { applyToTeam(teamId: $id) { id } }"
DECIDE = "mutation($id: ID!) { decideApplication(membershipId: $id, approve: true) { status } }"


async def _post(app: Starlette, post_id: str) -> m.Post:
    async with app.state.services.sessions() as session:
        row = await session.get(m.Post, db_id(post_id))
    assert row is not None
    return row


async def _statuses(app: Starlette, post_id: str) -> dict[str, int]:
    async with app.state.services.sessions() as session:
        rows = (
            await session.execute(select(m.SignUp.status).where(m.SignUp.post_id == db_id(post_id)))
        ).scalars()
        found: dict[str, int] = {}
        for status in rows:
            found[status] = found.get(status, 0) + 1
    return found


async def _sign_up(api: Api, post_id: str, key: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = (await api.data(SIGN_UP, {"id": post_id, "key": key}))["signUp"]
    return result


# --- gates ----------------------------------------------------------------------------------------------


async def test_every_gate_refuses_and_writes_nothing(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    end = start + timedelta(hours=8)
    _, (post,) = await publish(org, startsAt=iso(start), endsAt=iso(end), minAge=18, maxAge=40)
    before = await count(app, m.SignUp)
    unverified = await volunteer(api, app, passed=False)
    assert error(await unverified.api.gql(SIGN_UP, {"id": post})) == ("FORBIDDEN", "REAL_NAME_REQUIRED")
    old = await volunteer(api, app, idNumber=adult_id(born=date(1960, 5, 1)))
    assert error(await old.api.gql(SIGN_UP, {"id": post})) == ("FORBIDDEN", "AGE_NOT_ALLOWED")
    today = date.today()
    young_birth = date(today.year - 17, today.month, 1) - timedelta(days=1)  # 17 until next month
    young = await volunteer(
        api,
        app,
        idNumber=adult_id(born=young_birth),
        selfSupporting=True,
    )
    assert error(await young.api.gql(SIGN_UP, {"id": post})) == ("FORBIDDEN", "AGE_NOT_ALLOWED")
    assert error(await api.as_(tokens["demo_lixia"]).gql(SIGN_UP, {"id": post}))[0] == "FORBIDDEN"
    assert error(await api.gql(SIGN_UP, {"id": post}))[0] == "UNAUTHENTICATED"
    draft = await create(org)
    person = await volunteer(api, app, idNumber=adult_id(born=date(1995, 5, 1)))
    assert error(await person.api.gql(SIGN_UP, {"id": draft["posts"]["nodes"][0]["id"]}))[0] == "NOT_FOUND"
    closed, (closed_post,) = await publish(org)
    await org.admin.data(CLOSE, {"id": closed})
    assert error(await person.api.gql(SIGN_UP, {"id": closed_post})) == ("INVALID_STATE", "PROJECT_NOT_OPEN")
    assert await count(app, m.SignUp) == before
    first = await _sign_up(person.api, post)
    assert first["status"] == "ACCEPTED" and first["decidedAt"] is not None and first["post"]["taken"] == 1
    assert error(await person.api.gql(SIGN_UP, {"id": post})) == ("INVALID_STATE", "ALREADY_SIGNED_UP")
    overlapping = (start + timedelta(hours=2), end + timedelta(hours=2))
    _, (clash,) = await publish(org, startsAt=iso(overlapping[0]), endsAt=iso(overlapping[1]))
    assert error(await person.api.gql(SIGN_UP, {"id": clash})) == ("INVALID_STATE", "SCHEDULE_CLASH")
    shift = {"name": "晚班", "quota": 2, "startsAt": iso(end), "endsAt": iso(end + timedelta(hours=1))}
    _, (after_shift,) = await publish(
        org, startsAt=iso(start), endsAt=iso(end + timedelta(hours=2)), posts=[shift]
    )
    assert (await _sign_up(person.api, after_shift))["status"] == "ACCEPTED"  # the shift does not overlap
    assert await count(app, m.SignUp) == before + 2


async def test_team_members_scope(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, signupScope="TEAM_MEMBERS")
    outsider, member = await volunteer(api, app), await volunteer(api, app)
    assert error(await outsider.api.gql(SIGN_UP, {"id": post})) == ("FORBIDDEN", "SIGNUP_SCOPE")
    membership = (await member.api.data(APPLY, {"id": org.team_id}))["applyToTeam"]
    assert error(await member.api.gql(SIGN_UP, {"id": post})) == (
        "FORBIDDEN",
        "SIGNUP_SCOPE",
    )  # applying only
    await org.admin.data(DECIDE, {"id": membership["id"]})
    assert (await _sign_up(member.api, post))["status"] == "ACCEPTED"


async def test_region_scope(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, signupScope="REGION", signupRegionCode="330100000000")  # 杭州
    lixia_person, xihu_person = await volunteer(api, app), await volunteer(api, app, regionCode=XIHU)
    assert error(await lixia_person.api.gql(SIGN_UP, {"id": post})) == ("FORBIDDEN", "SIGNUP_SCOPE")
    assert (await _sign_up(xihu_person.api, post))["status"] == "ACCEPTED"


# --- approval, rejection, waitlist ----------------------------------------------------------------------


async def test_approval_rejection_and_reuse(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, requiresApproval=True, posts=[{"name": "讲解员", "quota": 1}])
    a, b = await volunteer(api, app), await volunteer(api, app)
    held = await _sign_up(a.api, post)
    assert held["status"] == "PENDING" and held["decidedAt"] is None and held["post"]["taken"] == 1
    waiting = await _sign_up(b.api, post)
    assert waiting["status"] == "WAITLISTED"
    assert error(await a.api.gql(APPROVE, {"id": held["id"]}))[0] == "FORBIDDEN"
    assert error(await org.admin.gql(REJECT, {"id": held["id"], "r": ""})) == (
        "BAD_USER_INPUT",
        "REASON_REQUIRED",
    )
    rejected = (await org.admin.data(REJECT, {"id": held["id"], "r": "名额已满"}))["rejectSignUp"]
    assert rejected == {"id": held["id"], "status": "REJECTED", "reason": "名额已满"}
    assert await _statuses(app, post) == {"REJECTED": 1, "PENDING": 1}  # the waitlist moved up, still pending
    assert (await _post(app, post)).taken == 1
    assert error(await org.admin.gql(APPROVE, {"id": held["id"]}))[0] == "INVALID_STATE"
    approved = (await org.admin.data(APPROVE, {"id": waiting["id"]}))["approveSignUp"]
    assert approved["status"] == "ACCEPTED" and approved["decidedAt"] is not None
    again = await _sign_up(a.api, post)  # the rejected row is reused, behind the accepted one
    assert (again["id"], again["status"], again["reason"]) == (held["id"], "WAITLISTED", "")
    other = await organiser(api, tokens)
    assert error(await other.admin.gql(APPROVE, {"id": waiting["id"]}))[0] == "NOT_FOUND"
    assert error(await b.api.gql(CANCEL_SIGN_UP, {"id": again["id"]}))[0] == "NOT_FOUND"


async def test_cancelling_promotes_the_waitlist_in_order(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, posts=[{"name": "引导员", "quota": 1}])
    people = [await volunteer(api, app) for _ in range(3)]
    ups = [await _sign_up(p.api, post) for p in people]
    assert [u["status"] for u in ups] == ["ACCEPTED", "WAITLISTED", "WAITLISTED"]
    cancelled = (await people[0].api.data(CANCEL_SIGN_UP, {"id": ups[0]["id"]}))["cancelSignUp"]
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"] is not None
    assert await _statuses(app, post) == {"CANCELLED": 1, "ACCEPTED": 1, "WAITLISTED": 1}
    status = "query($id: ID!) { node(id: $id) { ... on SignUp { status } } }"
    assert (await people[1].api.data(status, {"id": ups[1]["id"]}))["node"]["status"] == "ACCEPTED"
    assert error(await people[0].api.gql(CANCEL_SIGN_UP, {"id": ups[0]["id"]}))[0] == "INVALID_STATE"
    await people[2].api.data(CANCEL_SIGN_UP, {"id": ups[2]["id"]})  # waitlisted: no place to release
    assert (await _post(app, post)).taken == 1
    await people[1].api.data(CANCEL_SIGN_UP, {"id": ups[1]["id"]})
    assert (await _post(app, post)).taken == 0
    assert await _statuses(app, post) == {"CANCELLED": 3}


async def test_a_grown_quota_takes_from_the_waitlist(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, posts=[{"name": "引导员", "quota": 1}])
    people = [await volunteer(api, app) for _ in range(4)]
    for p in people:
        await _sign_up(p.api, post)
    assert error(await org.admin.gql(UPDATE_POST, {"id": post, "input": {"quota": 0}}))[1] == "QUOTA_RANGE"
    grown = (await org.admin.data(UPDATE_POST, {"id": post, "input": {"quota": 3}}))["updatePost"]
    assert (grown["quota"], grown["taken"], grown["available"]) == (3, 3, 0)
    assert await _statuses(app, post) == {"ACCEPTED": 3, "WAITLISTED": 1}
    assert error(await org.admin.gql(UPDATE_POST, {"id": post, "input": {"quota": 2}})) == (
        "INVALID_STATE",
        "QUOTA_BELOW_TAKEN",
    )
    remove = "mutation($id: ID!) { removePost(postId: $id) { id } }"
    assert error(await org.admin.gql(remove, {"id": post})) == ("INVALID_STATE", "POST_HAS_SIGN_UPS")


async def test_cancelling_a_project_cancels_its_sign_ups(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    pid, (post,) = await publish(org, posts=[{"name": "引导员", "quota": 1}])
    people = [await volunteer(api, app) for _ in range(2)]
    for p in people:
        await _sign_up(p.api, post)
    await org.admin.data(CANCEL, {"id": pid, "r": "暴雨预警"})
    assert await _statuses(app, post) == {"CANCELLED": 2}
    assert (await _post(app, post)).taken == 0
    async with app.state.services.sessions() as session:
        reasons = set(
            (await session.execute(select(m.SignUp.reason).where(m.SignUp.post_id == db_id(post)))).scalars()
        )
    assert reasons == {"暴雨预警"}
    assert error(await people[0].api.gql(SIGN_UP, {"id": post})) == ("INVALID_STATE", "PROJECT_NOT_OPEN")


# --- invitations ----------------------------------------------------------------------------------------


async def test_invitations_follow_the_consent_setting(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, requiresApproval=True, posts=[{"name": "引导员", "quota": 2}])
    asks, auto, refuses, declines = [await volunteer(api, app) for _ in range(4)]
    await auto.api.data(CONSENT, {"c": "AUTO_ACCEPT"})
    await refuses.api.data(CONSENT, {"c": "AUTO_REJECT"})
    before = await count(app, m.SignUp)
    assert error(await org.admin.gql(INVITE, {"id": post, "n": refuses.number})) == (
        "INVALID_STATE",
        "INVITATION_DECLINED",
    )
    assert error(await org.admin.gql(INVITE, {"id": post, "n": "NO-SUCH-NUMBER"}))[0] == "NOT_FOUND"
    assert await count(app, m.SignUp) == before
    invited = (await org.admin.data(INVITE, {"id": post, "n": asks.number}))["inviteToPost"]
    assert invited["status"] == "INVITED" and (await _post(app, post)).taken == 0
    assert error(await org.admin.gql(INVITE, {"id": post, "n": asks.number})) == (
        "INVALID_STATE",
        "ALREADY_SIGNED_UP",
    )
    assert error(await declines.api.gql(RESPOND, {"id": invited["id"], "ok": True}))[0] == "NOT_FOUND"
    accepted = (await asks.api.data(RESPOND, {"id": invited["id"], "ok": True}))["respondToPostInvitation"]
    assert accepted["status"] == "ACCEPTED"  # invited by the team: no approval step
    assert (await org.admin.data(INVITE, {"id": post, "n": auto.number}))["inviteToPost"][
        "status"
    ] == "ACCEPTED"
    full = (await org.admin.data(INVITE, {"id": post, "n": declines.number}))["inviteToPost"]
    declined = (await declines.api.data(RESPOND, {"id": full["id"], "ok": False}))["respondToPostInvitation"]
    assert declined["status"] == "REJECTED"
    assert error(await declines.api.gql(RESPOND, {"id": full["id"], "ok": True}))[0] == "INVALID_STATE"
    assert await _statuses(app, post) == {"ACCEPTED": 2, "REJECTED": 1}
    assert (await _post(app, post)).taken == 2
    other = await organiser(api, tokens, XIHU)
    assert error(await other.admin.gql(INVITE, {"id": post, "n": asks.number}))[0] == "NOT_FOUND"


async def test_accepting_an_invitation_to_a_full_post_waits(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, posts=[{"name": "引导员", "quota": 1}])
    first, guest = await volunteer(api, app), await volunteer(api, app)
    invited = (await org.admin.data(INVITE, {"id": post, "n": guest.number}))["inviteToPost"]
    await _sign_up(first.api, post)
    signed = await _sign_up(guest.api, post)  # signing up accepts the invitation
    assert (signed["id"], signed["status"]) == (invited["id"], "WAITLISTED")


# --- idempotency ----------------------------------------------------------------------------------------


async def test_a_retried_key_returns_the_same_sign_up(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post, other_post) = await publish(
        org, posts=[{"name": "引导员", "quota": 3}, {"name": "后勤", "quota": 3}]
    )
    person = await volunteer(api, app)
    key = f"mobile-{uuid.uuid4()}"
    first = await _sign_up(person.api, post, key)
    retried = await _sign_up(person.api, post, key)
    assert retried["id"] == first["id"] and retried["status"] == "ACCEPTED"
    assert (await _post(app, post)).taken == 1 and await _statuses(app, post) == {"ACCEPTED": 1}
    reused = await person.api.gql(SIGN_UP, {"id": other_post, "key": key})
    assert code_of(reused) == ("BAD_USER_INPUT", "IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    assert await _statuses(app, other_post) == {}
    cancel_key = f"mobile-{uuid.uuid4()}"
    cancelled = (await person.api.data(CANCEL_SIGN_UP, {"id": first["id"], "key": cancel_key}))[
        "cancelSignUp"
    ]
    again = (await person.api.data(CANCEL_SIGN_UP, {"id": first["id"], "key": cancel_key}))["cancelSignUp"]
    assert again == cancelled and again["status"] == "CANCELLED"
    assert error(await person.api.gql(SIGN_UP, {"id": post, "key": "x" * 65}))[0] == "BAD_USER_INPUT"


# --- concurrency ----------------------------------------------------------------------------------------


async def _crowd(app: Starlette, size: int) -> list[tuple[int, str]]:
    """``size`` volunteers with a PASSED real name, written straight to the database: (id, access token)."""
    services = app.state.services
    run = uuid.uuid4().hex[:8]
    async with services.writes() as session, session.begin():
        accounts = [
            m.Account(username=f"crowd_{run}_{i:03d}", username_key=f"crowd_{run}_{i:03d}", password_hash="!")
            for i in range(size)
        ]
        session.add_all(accounts)
        await session.flush()
        people = [
            m.Volunteer(
                account_id=account.id,
                volunteer_number=f"C{run}{i:03d}",
                name="并发测试",
                id_number_enc=services.cipher.encrypt(f"CROWD{run}{i:03d}", "volunteer.id_number"),
                id_number_hash=services.cipher.blind_index(f"CROWD{run}{i:03d}"),
                birth_date=date(1990, 1, 1),
                real_name_status=RealNameStatus.PASSED,
                region_code=LIXIA,
                residence_region_code=LIXIA,
            )
            for i, account in enumerate(accounts)
        ]
        session.add_all(people)
        await session.flush()
    found: list[tuple[int, str]] = []
    for account, person in zip(accounts, people, strict=True):
        assert account.id is not None and person.id is not None
        claims = Viewer(account.id, account.username, person.id).to_claims()
        found.append((person.id, services.tokens.issue_access(str(account.id), claims)))
    return found


async def test_the_quota_holds_under_100_concurrent_sign_ups(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org, posts=[{"name": "赛会服务", "quota": 10}])
    crowd = await _crowd(app, 100)
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(
            api.as_(token).gql(SIGN_UP, {"id": post, "key": f"crowd-{i}"})
            for i, (_, token) in enumerate(crowd)
        )
    )
    elapsed = time.perf_counter() - started
    backend = "PostgreSQL" if is_postgres() else "SQLite"
    print(f"\n100 concurrent sign-ups on {backend}: {elapsed:.2f} s")
    assert all("errors" not in a for a in answers), [a["errors"] for a in answers if "errors" in a][:3]
    statuses = [a["data"]["signUp"]["status"] for a in answers]
    assert statuses.count("ACCEPTED") == 10 and statuses.count("WAITLISTED") == 90
    assert await _statuses(app, post) == {"ACCEPTED": 10, "WAITLISTED": 90}
    assert (await _post(app, post)).taken == 10

    async with app.state.services.sessions() as session:
        rows = (
            await session.execute(
                select(m.SignUp)
                .where(m.SignUp.post_id == db_id(post))
                .order_by(m.SignUp.created_at, m.SignUp.id)
            )
        ).scalars()
        rows_list = list(rows)
    waitlist = [r.id for r in rows_list if r.status == "WAITLISTED"]
    accepted = [r for r in rows_list if r.status == "ACCEPTED"][:3]
    token_of = dict(crowd)
    cancels = await asyncio.gather(
        *(
            api.as_(token_of[r.volunteer_id]).gql(CANCEL_SIGN_UP, {"id": _gid("SignUp", r.id)})
            for r in accepted
        )
    )
    assert all("errors" not in c for c in cancels), cancels
    async with app.state.services.sessions() as session:
        after = {
            r.id: r.status
            for r in (
                await session.execute(select(m.SignUp).where(m.SignUp.post_id == db_id(post)))
            ).scalars()
        }
    promoted = [i for i in waitlist if after[i] == "ACCEPTED"]
    assert promoted == waitlist[:3]
    assert await _statuses(app, post) == {"ACCEPTED": 10, "WAITLISTED": 87, "CANCELLED": 3}
    assert (await _post(app, post)).taken == 10


def _gid(kind: str, key: int | None) -> str:
    import base64

    return base64.b64encode(f"{kind}:{key}".encode()).decode()


async def test_a_past_project_takes_no_sign_ups(api: Api, app: Starlette, tokens: dict[str, str]) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org)
    async with app.state.services.writes() as session, session.begin():
        row = await session.get(m.Post, db_id(post))
        assert row is not None
        project = await session.get(m.Project, row.project_id)
        assert project is not None
        past = datetime.now(UTC) - timedelta(days=1)
        project.starts_at, project.ends_at = past - timedelta(hours=2), past
    person = await volunteer(api, app)
    assert error(await person.api.gql(SIGN_UP, {"id": post})) == ("INVALID_STATE", "PROJECT_NOT_OPEN")


async def test_after_closing_a_rejection_moves_nobody_up(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    pid, (post,) = await publish(org, requiresApproval=True, posts=[{"name": "引导员", "quota": 1}])
    a, b = await volunteer(api, app), await volunteer(api, app)
    held, waiting = await _sign_up(a.api, post), await _sign_up(b.api, post)
    await org.admin.data(CLOSE, {"id": pid})
    assert (await org.admin.data(REJECT, {"id": held["id"], "r": "项目已结束"}))["rejectSignUp"][
        "status"
    ] == "REJECTED"
    assert await _statuses(app, post) == {"REJECTED": 1, "WAITLISTED": 1}
    assert (await _post(app, post)).taken == 0
    assert error(await b.api.gql(CANCEL_SIGN_UP, {"id": waiting["id"]})) == (
        "INVALID_STATE",
        "PROJECT_NOT_OPEN",
    )


async def test_a_sign_up_with_attendance_is_not_cancelled(
    api: Api, app: Starlette, tokens: dict[str, str]
) -> None:
    org = await organiser(api, tokens)
    _, (post,) = await publish(org)
    person = await volunteer(api, app)
    signed = await _sign_up(person.api, post)
    async with app.state.services.writes() as session, session.begin():
        row = await session.get(m.SignUp, db_id(signed["id"]))
        assert row is not None
        session.add(
            m.Attendance(
                sign_up_id=row.id,  # type: ignore[arg-type]
                volunteer_id=row.volunteer_id,
                project_id=row.project_id,
                team_id=row.team_id,
                region_code=row.region_code,
                check_in_at=datetime.now(UTC),
            )
        )
    assert error(await person.api.gql(CANCEL_SIGN_UP, {"id": signed["id"]})) == (
        "INVALID_STATE",
        "SIGN_UP_ATTENDED",
    )
    assert await _statuses(app, post) == {"ACCEPTED": 1}
