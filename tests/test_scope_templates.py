"""``scope_template()`` (cached statements with the viewer's values as parameters) selects exactly what
``scope()`` (the viewer's values inline) selects, for every scoped table and every kind of viewer; viewers of
the same shape share one statement and still see only their own rows; a template run without the viewer's
values fails instead of matching anything. The filter templates of the nested lists agree with the inline
filters the same way."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel
from starlette.applications import Starlette

import models as m
from auth.scope import scope, scope_params, scope_template
from auth.viewer import Grant, Viewer
from loaders.filtering import conditions, filter_params, filter_shape, filter_template
from models.enums import Role
from tests.test_impossible_scope import REGIONAL_TABLES

MODELS: tuple[type[SQLModel], ...] = (
    *REGIONAL_TABLES,
    m.CorrectionRequest,
    m.RoleGrant,
    m.SupervisionAlert,
    m.SpotCheck,
    m.SpotCheckItem,
    m.Region,
)
"""Every table ``scope()`` has a rule for, and the region tree (never filtered)."""


async def _rows(app: Starlette, statement: Any, params: dict[str, Any] | None = None) -> set[Any]:
    async with app.state.engine.connect() as conn:
        return {row[0] for row in (await conn.execute(statement, params or {})).all()}


async def _viewers(app: Starlette) -> dict[str, Viewer]:
    """One viewer of each kind the rules tell apart, with real ids from the demo data."""
    async with app.state.engine.connect() as conn:
        team_id, team_region = (await conn.execute(select(m.Team.id, m.Team.region_code).limit(1))).one()
        other_team = (await conn.execute(select(m.Team.id).where(m.Team.id != team_id).limit(1))).scalar_one()
        volunteers = (
            await conn.execute(
                select(m.ServiceRecord.volunteer_id).group_by(m.ServiceRecord.volunteer_id).limit(2)
            )
        ).scalars()
        first, second = list(volunteers)
    county = team_region[:6] + "000000"
    return {
        "anonymous": Viewer(),
        "ministry": Viewer(1, "ministry", grants=(Grant(Role.MINISTRY_ADMIN),)),
        "province": Viewer(2, "province", grants=(Grant(Role.REGION_ADMIN, team_region[:2] + "0" * 10),)),
        "county": Viewer(3, "county", grants=(Grant(Role.REGION_ADMIN, county),)),
        "two_counties": Viewer(
            4, "two", grants=(Grant(Role.REGION_ADMIN, county), Grant(Role.REGION_ADMIN, "330106000000"))
        ),
        "team": Viewer(5, "team", grants=(Grant(Role.TEAM_ADMIN, team_id=team_id),)),
        "two_teams": Viewer(
            6,
            "teams",
            grants=(Grant(Role.TEAM_ADMIN, team_id=team_id), Grant(Role.TEAM_ADMIN, team_id=other_team)),
        ),
        "volunteer": Viewer(7, "v1", volunteer_id=first),
        "other_volunteer": Viewer(8, "v2", volunteer_id=second),
        "volunteer_and_team": Viewer(
            9, "vt", volunteer_id=second, grants=(Grant(Role.TEAM_ADMIN, team_id=team_id),)
        ),
    }


async def test_templates_select_what_scope_selects(app: Starlette) -> None:
    viewers = await _viewers(app)
    nonempty = 0
    for model in MODELS:
        table: Any = model.__table__  # type: ignore[attr-defined]
        key = table.primary_key.columns.values()[0]
        for name, viewer in viewers.items():
            inline = await _rows(app, scope(select(key), model, viewer))
            template = scope_template(
                ("test", "ids"), model, viewer, lambda restrict, key=key: restrict(select(key))
            )
            cached = await _rows(app, template, scope_params(viewer))
            assert cached == inline, (model.__name__, name)
            nonempty += bool(inline)
    assert nonempty > 60  # the comparison is not between empty sets


async def test_same_shape_shares_the_statement_not_the_rows(app: Starlette) -> None:
    viewers = await _viewers(app)
    first, second = viewers["volunteer"], viewers["other_volunteer"]

    def build(restrict: Any) -> Any:
        return restrict(select(m.ServiceRecord.volunteer_id))

    one = scope_template(("test", "owners"), m.ServiceRecord, first, build)
    two = scope_template(("test", "owners"), m.ServiceRecord, second, build)
    assert one is two
    assert await _rows(app, one, scope_params(first)) == {first.volunteer_id}
    assert await _rows(app, two, scope_params(second)) == {second.volunteer_id}


@pytest.mark.parametrize("kind", ["volunteer", "county", "team"])
async def test_template_without_the_viewers_values_fails(app: Starlette, kind: str) -> None:
    viewer = (await _viewers(app))[kind]
    template = scope_template(
        ("test", "ids"), m.ServiceRecord, viewer, lambda r: r(select(m.ServiceRecord.id))
    )
    with pytest.raises(StatementError, match="scope_"):
        await _rows(app, template)


FILTERS: list[tuple[tuple[str, Any], ...]] = [
    (),
    (("status", "CONFIRMED"),),
    (("status_in", ["CONFIRMED", "PENDING"]),),
    (("status_in", []),),
    (("service_date_after", date(2025, 1, 1)), ("service_date_before", date(2026, 6, 1))),
    (("content_contains", "服务"),),
    (("content_contains", "50%_"),),
    (("region", "370102"),),
    (("region", "37"), ("category", "COMMUNITY")),
    (("replaces_id_isnull", True),),
    (("replaces_id_isnull", False),),
    (("project_id_isnull", True), ("status", "CONFIRMED")),
]


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: ",".join(n for n, _ in w) or "none")
async def test_filter_templates_match_inline_filters(
    app: Starlette, where: tuple[tuple[str, Any], ...]
) -> None:
    record = m.ServiceRecord
    inline = await _rows(app, select(record.id).where(*conditions(record, where)))
    template = select(record.id).where(*filter_template(record, filter_shape(where)))
    assert await _rows(app, template, filter_params(where)) == inline
