"""The permission matrix of docs/permissions.md as tables, run through the HTTP app.

Role × root list: every row the API returns (all pages) against the rows the rules allow, computed from the
tables with plain WHERE conditions (tests/visibility.py, not ``scope()``); ``totalCount`` counts exactly those.
Role × personal field: ID numbers and phones masked or not, location data withheld or not, and every unmasked
read by someone other than the owner written to the audit trail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from starlette.applications import Starlette

import models as m
from models.db import SessionFactory
from models.enums import MembershipStatus, Role
from resolvers.peers import create_peer_account
from schema.directives import SensitiveKind
from schema.permissions import mask
from tests.conftest import Api, login
from tests.supervision_world import ensure_supervision_rows
from tests.visibility import (
    ANONYMOUS,
    ROOT_LISTS,
    Person,
    add_account,
    codes,
    col,
    count,
    db_id,
    gid,
    person,
    remove_account,
    under,
    visible_ids,
    walk,
)

ROLES = (
    "anonymous",
    "demo_volunteer",
    "demo_team",
    "demo_lixia",
    "demo_jinan",
    "demo_shandong",
    "demo_xihu",
    "demo_ministry",
)
# R: exactly the rows in the role's scope · U: UNAUTHENTICATED · F: FORBIDDEN · P: public reference data
COLUMNS = (*ROOT_LISTS, "regions")  # volunteers … auditEvents, then regions
MATRIX = {
    "anonymous": "U U U U U U U U U U P",
    "demo_volunteer": "R R R R R R R R R F P",
    "demo_team": "R R R R R R R R R F P",
    "demo_lixia": "R R R R R R R R R R P",
    "demo_jinan": "R R R R R R R R R R P",
    "demo_shandong": "R R R R R R R R R R P",
    "demo_xihu": "R R R R R R R R R R P",
    "demo_ministry": "R R R R R R R R R R P",
}
CELLS = [
    (role, field, cell) for role in ROLES for field, cell in zip(COLUMNS, MATRIX[role].split(), strict=True)
]
MAY_BE_EMPTY = {("demo_xihu", "auditEvents")}
"""Cells whose expected row set may legitimately be empty; every other R cell must show rows."""


@pytest.fixture(scope="module")
def sessions(app: Starlette) -> SessionFactory:
    factory: SessionFactory = app.state.services.sessions
    return factory


@pytest.fixture(scope="module")
async def people(sessions: SessionFactory) -> dict[str, Person]:
    found = {name: await person(sessions, name) for name in ROLES if name != "anonymous"}
    return {"anonymous": ANONYMOUS, **found}


def client(api: Api, tokens: dict[str, str], role: str) -> Api:
    return api.as_(None if role == "anonymous" else tokens[role])


VOLUNTEER_PII = "query($id: ID!) { node(id: $id) { ... on Volunteer { id idNumber phone } } }"


@pytest.fixture(scope="module")
async def audit_trail(api: Api, tokens: dict[str, str], people: dict[str, Person]) -> None:
    """At least one audit event in 历下区: the province admin reveals the demo volunteer's ID number."""
    volunteer_id = people["demo_volunteer"].volunteer_id
    await api.as_(tokens["demo_shandong"]).data(VOLUNTEER_PII, {"id": gid("Volunteer", volunteer_id)})


# --- role × root list ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "field", "cell"), CELLS, ids=[f"{r}-{f}" for r, f, _ in CELLS])
async def test_root_list(
    api: Api,
    tokens: dict[str, str],
    sessions: SessionFactory,
    people: dict[str, Person],
    audit_trail: None,
    role: str,
    field: str,
    cell: str,
) -> None:
    viewer = client(api, tokens, role)
    if cell in ("U", "F"):
        body = await viewer.gql(f"{{ {field}(first: 100) {{ totalCount nodes {{ id }} }} }}")
        assert body["data"] is None
        assert codes(body) == [{"U": "UNAUTHENTICATED", "F": "FORBIDDEN"}[cell]]
        return
    if cell == "P":
        data = await viewer.data(f"{{ {field}(first: 100) {{ totalCount nodes {{ id code }} }} }}")
        current = col(m.Region, "retired_year").is_(None)
        provinces = await count(sessions, m.Region, m.Region.level == 1, current)
        assert data[field]["totalCount"] == provinces == len(data[field]["nodes"])
        return
    expected = await visible_ids(sessions, ROOT_LISTS[field], people[role])
    got, total = await walk(viewer, field)
    assert got == expected, (
        f"{role} {field}: extra {sorted(got - expected)}, missing {sorted(expected - got)}"
    )
    assert total == len(expected)
    assert expected or (role, field) in MAY_BE_EMPTY, f"{role} {field}: the cell has no rows to test"


async def test_region_admin_scopes_nest(api: Api, tokens: dict[str, str]) -> None:
    """County ⊆ city ⊆ province ⊆ ministry, and two counties share no team-owned rows."""
    for field in ("teams", "projects", "signUps", "serviceRecords", "certificates"):
        seen = {r: (await walk(api.as_(tokens[r]), field))[0] for r in ROLES if r.startswith("demo_")}
        assert seen["demo_lixia"] <= seen["demo_jinan"] <= seen["demo_shandong"] <= seen["demo_ministry"]
        assert not seen["demo_lixia"] & seen["demo_xihu"], field


# --- lookups by role ------------------------------------------------------------------------------------------

LOOKUP = """
query($id: ID!, $number: String!, $code: String!) {
  node(id: $id) { id }
  volunteerByNumber(number: $number) { id }
  teamByCreditCode(creditCode: $code) { id }
}
"""


@pytest.mark.parametrize("role", ROLES)
async def test_direct_lookups_follow_the_lists(
    api: Api, tokens: dict[str, str], sessions: SessionFactory, people: dict[str, Person], role: str
) -> None:
    """node / volunteerByNumber / teamByCreditCode find a row exactly when the role's lists contain it."""
    who, demo = people[role], people["demo_volunteer"]
    async with sessions() as session:
        number = (
            await session.execute(
                select(m.Volunteer.volunteer_number).where(m.Volunteer.id == demo.volunteer_id)
            )
        ).scalar_one()
        team_id, credit_code = (
            await session.execute(
                select(m.Team.id, m.Team.credit_code)
                .where(col(m.Team, "credit_code").is_not(None))
                .order_by(m.Team.id)
                .limit(1)
            )
        ).one()
    body = await client(api, tokens, role).gql(
        LOOKUP, {"id": gid("Volunteer", demo.volunteer_id), "number": number, "code": credit_code}
    )
    sees_volunteer = demo.volunteer_id in await visible_ids(sessions, m.Volunteer, who)
    sees_team = team_id in await visible_ids(sessions, m.Team, who)
    data = body["data"]
    errors = {e["path"][0]: e["extensions"]["code"] for e in body.get("errors", [])}
    assert (data["node"] is not None) == sees_volunteer
    if role == "anonymous":
        assert data["volunteerByNumber"] is None and data["teamByCreditCode"] is None
        assert errors == {
            "node": "NOT_FOUND",
            "volunteerByNumber": "UNAUTHENTICATED",
            "teamByCreditCode": "UNAUTHENTICATED",
        }
        return
    assert (data["volunteerByNumber"] is not None) == sees_volunteer
    assert (data["teamByCreditCode"] is not None) == sees_team
    hidden = {"node", "volunteerByNumber"} if not sees_volunteer else set()
    assert errors == dict.fromkeys(hidden | ({"teamByCreditCode"} if not sees_team else set()), "NOT_FOUND")


async def test_anonymous_reads_the_region_tree(api: Api) -> None:
    data = await api.data(
        '{ region(code: "370102000000") { name parent { name } children(first: 3) { totalCount } } '
        + 'node(id: "UmVnaW9uOjM3MDEwMjAwMDAwMA==") { ... on Region { code } } viewer { username } }'
    )
    assert data["region"]["name"] == "历下区" and data["region"]["parent"]["name"] == "济南市"
    assert data["region"]["children"]["totalCount"] > 0
    assert data["node"] == {"code": "370102000000"}
    assert data["viewer"] is None


# --- role × personal data -----------------------------------------------------------------------------------

PLAIN, MASKED, NULL, HIDDEN = "plain", "masked", "null", "hidden"
# role: (idNumber, phone, audited actions) for the demo volunteer (历下区, member of demo_team's team)
VOLUNTEER_MASKS: dict[str, tuple[str, str, set[str]]] = {
    "demo_volunteer": (PLAIN, PLAIN, set()),  # the owner; own reads are not audited
    "demo_team": (MASKED, PLAIN, {"REVEAL_PHONE"}),  # team admins see their members' phones
    "demo_lixia": (MASKED, MASKED, set()),
    "demo_jinan": (MASKED, MASKED, set()),
    "demo_shandong": (PLAIN, PLAIN, {"REVEAL_ID_NUMBER", "REVEAL_PHONE"}),  # holds the reveal right
    "demo_xihu": (HIDDEN, HIDDEN, set()),
    "demo_ministry": (MASKED, MASKED, set()),  # the demo ministry grant has no reveal right
    "anonymous": (HIDDEN, HIDDEN, set()),
}
# role: (check-in latitude and longitude, audited actions) for a GPS check-in with demo_team's team
LOCATION_MASKS: dict[str, tuple[str, set[str]]] = {
    "demo_team": (NULL, set()),
    "demo_lixia": (NULL, set()),
    "demo_jinan": (NULL, set()),
    "demo_shandong": (PLAIN, {"REVEAL_LOCATION"}),
    "demo_xihu": (HIDDEN, set()),
    "demo_ministry": (NULL, set()),
    "anonymous": (HIDDEN, set()),
}


async def audit_count(sessions: SessionFactory, who: Person) -> dict[str, int]:
    if who.account_id is None:
        return {}
    async with sessions() as session:
        rows = await session.execute(
            select(m.AuditEvent.action, func.count())
            .where(m.AuditEvent.actor_id == who.account_id)
            .group_by(m.AuditEvent.action)
        )
        return {str(action): int(n) for action, n in rows.all()}


def new_actions(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {action for action, n in after.items() if n > before.get(action, 0)}


def masked_form(value: str, plain: str) -> bool:
    return len(value) == len(plain) and value != plain and "*" in value and value[-4:] == plain[-4:]


async def pii(app: Starlette, volunteer_id: int | None) -> tuple[str, str]:
    cipher = app.state.services.cipher
    async with app.state.services.sessions() as session:
        row = await session.get(m.Volunteer, volunteer_id)
    assert row is not None and row.phone_enc is not None
    return (
        cipher.decrypt(row.id_number_enc, "volunteer.id_number"),
        cipher.decrypt(row.phone_enc, "volunteer.phone"),
    )


def check(value: Any, plain: str, expected: str) -> None:
    if expected == PLAIN:
        assert value == plain
    elif expected == MASKED:
        assert isinstance(value, str) and masked_form(value, plain), value
    else:
        assert value is None


@pytest.mark.parametrize("role", list(VOLUNTEER_MASKS))
async def test_volunteer_pii(
    api: Api,
    app: Starlette,
    tokens: dict[str, str],
    sessions: SessionFactory,
    people: dict[str, Person],
    role: str,
) -> None:
    id_cell, phone_cell, audited = VOLUNTEER_MASKS[role]
    who, subject = people[role], people["demo_volunteer"].volunteer_id
    plain_id, plain_phone = await pii(app, subject)
    before = await audit_count(sessions, who)
    body = await client(api, tokens, role).gql(VOLUNTEER_PII, {"id": gid("Volunteer", subject)})
    node = body["data"]["node"]
    if id_cell == HIDDEN:
        assert node is None and codes(body) == ["NOT_FOUND"]
    else:
        assert "errors" not in body
        check(node["idNumber"], plain_id, id_cell)
        check(node["phone"], plain_phone, phone_cell)
    assert new_actions(before, await audit_count(sessions, who)) == audited


async def test_team_admin_sees_phones_of_members_from_elsewhere(
    api: Api, app: Starlette, tokens: dict[str, str], sessions: SessionFactory, people: dict[str, Person]
) -> None:
    """A joined member of the admin's team registered outside the team's county: phone shown, ID masked."""
    team_id = people["demo_team"].team_ids[0]
    tm = m.TeamMembership
    async with sessions() as session:
        team_region = (
            await session.execute(select(m.Team.region_code).where(m.Team.id == team_id))
        ).scalar_one()
        member = (
            await session.execute(
                select(m.Volunteer.id)
                .join(tm, tm.volunteer_id == m.Volunteer.id)
                .where(tm.team_id == team_id, tm.status == "JOINED")
                .where(col(m.Volunteer, "region_code").not_like(f"{team_region[:6]}%"))
                .order_by(m.Volunteer.id)
                .limit(1)
            )
        ).scalar_one()
    plain_id, plain_phone = await pii(app, member)
    for role, id_cell, phone_cell in (("demo_team", MASKED, PLAIN), ("demo_lixia", MASKED, MASKED)):
        node = (await client(api, tokens, role).data(VOLUNTEER_PII, {"id": gid("Volunteer", member)}))["node"]
        check(node["idNumber"], plain_id, id_cell)
        check(node["phone"], plain_phone, phone_cell)


async def test_province_admin_reveals_its_volunteers_and_is_audited(
    api: Api, app: Starlette, tokens: dict[str, str], sessions: SessionFactory, people: dict[str, Person]
) -> None:
    who = people["demo_shandong"]
    query = '{ volunteers(first: 10, filter: {region: "370000000000"}) { nodes { id idNumber phone } } }'
    async with sessions() as session:
        before = int(
            (
                await session.execute(
                    select(func.count()).where(
                        m.AuditEvent.actor_id == who.account_id, m.AuditEvent.action == "REVEAL_ID_NUMBER"
                    )
                )
            ).scalar_one()
        )
    nodes = (await api.as_(tokens["demo_shandong"]).data(query))["volunteers"]["nodes"]
    assert len(nodes) == 10
    revealed = set()
    for node in nodes:
        subject = db_id(node["id"])
        plain_id, plain_phone = await pii(app, subject)
        assert (node["idNumber"], node["phone"]) == (plain_id, plain_phone)
        revealed.add(subject)
    async with sessions() as session:
        events = (
            await session.execute(
                select(m.AuditEvent.subject_type, m.AuditEvent.subject_id, m.AuditEvent.region_code)
                .where(m.AuditEvent.actor_id == who.account_id, m.AuditEvent.action == "REVEAL_ID_NUMBER")
                .order_by(m.AuditEvent.id)
                .offset(before)
            )
        ).all()
    assert {e.subject_id for e in events} == revealed
    assert {e.subject_type for e in events} == {"Volunteer"}
    assert all(e.region_code and e.region_code.startswith("37") for e in events)


LOCATION = """
query($id: ID!) { node(id: $id) { ... on Attendance { checkInLatitude checkInLongitude } } }
"""


@pytest.mark.parametrize("role", [*LOCATION_MASKS, "demo_volunteer"])
async def test_check_in_location(
    api: Api, tokens: dict[str, str], sessions: SessionFactory, people: dict[str, Person], role: str
) -> None:
    team_id, owner = people["demo_team"].team_ids[0], people["demo_volunteer"].volunteer_id
    async with sessions() as session:
        row = (
            await session.execute(
                select(m.Attendance)
                .where(m.Attendance.team_id == team_id, col(m.Attendance, "check_in_lat").is_not(None))
                .order_by(m.Attendance.volunteer_id != owner, m.Attendance.id)
                .limit(1)
            )
        ).scalar_one()
    if role == "demo_volunteer":  # the owner sees it; anybody else's check-in is not theirs to see
        cell, audited = (PLAIN, set()) if row.volunteer_id == owner else (HIDDEN, set())
    else:
        cell, audited = LOCATION_MASKS[role]
    who = people[role]
    before = await audit_count(sessions, who)
    body = await client(api, tokens, role).gql(LOCATION, {"id": gid("Attendance", row.id)})
    node = body["data"]["node"]
    if cell == HIDDEN:
        assert node is None and codes(body) == ["NOT_FOUND"]
    elif cell == PLAIN:
        assert (node["checkInLatitude"], node["checkInLongitude"]) == (row.check_in_lat, row.check_in_lng)
    else:
        assert node == {"checkInLatitude": None, "checkInLongitude": None}
    assert new_actions(before, await audit_count(sessions, who)) == audited
    if audited:  # the event names whose data was read, and on which object
        async with sessions() as session:
            event = (
                await session.execute(
                    select(m.AuditEvent)
                    .where(m.AuditEvent.actor_id == who.account_id, m.AuditEvent.action == "REVEAL_LOCATION")
                    .order_by(col(m.AuditEvent, "id").desc())
                    .limit(1)
                )
            ).scalar_one()
        assert (event.subject_type, event.subject_id) == ("Volunteer", row.volunteer_id)
        assert event.region_code == row.region_code
        assert event.detail == {"field": "checkInLongitude", "type": "Attendance", "id": row.id}


# --- two grants: a team admin who also administers the team's county ------------------------------------------

TWO_HATS, TWO_HATS_PASSWORD = "two_hats_lixia", "TwoHats@2026zy"


@pytest.fixture(scope="module")
async def past_member(
    app: Starlette, sessions: SessionFactory, people: dict[str, Person]
) -> AsyncIterator[m.TeamMembership]:
    """A membership of demo_team's team, added for a volunteer of the team's county who has no other tie to
    the team (no membership, no sign-up); the tests set its status."""
    team_id = people["demo_team"].team_ids[0]
    tm, su, volunteer = m.TeamMembership, m.SignUp, col(m.Volunteer, "id")
    async with sessions() as session, session.begin():
        team = await session.get(m.Team, team_id)
        assert team is not None
        volunteer_id = (
            await session.execute(
                select(volunteer)
                .where(col(m.Volunteer, "region_code").like(f"{team.region_code[:6]}%"))
                .where(volunteer.not_in(select(tm.volunteer_id).where(tm.team_id == team_id)))
                .where(volunteer.not_in(select(su.volunteer_id).where(su.team_id == team_id)))
                .order_by(volunteer)
                .limit(1)
            )
        ).scalar_one()
        membership = m.TeamMembership(
            team_id=team_id,
            volunteer_id=volunteer_id,
            region_code=team.region_code,
            status=MembershipStatus.LEFT,
        )
        session.add(membership)
    yield membership
    async with sessions() as session, session.begin():
        await session.execute(delete(tm).where(col(tm, "id") == membership.id))


@pytest.fixture(scope="module")
async def two_hats(app: Starlette, api: Api, people: dict[str, Person]) -> AsyncIterator[Api]:
    """Team admin of demo_team's team and region admin (without the reveal right) of the team's county."""
    team_id = people["demo_team"].team_ids[0]
    async with app.state.services.sessions() as session:
        team = await session.get(m.Team, team_id)
    assert team is not None
    account_id = await add_account(
        app,
        TWO_HATS,
        TWO_HATS_PASSWORD,
        m.RoleGrant(account_id=0, role=Role.TEAM_ADMIN, region_code=team.region_code, team_id=team_id),
        m.RoleGrant(account_id=0, role=Role.REGION_ADMIN, region_code=team.region_code[:6] + "000000"),
    )
    yield api.as_(await login(api, TWO_HATS, TWO_HATS_PASSWORD))
    await remove_account(app, account_id)


CONTACT_RIGHT = [
    (MembershipStatus.LEFT, MASKED, HIDDEN),
    (MembershipStatus.REJECTED, MASKED, HIDDEN),
    (MembershipStatus.APPLYING, PLAIN, PLAIN),
    (MembershipStatus.JOINED, PLAIN, PLAIN),
]
"""Membership status → the phone as the two-grant admin sees it, and as demo_team (team admin only) sees it."""


@pytest.mark.parametrize(("status", "two_hats_sees", "team_admin_sees"), CONTACT_RIGHT)
async def test_team_admin_contact_right_follows_the_membership(
    api: Api,
    app: Starlette,
    tokens: dict[str, str],
    sessions: SessionFactory,
    two_hats: Api,
    past_member: m.TeamMembership,
    status: MembershipStatus,
    two_hats_sees: str,
    team_admin_sees: str,
) -> None:
    """A team admin sees the phones of the volunteers the team organises now (members, applicants, invitees,
    sign-ups). A former member or rejected applicant, visible to the same account as county admin, keeps a
    masked phone; to a team admin alone such a volunteer is not visible at all."""
    tm = m.TeamMembership
    async with sessions() as session, session.begin():
        await session.execute(update(tm).where(col(tm, "id") == past_member.id).values(status=status))
    plain_id, plain_phone = await pii(app, past_member.volunteer_id)
    subject = {"id": gid("Volunteer", past_member.volunteer_id)}
    node = (await two_hats.data(VOLUNTEER_PII, subject))["node"]
    check(node["phone"], plain_phone, two_hats_sees)
    check(node["idNumber"], plain_id, MASKED)
    body = await api.as_(tokens["demo_team"]).gql(VOLUNTEER_PII, subject)
    if team_admin_sees == HIDDEN:
        assert body["data"]["node"] is None and codes(body) == ["NOT_FOUND"]
    else:
        check(body["data"]["node"]["phone"], plain_phone, team_admin_sees)


# --- the mask itself ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [SensitiveKind.ID_NUMBER, SensitiveKind.PHONE])
def test_masks_hide_at_least_half_of_any_value(kind: SensitiveKind) -> None:
    """Passport and permit numbers (8–11 characters) and landlines (7–8 digits) are masked too; only mobile
    numbers keep the conventional 3 + 4 visible digits."""
    for length in range(1, 25):
        value = "".join(str(i % 10) for i in range(1, length + 1))
        masked = mask(value, kind)
        hidden = length - 7 if kind is SensitiveKind.PHONE and length >= 11 else length / 2
        assert len(masked) == length and masked.count("*") >= hidden, (length, masked)
    assert mask("370102199001011962", SensitiveKind.ID_NUMBER) == "3701**********1962"
    assert mask("13812345678", SensitiveKind.PHONE) == "138****5678"
    assert mask("E12345678", SensitiveKind.ID_NUMBER) == "E1*****78"


# --- supervision: alerts and spot checks (docs/supervision.md) ----------------------------------------------

SUPERVISION_COLUMNS = (
    "supervisionAlerts",
    "spotChecks",
    "runSupervision",
    "handleAlert",
    "createSpotCheck",
    "recordSpotCheckFinding",
    "publishSpotCheck",
)
# R: exactly the rows the rule below allows · V: allowed, so the call reaches its input check (BAD_USER_INPUT)
SUPERVISION_MATRIX = {
    "anonymous": "U U U U U U U",
    "demo_volunteer": "F F F F F F F",
    "demo_team": "F F F F F F F",
    "demo_lixia": "R R V V V V V",
    "demo_jinan": "R R V V V V V",
    "demo_shandong": "R R V V V V V",
    "demo_xihu": "R R V V V V V",
    "demo_ministry": "R R V V V V V",
}
SUPERVISION_CELLS = [
    (role, field, cell)
    for role in ROLES
    for field, cell in zip(SUPERVISION_COLUMNS, SUPERVISION_MATRIX[role].split(), strict=True)
]
SUPERVISION_CALLS = {
    "runSupervision": "mutation { runSupervision(rules: []) { newAlerts } }",
    "handleAlert": 'mutation { handleAlert(alertId: "x", note: "n") { id } }',
    "createSpotCheck": 'mutation { createSpotCheck(regionCode: "370102000000", size: 0) { id } }',
    "recordSpotCheckFinding": 'mutation { recordSpotCheckFinding(itemId: "x", finding: OK) { id } }',
    "publishSpotCheck": 'mutation { publishSpotCheck(spotCheckId: "x") { id } }',
}
SUPERVISION_MAY_BE_EMPTY = {"demo_jinan", "demo_lixia", "demo_xihu"}
"""The seeded spot check is a province-level one (山东): below the province it is not theirs to see."""


async def supervision_visible(sessions: SessionFactory, field: str, who: Person) -> set[int]:
    """Alerts in the admin's subtrees; spot checks there that are published or the admin's own (all for the
    ministry) — restated with LIKE, independently of scope()."""
    model = m.SupervisionAlert if field == "supervisionAlerts" else m.SpotCheck
    statement = select(col(model, "id"))
    if not who.ministry:
        statement = statement.where(under(col(model, "region_code"), who.prefixes))
        if model is m.SpotCheck:
            statement = statement.where(
                (col(model, "status") == "PUBLISHED") | (col(model, "created_by_id") == who.account_id)
            )
    async with sessions() as session:
        return set((await session.execute(statement)).scalars())


@pytest.mark.parametrize(
    ("role", "field", "cell"), SUPERVISION_CELLS, ids=[f"{r}-{f}" for r, f, _ in SUPERVISION_CELLS]
)
async def test_supervision_fields(
    app: Starlette,
    api: Api,
    tokens: dict[str, str],
    sessions: SessionFactory,
    people: dict[str, Person],
    role: str,
    field: str,
    cell: str,
) -> None:
    await ensure_supervision_rows(app)
    viewer = client(api, tokens, role)
    query = SUPERVISION_CALLS.get(field, f"{{ {field}(first: 100) {{ totalCount nodes {{ id }} }} }}")
    if cell in ("U", "F", "V"):
        body = await viewer.gql(query)
        assert body["data"] is None
        assert codes(body) == [{"U": "UNAUTHENTICATED", "F": "FORBIDDEN", "V": "BAD_USER_INPUT"}[cell]]
        return
    expected = await supervision_visible(sessions, field, people[role])
    got, total = await walk(viewer, field)
    assert got == expected, (
        f"{role} {field}: extra {sorted(got - expected)}, missing {sorted(expected - got)}"
    )
    assert total == len(expected)
    assert expected or role in SUPERVISION_MAY_BE_EMPTY, f"{role} {field}: the cell has no rows to test"


# --- the change feed: peer instances' service accounts only (docs/deploy.md) --------------------------------

FEED = "{ changes(first: 100) { node changes { table regionCode } } }"
FEED_MATRIX = {**{role: "F" for role in ROLES}, "anonymous": "U", "peer_shandong": "R"}
"""R: the province's subtree only; U/F as above. A peer account reads nothing else."""
PEER_PASSWORD = "Peer#Matrix2026"


@pytest.fixture(scope="module")
async def peer_token(app: Starlette, api: Api) -> str:
    services = app.state.services
    await create_peer_account(services.settings, services.writes, "matrix_peer_sd", PEER_PASSWORD, "37")
    return await login(api, "matrix_peer_sd", PEER_PASSWORD)


@pytest.mark.parametrize(("role", "cell"), list(FEED_MATRIX.items()), ids=list(FEED_MATRIX))
async def test_change_feed(api: Api, tokens: dict[str, str], peer_token: str, role: str, cell: str) -> None:
    viewer = api.as_(peer_token) if role == "peer_shandong" else client(api, tokens, role)
    body = await viewer.gql(FEED)
    if cell != "R":
        assert body["data"] is None
        assert codes(body) == [{"U": "UNAUTHENTICATED", "F": "FORBIDDEN"}[cell]]
        return
    changes = body["data"]["changes"]["changes"]
    assert changes and all(c["regionCode"].startswith("37") for c in changes)


async def test_a_peer_account_reads_nothing_but_the_feed(api: Api, peer_token: str) -> None:
    peer = api.as_(peer_token)
    for field in ROOT_LISTS:
        if field == "auditEvents":
            assert codes(await peer.gql("{ auditEvents(first: 1) { totalCount } }")) == ["FORBIDDEN"]
        else:
            assert await walk(peer, field) == (set(), 0), field
