"""``scope()``: the one place that decides which rows a viewer may read.

Every read goes through it — root lists, ``node``/``nodes``, every DataLoader, federation entity resolution,
counts and aggregates — so no resolver can forget it. It only adds WHERE conditions (ranges on indexed region
codes, ``IN`` lists, and correlated sub-selects), never extra statements.

The rules (docs/permissions.md is the readable form):

* Ministry admins: everything.
* Region admins: rows whose ``region_code`` lies in their subtree. Volunteers: those registered in the subtree
  and those who are joined members of a team in it (the admin supervises the teams' service).
* Team admins: rows of their teams; volunteers who are members of, applicants to, or signed up with their teams.
* Volunteers: their own rows; the teams they belong to or applied to; the projects and posts they signed up for.
* Supervision alerts, spot-check items and spot checks (published ones, or the viewer's own drafts): region
  admins, by the row's region; nobody else (docs/supervision.md).
* Anonymous: nothing here (the region tree is public reference data and is never filtered).

A viewer holding several grants sees the union. A type with no rule for a viewer matches nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlmodel import SQLModel, col

from auth.jurisdiction import code_range
from auth.viewer import Viewer
from models import (
    Attendance,
    AuditEvent,
    Certificate,
    CorrectionRequest,
    Post,
    Project,
    Region,
    RoleGrant,
    ServiceRecord,
    SignInPoint,
    SignUp,
    SpotCheck,
    SpotCheckItem,
    SupervisionAlert,
    Team,
    TeamMembership,
    Volunteer,
)
from models.enums import MembershipStatus
from models.supervision import SpotCheckStatus

S = TypeVar("S", bound=Select[Any])

_TEAM_OWNED: tuple[type[SQLModel], ...] = (Project, Post, SignInPoint)
_PERSONAL: tuple[type[SQLModel], ...] = (
    TeamMembership,
    SignUp,
    Attendance,
    ServiceRecord,
    Certificate,
    CorrectionRequest,
)
ACTIVE_MEMBER = (MembershipStatus.JOINED, MembershipStatus.APPLYING, MembershipStatus.INVITED)
"""Memberships that tie a volunteer to a team now (not left or rejected): for scope and team contacts."""


def _col(model: type[SQLModel], name: str) -> Any:
    return getattr(model, name)


def in_regions(column: Any, prefixes: tuple[str, ...]) -> ColumnElement[bool]:
    """``column`` inside any of the subtrees, as index-friendly ranges."""
    ranges = [column.between(*code_range(p)) for p in prefixes]
    return or_(*ranges) if ranges else false()


def _volunteer_conditions(viewer: Viewer) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    m = TeamMembership
    if viewer.region_prefixes:
        conds.append(in_regions(Volunteer.region_code, viewer.region_prefixes))
        members = select(col(m.volunteer_id)).where(
            col(m.status) == MembershipStatus.JOINED, in_regions(m.region_code, viewer.region_prefixes)
        )
        conds.append(_col(Volunteer, "id").in_(members))
    if viewer.team_ids:
        teams = sorted(viewer.team_ids)
        members = select(col(m.volunteer_id)).where(
            col(m.team_id).in_(teams), col(m.status).in_(ACTIVE_MEMBER)
        )
        signed = select(col(SignUp.volunteer_id)).where(col(SignUp.team_id).in_(teams))
        conds.append(_col(Volunteer, "id").in_(members))
        conds.append(_col(Volunteer, "id").in_(signed))
    if viewer.volunteer_id is not None:
        conds.append(_col(Volunteer, "id") == viewer.volunteer_id)
    return conds


def _team_owned_conditions(model: type[SQLModel], viewer: Viewer) -> list[ColumnElement[bool]]:
    """Teams themselves and the rows a team owns (projects, posts, sign-in points)."""
    team_key = _col(Team, "id") if model is Team else _col(model, "team_id")
    conds: list[ColumnElement[bool]] = []
    if viewer.region_prefixes:
        conds.append(in_regions(_col(model, "region_code"), viewer.region_prefixes))
    if viewer.team_ids:
        conds.append(team_key.in_(sorted(viewer.team_ids)))
    if viewer.volunteer_id is not None:
        if model is Team:
            mine = select(col(TeamMembership.team_id)).where(
                col(TeamMembership.volunteer_id) == viewer.volunteer_id,
                col(TeamMembership.status).in_(ACTIVE_MEMBER),
            )
            conds.append(team_key.in_(mine))
        elif model in (Project, Post):
            key = _col(Project, "id") if model is Project else col(Post.project_id)
            signed_up = select(col(SignUp.project_id)).where(col(SignUp.volunteer_id) == viewer.volunteer_id)
            conds.append(key.in_(signed_up))
    return conds


def _personal_conditions(model: type[SQLModel], viewer: Viewer) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if viewer.region_prefixes:
        conds.append(in_regions(_col(model, "region_code"), viewer.region_prefixes))
    if viewer.team_ids:
        conds.append(_col(model, "team_id").in_(sorted(viewer.team_ids)))
    if viewer.volunteer_id is not None:
        conds.append(_col(model, "volunteer_id") == viewer.volunteer_id)
    return conds


def visibility(model: type[SQLModel], viewer: Viewer) -> ColumnElement[bool] | None:
    """The condition a row of ``model`` must meet to be visible to ``viewer``; None when all rows are."""
    if model is Region or viewer.is_ministry:
        return None
    if not viewer.is_authenticated:
        return false()
    conds: list[ColumnElement[bool]]
    if model is Volunteer:
        conds = _volunteer_conditions(viewer)
    elif model is Team or model in _TEAM_OWNED:
        conds = _team_owned_conditions(model, viewer)
    elif model in _PERSONAL:
        conds = _personal_conditions(model, viewer)
    elif model in (AuditEvent, RoleGrant, SupervisionAlert, SpotCheckItem):
        conds = (
            [in_regions(_col(model, "region_code"), viewer.region_prefixes)] if viewer.region_prefixes else []
        )
    elif model is SpotCheck:  # a draft is its author's until published (docs/supervision.md)
        mine = or_(
            col(SpotCheck.status) == SpotCheckStatus.PUBLISHED,
            col(SpotCheck.created_by_id) == viewer.account_id,
        )
        conds = (
            [and_(in_regions(col(SpotCheck.region_code), viewer.region_prefixes), mine)]
            if viewer.region_prefixes
            else []
        )
    else:
        conds = []
    return or_(*conds) if conds else false()


def scope(statement: S, model: type[SQLModel], viewer: Viewer) -> S:
    """Restrict ``statement`` (which selects from ``model``) to the rows ``viewer`` may read."""
    condition = visibility(model, viewer)
    if condition is None:
        return statement
    return statement.where(condition)
