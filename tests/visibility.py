"""Which rows a demo account should see, computed straight from the tables with plain WHERE conditions.

Deliberately independent of ``auth/scope.py``: the rules of docs/permissions.md restated with ``LIKE 'prefix%'``
and explicit sub-selects on the account's grants as stored in ``role_grant``, so a mistake in ``scope()`` shows
up as a difference instead of being copied into the expectation. Also the small helpers the permission tests
share: global IDs, paging through a root list, error codes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlmodel import SQLModel

import models as m
from models.db import SessionFactory
from models.enums import AccountStatus
from tests.conftest import Api

ACTIVE_MEMBER = ("JOINED", "APPLYING", "INVITED")
PERSONAL: tuple[type[SQLModel], ...] = (
    m.TeamMembership,
    m.SignUp,
    m.Attendance,
    m.ServiceRecord,
    m.Certificate,
)
ROOT_LISTS: dict[str, type[SQLModel]] = {
    "volunteers": m.Volunteer,
    "teams": m.Team,
    "memberships": m.TeamMembership,
    "projects": m.Project,
    "posts": m.Post,
    "signUps": m.SignUp,
    "attendances": m.Attendance,
    "serviceRecords": m.ServiceRecord,
    "certificates": m.Certificate,
    "auditEvents": m.AuditEvent,
}
"""The scoped root lists and their tables (``regions`` is public reference data)."""


@dataclass(frozen=True)
class Person:
    """A signed-in account as the database records it (grants not revoked, linked volunteer)."""

    username: str
    account_id: int | None = None
    ministry: bool = False
    prefixes: tuple[str, ...] = ()
    """Region-admin subtrees, as code prefixes (``370102``)."""
    reveal_prefixes: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    volunteer_id: int | None = None


ANONYMOUS = Person("anonymous")


def subtree(code: str) -> str:
    """``370102000000`` → ``370102``: the code without its trailing all-zero levels (2/4/6/9 digits)."""
    for length in (2, 4, 6, 9):
        if code[length:].strip("0") == "":
            return code[:length]
    return code


async def person(sessions: SessionFactory, username: str) -> Person:
    async with sessions() as session:
        account_id = (
            await session.execute(select(m.Account.id).where(m.Account.username == username))
        ).scalar_one()
        grants = (
            await session.execute(
                select(m.RoleGrant.role, m.RoleGrant.region_code, m.RoleGrant.team_id, m.RoleGrant.can_reveal)
                .where(m.RoleGrant.account_id == account_id)
                .where(col(m.RoleGrant, "revoked_at").is_(None))
            )
        ).all()
        volunteer_id = (
            await session.execute(select(m.Volunteer.id).where(m.Volunteer.account_id == account_id))
        ).scalar_one_or_none()
    regional = [(subtree(code), reveal) for role, code, _, reveal in grants if role == "REGION_ADMIN"]
    return Person(
        username,
        account_id,
        ministry=any(role == "MINISTRY_ADMIN" for role, *_ in grants),
        prefixes=tuple(sorted(p for p, _ in regional)),
        reveal_prefixes=tuple(sorted(p for p, reveal in regional if reveal)),
        team_ids=tuple(sorted(t for role, _, t, _ in grants if role == "TEAM_ADMIN" and t)),
        volunteer_id=volunteer_id,
    )


def col(model: type[SQLModel], name: str) -> Any:
    return getattr(model, name)


def under(column: Any, prefixes: tuple[str, ...]) -> ColumnElement[bool]:
    return or_(*(column.like(f"{p}%") for p in prefixes)) if prefixes else false()


def _volunteer_rule(who: Person) -> list[ColumnElement[bool]]:
    tm, su, vid = m.TeamMembership, m.SignUp, col(m.Volunteer, "id")
    rule: list[ColumnElement[bool]] = []
    if who.prefixes:
        rule.append(under(m.Volunteer.region_code, who.prefixes))
        joined = select(tm.volunteer_id).where(tm.status == "JOINED", under(tm.region_code, who.prefixes))
        rule.append(vid.in_(joined))
    if who.team_ids:
        members = select(tm.volunteer_id).where(
            col(tm, "team_id").in_(who.team_ids), col(tm, "status").in_(ACTIVE_MEMBER)
        )
        rule.append(vid.in_(members))
        rule.append(vid.in_(select(su.volunteer_id).where(col(su, "team_id").in_(who.team_ids))))
    if who.volunteer_id is not None:
        rule.append(vid == who.volunteer_id)
    return rule


def _organisation_rule(model: type[SQLModel], who: Person) -> list[ColumnElement[bool]]:
    tm, su = m.TeamMembership, m.SignUp
    rule: list[ColumnElement[bool]] = []
    if who.prefixes:
        rule.append(under(col(model, "region_code"), who.prefixes))
    if who.team_ids:
        rule.append(col(model, "id" if model is m.Team else "team_id").in_(who.team_ids))
    if who.volunteer_id is not None:
        signed_projects = select(su.project_id).where(su.volunteer_id == who.volunteer_id)
        if model is m.Team:
            mine = select(tm.team_id).where(
                tm.volunteer_id == who.volunteer_id, col(tm, "status").in_(ACTIVE_MEMBER)
            )
            rule.append(col(m.Team, "id").in_(mine))
        elif model is m.Project:
            rule.append(col(m.Project, "id").in_(signed_projects))
        elif model is m.Post:
            rule.append(col(m.Post, "project_id").in_(signed_projects))
        elif model in PERSONAL:
            rule.append(col(model, "volunteer_id") == who.volunteer_id)
    return rule


def rule(model: type[SQLModel], who: Person) -> ColumnElement[bool] | None:
    """The WHERE condition of the rows ``who`` may read; None for all rows."""
    if model is m.Region or who.ministry:
        return None
    if who.account_id is None:
        return false()
    if model is m.Volunteer:
        conditions = _volunteer_rule(who)
    elif model is m.AuditEvent:
        conditions = [under(m.AuditEvent.region_code, who.prefixes)] if who.prefixes else []
    else:
        conditions = _organisation_rule(model, who)
    return or_(*conditions) if conditions else false()


async def visible_ids(
    sessions: SessionFactory, model: type[SQLModel], who: Person, *where: ColumnElement[bool]
) -> set[int]:
    """Ids of the rows of ``model`` that ``who`` may read, narrowed by ``where``."""
    statement = select(col(model, "id")).where(*where)
    condition = rule(model, who)
    if condition is not None:
        statement = statement.where(condition)
    async with sessions() as session:
        return set((await session.execute(statement)).scalars().all())


async def all_ids(sessions: SessionFactory, model: type[SQLModel], *where: ColumnElement[bool]) -> set[int]:
    async with sessions() as session:
        return set((await session.execute(select(col(model, "id")).where(*where))).scalars().all())


async def count(sessions: SessionFactory, model: type[SQLModel], *where: ColumnElement[bool]) -> int:
    async with sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


def gid(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def db_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in body.get("errors", [])]


async def walk(api: Api, field: str, args: str = "") -> tuple[set[int], int]:
    """Every id of a root list (``args`` e.g. ``filter: {...}``), page by page, and its ``totalCount``."""
    query = (
        "query Page($after: String) { "
        + f"{field}({args} first: 100, after: $after)"
        + " { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"
    )
    ids: list[int] = []
    after: str | None = None
    total = -1
    while True:
        page = (await api.data(query, {"after": after}))[field]
        total = page["totalCount"] if total < 0 else total
        assert page["totalCount"] == total, "totalCount changed between pages"
        ids += [db_id(n["id"]) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(ids) == len(set(ids)), f"{field}: a row appeared on two pages"
    return set(ids), total


async def insert_account(sessions: Any, username: str, password_hash: str, *grants: m.RoleGrant) -> int:
    """An account with ``grants`` written straight to the database (for scopes the demo data lacks)."""
    async with sessions() as session, session.begin():
        account = m.Account(username=username, password_hash=password_hash)
        session.add(account)
        await session.flush()
        assert account.id is not None
        for grant in grants:
            grant.account_id = account.id
            session.add(grant)
        return account.id


async def add_account(app: Any, username: str, password: str, *grants: m.RoleGrant) -> int:
    services = app.state.services
    return await insert_account(services.sessions, username, services.passwords.hash(password), *grants)


async def remove_account(app: Any, account_id: int) -> None:
    """Undo ``add_account`` and the sessions its sign-ins opened. An account the audit trail names as an actor
    stays (the trail is append-only), disabled and without grants."""
    async with app.state.services.sessions() as session, session.begin():
        for model in (m.RefreshToken, m.RoleGrant):
            await session.execute(delete(model).where(col(model, "account_id") == account_id))
        audited = select(m.AuditEvent.id).where(m.AuditEvent.actor_id == account_id).limit(1)
        if (await session.execute(audited)).first() is None:
            await session.execute(delete(m.Account).where(col(m.Account, "id") == account_id))
        else:
            account = await session.get(m.Account, account_id)
            assert account is not None
            account.status = AccountStatus.DISABLED
