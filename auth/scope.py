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

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select, union
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
from models.one_of import one_of
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
    return _in_ranges(column, [code_range(p) for p in prefixes])


def _in_ranges(column: Any, ranges: list[tuple[Any, Any]]) -> ColumnElement[bool]:
    between = [column.between(low, high) for low, high in ranges]
    return or_(*between) if between else false()


class _Values:
    """What the rules compare the rows with: the viewer's own values, or (``template``) named parameters
    ``scope_*`` that ``scope_params()`` fills in at execution. Both go through the same rules below, so a
    cached statement (``Scoped``) and ``scope()`` can never disagree. A template's parameters are required:
    executed without the viewer's values it fails instead of matching another viewer's rows."""

    def __init__(self, viewer: Viewer, template: bool) -> None:
        self.viewer, self.template = viewer, template

    def _param(self, name: str, value: Any) -> Any:
        return bindparam(f"scope_{name}", required=True) if self.template else value

    def regions(self, column: Any) -> ColumnElement[bool]:
        if not self.template:
            return in_regions(column, self.viewer.region_prefixes)
        count = len(self.viewer.region_prefixes)
        return _in_ranges(
            column, [(self._param(f"low_{i}", None), self._param(f"high_{i}", None)) for i in range(count)]
        )

    def in_teams(self, column: Any) -> ColumnElement[bool]:
        """``column`` is one of the viewer's teams."""
        if self.template:
            return one_of(column, "scope_teams")
        return column.in_(sorted(self.viewer.team_ids))  # type: ignore[no-any-return]

    @property
    def volunteer(self) -> Any:
        return self._param("volunteer", self.viewer.volunteer_id)

    @property
    def account(self) -> Any:
        return self._param("account", self.viewer.account_id)


def scope_params(viewer: Viewer) -> dict[str, Any]:
    """The values of a template's ``scope_*`` parameters for ``viewer`` (``_Values`` names them)."""
    params: dict[str, Any] = {}
    for i, prefix in enumerate(viewer.region_prefixes):
        params[f"scope_low_{i}"], params[f"scope_high_{i}"] = code_range(prefix)
    if viewer.team_ids:
        params["scope_teams"] = sorted(viewer.team_ids)
    if viewer.volunteer_id is not None:
        params["scope_volunteer"] = viewer.volunteer_id
    if viewer.account_id is not None:
        params["scope_account"] = viewer.account_id
    return params


def viewer_shape(viewer: Viewer) -> tuple[Any, ...]:
    """What a template depends on: which rules apply to the viewer, and how many region ranges."""
    return (
        viewer.is_ministry,
        viewer.is_authenticated,
        len(viewer.region_prefixes),
        bool(viewer.team_ids),
        viewer.volunteer_id is not None,
        viewer.account_id is not None,
    )


def _volunteer_sets(v: _Values) -> list[tuple[ColumnElement[bool], Select[Any]]]:
    """The volunteers a viewer sees, as a union of sets: each as a condition on the volunteer row and as a
    select of the set's volunteer ids (which ``scoped_count()`` counts without reading the rows)."""
    viewer = v.viewer
    vid = _col(Volunteer, "id")
    sets: list[tuple[ColumnElement[bool], Select[Any]]] = []
    m = TeamMembership
    if viewer.region_prefixes:
        registered = v.regions(Volunteer.region_code)
        sets.append((registered, select(vid).where(registered)))
        members = select(col(m.volunteer_id)).where(
            col(m.status) == MembershipStatus.JOINED, v.regions(m.region_code)
        )
        sets.append((vid.in_(members), members))
    if viewer.team_ids:
        members = select(col(m.volunteer_id)).where(
            v.in_teams(col(m.team_id)), col(m.status).in_(ACTIVE_MEMBER)
        )
        signed = select(col(SignUp.volunteer_id)).where(v.in_teams(col(SignUp.team_id)))
        sets += [(vid.in_(members), members), (vid.in_(signed), signed)]
    if viewer.volunteer_id is not None:
        sets.append((vid == v.volunteer, select(vid).where(vid == v.volunteer)))
    return sets


def _volunteer_conditions(v: _Values) -> list[ColumnElement[bool]]:
    return [condition for condition, _ in _volunteer_sets(v)]


def scoped_count(
    model: type[SQLModel], viewer: Viewer, scoped: Select[Any], *, filtered: bool
) -> Select[Any]:
    """``SELECT count(*)`` of ``scoped`` — a select of ``model`` already through ``scope()``. Volunteers without
    filters are counted as the ``UNION`` of the id sets the viewer sees (``_volunteer_sets``, the same rules
    as ``scope()``), which the indexes answer without reading a volunteer row: for a county admin at tier M
    (163,236 volunteers registered in the county or joined to its teams) 0.2 s against 0.55 s for counting the
    rows that match the ``OR`` of the conditions."""
    if model is Volunteer and not filtered and not viewer.is_ministry:
        return select(func.count()).select_from(_visible_volunteer_ids(viewer).subquery())
    return select(func.count()).select_from(scoped.subquery())


def _visible_volunteer_ids(viewer: Viewer) -> Select[Any]:
    sets = (
        [ids for _, ids in _volunteer_sets(_Values(viewer, template=False))]
        if viewer.is_authenticated
        else []
    )
    if not sets:
        return select(_col(Volunteer, "id")).where(false())
    return union(*sets) if len(sets) > 1 else sets[0]  # type: ignore[return-value]


def _team_owned_conditions(model: type[SQLModel], v: _Values) -> list[ColumnElement[bool]]:
    """Teams themselves and the rows a team owns (projects, posts, sign-in points)."""
    viewer = v.viewer
    team_key = _col(Team, "id") if model is Team else _col(model, "team_id")
    conds: list[ColumnElement[bool]] = []
    if viewer.region_prefixes:
        conds.append(v.regions(_col(model, "region_code")))
    if viewer.team_ids:
        conds.append(v.in_teams(team_key))
    if viewer.volunteer_id is not None:
        if model is Team:
            mine = select(col(TeamMembership.team_id)).where(
                col(TeamMembership.volunteer_id) == v.volunteer,
                col(TeamMembership.status).in_(ACTIVE_MEMBER),
            )
            conds.append(team_key.in_(mine))
        elif model in (Project, Post):
            key = _col(Project, "id") if model is Project else col(Post.project_id)
            signed_up = select(col(SignUp.project_id)).where(col(SignUp.volunteer_id) == v.volunteer)
            conds.append(key.in_(signed_up))
    return conds


def _personal_conditions(model: type[SQLModel], v: _Values) -> list[ColumnElement[bool]]:
    viewer = v.viewer
    conds: list[ColumnElement[bool]] = []
    if viewer.region_prefixes:
        conds.append(v.regions(_col(model, "region_code")))
    if viewer.team_ids:
        conds.append(v.in_teams(_col(model, "team_id")))
    if viewer.volunteer_id is not None:
        conds.append(_col(model, "volunteer_id") == v.volunteer)
    return conds


def _visibility(model: type[SQLModel], v: _Values) -> ColumnElement[bool] | None:
    viewer = v.viewer
    if model is Region or viewer.is_ministry:
        return None
    if not viewer.is_authenticated:
        return false()
    conds: list[ColumnElement[bool]]
    if model is Volunteer:
        conds = _volunteer_conditions(v)
    elif model is Team or model in _TEAM_OWNED:
        conds = _team_owned_conditions(model, v)
    elif model in _PERSONAL:
        conds = _personal_conditions(model, v)
    elif model in (AuditEvent, RoleGrant, SupervisionAlert, SpotCheckItem):
        conds = [v.regions(_col(model, "region_code"))] if viewer.region_prefixes else []
    elif model is SpotCheck:  # a draft is its author's until published (docs/supervision.md)
        mine = or_(
            col(SpotCheck.status) == SpotCheckStatus.PUBLISHED,
            col(SpotCheck.created_by_id) == v.account,
        )
        conds = [and_(v.regions(col(SpotCheck.region_code)), mine)] if viewer.region_prefixes else []
    else:
        conds = []
    return or_(*conds) if conds else false()


def visibility(model: type[SQLModel], viewer: Viewer) -> ColumnElement[bool] | None:
    """The condition a row of ``model`` must meet to be visible to ``viewer``; None when all rows are."""
    return _visibility(model, _Values(viewer, template=False))


def visibility_template(model: type[SQLModel], viewer: Viewer) -> ColumnElement[bool] | None:
    """``visibility()`` with the viewer's values as required ``scope_*`` parameters (``scope_params()``): the
    same for every viewer of the same ``viewer_shape()``, so a statement built on it can be cached."""
    return _visibility(model, _Values(viewer, template=True))


_TEMPLATES: dict[Hashable, Any] = {}
_TEMPLATE_LIMIT = 4096


def scope_template(
    key: Hashable, model: type[SQLModel], viewer: Viewer, build: Callable[[Callable[[S], S]], Select[Any]]
) -> Select[Any]:
    """A statement on ``model`` that differs from call to call only in parameter values, built once per ``key``
    and ``viewer_shape()``: ``build(restrict)`` makes it, calling ``restrict`` on the select of ``model`` rows
    to add ``visibility_template()``. Execute it with ``scope_params(viewer)`` and its own parameters.

    The loaders' statements use it (loaders/rows_by_key.py, child_pages.py): building SQLAlchemy expressions
    cost more than executing them on every request (bench/RESULTS.md). The parameters are required, so a
    template executed without its viewer's values fails instead of showing another viewer's rows."""
    full = (key, model, viewer_shape(viewer))
    statement = _TEMPLATES.get(full)
    if statement is None:
        condition = visibility_template(model, viewer)

        def restrict(select_: S) -> S:
            return select_ if condition is None else select_.where(condition)

        if len(_TEMPLATES) >= _TEMPLATE_LIMIT:  # user-chosen page sizes and filters: keep it bounded
            _TEMPLATES.clear()
        statement = _TEMPLATES[full] = build(restrict)
    return statement


def scope(statement: S, model: type[SQLModel], viewer: Viewer) -> S:
    """Restrict ``statement`` (which selects from ``model``) to the rows ``viewer`` may read."""
    condition = visibility(model, viewer)
    if condition is None:
        return statement
    return statement.where(condition)
