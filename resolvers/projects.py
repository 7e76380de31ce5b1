"""Projects (志愿服务项目): creation and edits by the organising team's admin, posts (岗位) and sign-in points
(签到点), the lifecycle, and the public search of published projects.

    DRAFT --submit--> SUBMITTED --review(approve)--> PUBLISHED --close--> CLOSED
    DRAFT --submit--> PUBLISHED   when project review is off (settings.project_review_required, read per call)
    SUBMITTED --review(reject, reason)--> DRAFT (status_reason says why)
    DRAFT · SUBMITTED · PUBLISHED --cancel(reason)--> CANCELLED: live sign-ups are cancelled, places released

Team admins act on their own teams' projects (``viewer.team_ids``); reviews belong to the admins of the
project's region. Targets are loaded through ``scope()``: a row the viewer cannot read is NOT_FOUND, one it
can read but not act on FORBIDDEN. Project fields are edited only while DRAFT or SUBMITTED; posts and sign-in
points also while PUBLISHED (a post's quota never drops below the places taken; a grown quota fills from the
waitlist at once; a post with sign-ups stays). Every write is refused in a LEGACY province, and every
lifecycle change and edit writes an audit event (``PROJECT_*``).

Times are stored in UTC; a client's offset is converted and a time without one is taken as UTC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from auth.jurisdiction import code_range, jurisdiction_prefix
from auth.scope import scope
from auth.viewer import Viewer
from loaders.page import Page, PageArgs
from models import AuditEvent, Post, Project, Region, SignInPoint, SignUp, Team
from models.columns import utcnow
from models.db import SessionFactory
from models.enums import (
    ProjectCategory,
    ProjectStatus,
    SignUpScope,
    SignUpStatus,
    TeamStatus,
    TeamVerification,
)
from resolvers.audit import audit_event
from resolvers.people import service_region
from resolvers.rollout import ensure_live
from resolvers.signups import aware, fill_from_waitlist
from schema.context import Services
from schema.errors import AppError

MAX_QUOTA = 10_000
MAX_POSTS = 50
MAX_SIGN_IN_POINTS = 20
RADIUS_M = (10, 5000)
AGES = (0, 100)
TEXT_LIMITS = {"service_target": 200, "address": 300, "guarantees": 500, "description": 5000}
EDITABLE = (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED)
RECRUITING = (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED, ProjectStatus.PUBLISHED)


@dataclass(frozen=True)
class ProjectFields:
    """The fields a team admin sets on a project; ``region_code`` None means the team's region."""

    name: str
    starts_at: datetime
    ends_at: datetime
    category: ProjectCategory = ProjectCategory.COMMUNITY
    service_target: str = ""
    region_code: str | None = None
    address: str = ""
    description: str = ""
    min_age: int | None = None
    max_age: int | None = None
    insured: bool = False
    guarantees: str = ""
    signup_scope: SignUpScope = SignUpScope.PUBLIC
    signup_region_code: str | None = None
    requires_approval: bool = False
    requires_attendance: bool = True


@dataclass(frozen=True)
class NewPost:
    name: str
    quota: int
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class NewSignInPoint:
    latitude: float
    longitude: float
    name: str = ""
    radius_m: int = 200


@dataclass(frozen=True)
class NewProject:
    team_id: int
    fields: ProjectFields
    posts: Sequence[NewPost] = field(default_factory=list)
    sign_in_points: Sequence[NewSignInPoint] = field(default_factory=list)


PROJECT_FIELDS = frozenset(f.name for f in fields(ProjectFields))
POST_FIELDS = frozenset(f.name for f in fields(NewPost))
NULLABLE_PROJECT_FIELDS = frozenset({"min_age", "max_age", "signup_region_code"})


# --- validation -----------------------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check_fields(given: ProjectFields) -> ProjectFields:
    name = given.name.strip()
    if not 2 <= len(name) <= 200:
        raise AppError("BAD_USER_INPUT", key="PROJECT_NAME_FORMAT", field="name")
    texts = {key: str(getattr(given, key)).strip() for key in TEXT_LIMITS}
    for key, text in texts.items():
        if len(text) > TEXT_LIMITS[key]:
            raise AppError("BAD_USER_INPUT", key="TEXT_TOO_LONG", field=_camel(key), max=TEXT_LIMITS[key])
    starts, ends = utc(given.starts_at), utc(given.ends_at)
    if starts >= ends:
        raise AppError("BAD_USER_INPUT", key="TIME_WINDOW", field="endsAt")
    for key in ("min_age", "max_age"):
        value = getattr(given, key)
        if value is not None and not AGES[0] <= value <= AGES[1]:
            raise AppError("BAD_USER_INPUT", key="AGE_LIMITS", field=_camel(key))
    if given.min_age is not None and given.max_age is not None and given.min_age > given.max_age:
        raise AppError("BAD_USER_INPUT", key="AGE_LIMITS", field="maxAge")
    regional = given.signup_scope == SignUpScope.REGION
    signup_region = given.signup_region_code if regional else None
    if regional and not signup_region:
        raise AppError("BAD_USER_INPUT", key="SIGNUP_REGION_REQUIRED", field="signupRegionCode")
    return replace(
        given,
        name=name,
        starts_at=starts,
        ends_at=ends,
        signup_region_code=signup_region,
        service_target=texts["service_target"],
        address=texts["address"],
        guarantees=texts["guarantees"],
        description=texts["description"],
    )


def _check_post(post: NewPost, starts: datetime, ends: datetime, prefix: str = "") -> NewPost:
    name = post.name.strip()
    if not 1 <= len(name) <= 200:
        raise AppError("BAD_USER_INPUT", key="POST_NAME_FORMAT", field=f"{prefix}name")
    if len(post.description.strip()) > TEXT_LIMITS["description"]:
        raise AppError("BAD_USER_INPUT", key="TEXT_TOO_LONG", field=f"{prefix}description", max=5000)
    if not 1 <= post.quota <= MAX_QUOTA:
        raise AppError("BAD_USER_INPUT", key="QUOTA_RANGE", field=f"{prefix}quota", max=MAX_QUOTA)
    if (post.starts_at is None) != (post.ends_at is None):
        raise AppError("BAD_USER_INPUT", key="SHIFT_INCOMPLETE", field=f"{prefix}endsAt")
    shift_start = utc(post.starts_at) if post.starts_at else None
    shift_end = utc(post.ends_at) if post.ends_at else None
    if shift_start is not None and shift_end is not None:
        if shift_start >= shift_end:
            raise AppError("BAD_USER_INPUT", key="TIME_WINDOW", field=f"{prefix}endsAt")
        if shift_start < starts or shift_end > ends:
            raise AppError("BAD_USER_INPUT", key="SHIFT_OUTSIDE_WINDOW", field=f"{prefix}startsAt")
    return replace(
        post, name=name, description=post.description.strip(), starts_at=shift_start, ends_at=shift_end
    )


def _check_point(point: NewSignInPoint, prefix: str = "") -> NewSignInPoint:
    name = point.name.strip()
    if len(name) > 100:
        raise AppError("BAD_USER_INPUT", key="TEXT_TOO_LONG", field=f"{prefix}name", max=100)
    lat, lng = point.latitude, point.longitude
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise AppError("BAD_USER_INPUT", key="COORDINATES", field=f"{prefix}latitude")
    if not RADIUS_M[0] <= point.radius_m <= RADIUS_M[1]:
        raise AppError(
            "BAD_USER_INPUT", key="RADIUS_RANGE", field=f"{prefix}radiusM", min=RADIUS_M[0], max=RADIUS_M[1]
        )
    return replace(point, name=name)


async def _check_signup_region(session: AsyncSession, code: str | None) -> None:
    if code is None:
        return
    region = await session.get(Region, code)
    if region is None or region.retired_year is not None:
        raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field="signupRegionCode")


def _check_changes(changes: dict[str, Any], known: frozenset[str], nullable: frozenset[str]) -> None:
    """Edits name known fields; only optional ones may be cleared with null."""
    for name, value in changes.items():
        if name not in known or (value is None and name not in nullable):
            raise AppError("BAD_USER_INPUT", field=_camel(name))


def _check_count(count: int, limit: int, key: str, field_name: str) -> None:
    if count > limit:
        raise AppError("BAD_USER_INPUT", key=key, field=field_name, max=limit)


# --- lookups --------------------------------------------------------------------------------------------


async def _own_team(session: AsyncSession, viewer: Viewer, team_id: int) -> Team:
    team = (
        await session.execute(scope(select(Team).where(col(Team.id) == team_id), Team, viewer))
    ).scalar_one_or_none()
    if team is None:
        raise AppError("NOT_FOUND", field="teamId")
    if team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field="teamId")
    if team.verification_status != TeamVerification.APPROVED or team.status != TeamStatus.ACTIVE:
        raise AppError("INVALID_STATE", key="TEAM_NOT_ACTIVE", field="teamId")
    return team


async def _project(
    session: AsyncSession,
    viewer: Viewer,
    project_id: int,
    *,
    manage: bool = True,
    field_name: str = "projectId",
) -> Project:
    """The project, locked; NOT_FOUND outside the viewer's scope, FORBIDDEN when ``manage`` and the viewer
    does not administer its team."""
    statement = scope(select(Project).where(col(Project.id) == project_id), Project, viewer)
    project = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if project is None:
        raise AppError("NOT_FOUND", field=field_name)
    if manage and project.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field=field_name)
    return project


async def _child(
    session: AsyncSession, viewer: Viewer, model: type[Post] | type[SignInPoint], key: int
) -> Any:
    """A post or sign-in point of the viewer's team, not locked yet: its project is locked first (the lock
    order of resolvers/signups.py: project, then the rows below it)."""
    field_name = "postId" if model is Post else "signInPointId"
    statement = scope(select(model).where(col(model.id) == key), model, viewer)
    row: Any = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise AppError("NOT_FOUND", field=field_name)
    if row.team_id not in viewer.team_ids:
        raise AppError("FORBIDDEN", field=field_name)
    return row


def _require(project: Project, allowed: Sequence[ProjectStatus], field_name: str = "projectId") -> None:
    if project.status not in allowed:
        raise AppError("INVALID_STATE", field=field_name)


async def _live(session: AsyncSession, services: Services, region_code: str, field_name: str) -> None:
    await ensure_live(session, region_code, services.settings.default_province_status, field_name)


def _audit(viewer: Viewer, action: str, project: Project, request_id: str, **detail: object) -> AuditEvent:
    return audit_event(
        viewer,
        action,
        project,
        request_id,
        {"teamId": project.team_id, "status": str(project.status), **detail},
    )


def _post_row(project: Project, post: NewPost) -> Post:
    return Post(
        project_id=project.id,  # type: ignore[arg-type]
        team_id=project.team_id,
        region_code=project.region_code,
        name=post.name,
        description=post.description,
        quota=post.quota,
        starts_at=post.starts_at,
        ends_at=post.ends_at,
    )


def _point_row(project: Project, point: NewSignInPoint) -> SignInPoint:
    return SignInPoint(
        project_id=project.id,  # type: ignore[arg-type]
        team_id=project.team_id,
        region_code=project.region_code,
        name=point.name,
        latitude=point.latitude,
        longitude=point.longitude,
        radius_m=point.radius_m,
    )


def _fields_of(project: Project) -> ProjectFields:
    values = {name: getattr(project, name) for name in PROJECT_FIELDS}
    values.update(
        starts_at=aware(project.starts_at),
        ends_at=aware(project.ends_at),
        category=ProjectCategory(project.category),
        signup_scope=SignUpScope(project.signup_scope),
    )
    return ProjectFields(**values)


async def _posts_of(session: AsyncSession, project_id: int) -> list[Post]:
    statement = select(Post).where(col(Post.project_id) == project_id).order_by(col(Post.id))
    return list((await session.execute(statement)).scalars())


async def _count(session: AsyncSession, model: type[Post] | type[SignInPoint], project_id: int) -> int:
    statement = select(func.count()).select_from(model).where(col(model.project_id) == project_id)
    return int((await session.execute(statement)).scalar_one())


# --- create and edit ------------------------------------------------------------------------------------


async def create_project(services: Services, viewer: Viewer, new: NewProject, request_id: str) -> Project:
    checked = _check_fields(new.fields)
    _check_count(len(new.posts), MAX_POSTS, "TOO_MANY_POSTS", "posts")
    _check_count(len(new.sign_in_points), MAX_SIGN_IN_POINTS, "TOO_MANY_SIGN_IN_POINTS", "signInPoints")
    posts = [
        _check_post(p, checked.starts_at, checked.ends_at, f"posts.{i}.") for i, p in enumerate(new.posts)
    ]
    points = [_check_point(p, f"signInPoints.{i}.") for i, p in enumerate(new.sign_in_points)]
    async with services.writes() as session, session.begin():
        team = await _own_team(session, viewer, new.team_id)
        assert team.id is not None
        region = await service_region(session, checked.region_code or team.region_code, "regionCode")
        await _check_signup_region(session, checked.signup_region_code)
        await _live(session, services, team.region_code, "teamId")
        await _live(session, services, region.code, "regionCode")
        values = {f.name: getattr(checked, f.name) for f in fields(ProjectFields)}
        project = Project(
            **{**values, "region_code": region.code}, team_id=team.id, status=ProjectStatus.DRAFT
        )
        session.add(project)
        await session.flush()
        session.add_all([_post_row(project, p) for p in posts] + [_point_row(project, p) for p in points])
        session.add(_audit(viewer, "PROJECT_CREATED", project, request_id))
    return project


async def update_project(
    services: Services, viewer: Viewer, project_id: int, changes: dict[str, Any], request_id: str
) -> Project:
    """Change the given fields (an explicit None clears an optional one) while DRAFT or SUBMITTED."""
    _check_changes(changes, PROJECT_FIELDS, NULLABLE_PROJECT_FIELDS)
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, EDITABLE)
        await _live(session, services, project.region_code, "projectId")
        current = _fields_of(project)
        checked = _check_fields(replace(current, **changes))
        if checked.region_code != project.region_code:
            assert checked.region_code is not None
            region = await service_region(session, checked.region_code, "regionCode")
            await _live(session, services, region.code, "regionCode")
        await _check_signup_region(session, checked.signup_region_code)
        posts = await _posts_of(session, project_id)
        for post in posts:
            if post.starts_at is None or post.ends_at is None:
                continue
            if aware(post.starts_at) < checked.starts_at or aware(post.ends_at) > checked.ends_at:
                raise AppError("BAD_USER_INPUT", key="SHIFT_OUTSIDE_WINDOW", field="startsAt")
        changed = [
            name for name in sorted(PROJECT_FIELDS) if getattr(checked, name) != getattr(current, name)
        ]
        for name in changed:
            setattr(project, name, getattr(checked, name))
        if "region_code" in changed:
            for model in (Post, SignInPoint):
                await session.execute(
                    update(model)
                    .where(col(model.project_id) == project_id)
                    .values(region_code=project.region_code)
                    .execution_options(synchronize_session=False)
                )
        session.add(_audit(viewer, "PROJECT_UPDATED", project, request_id, fields=changed))
    return project


async def add_post(
    services: Services, viewer: Viewer, project_id: int, new: NewPost, request_id: str
) -> Post:
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, RECRUITING)
        await _live(session, services, project.region_code, "projectId")
        post = _check_post(new, aware(project.starts_at), aware(project.ends_at))
        _check_count(await _count(session, Post, project_id) + 1, MAX_POSTS, "TOO_MANY_POSTS", "projectId")
        row = _post_row(project, post)
        session.add(row)
        await session.flush()
        session.add(_audit(viewer, "PROJECT_POST_ADDED", project, request_id, postId=row.id))
    return row


async def update_post(
    services: Services, viewer: Viewer, post_id: int, changes: dict[str, Any], request_id: str
) -> Post:
    """Edit a post; the quota never drops below the places taken (checked by the UPDATE itself), and a grown
    quota of a published project moves waitlisted sign-ups up at once."""
    _check_changes(changes, POST_FIELDS, frozenset({"starts_at", "ends_at"}))
    async with services.writes() as session, session.begin():
        post: Post = await _child(session, viewer, Post, post_id)
        project = await _project(session, viewer, post.project_id, field_name="postId")
        _require(project, RECRUITING, "postId")
        await _live(session, services, project.region_code, "postId")
        await session.refresh(post, with_for_update=True)
        current = NewPost(post.name, post.quota, post.description, post.starts_at, post.ends_at)
        checked = _check_post(replace(current, **changes), aware(project.starts_at), aware(project.ends_at))
        grown = checked.quota > post.quota
        if checked.quota != post.quota:
            lowered = await session.execute(
                update(Post)
                .where(col(Post.id) == post_id, col(Post.taken) <= checked.quota)
                .values(quota=checked.quota)
                .returning(col(Post.taken))
                .execution_options(synchronize_session=False)
            )
            if lowered.first() is None:
                raise AppError("INVALID_STATE", key="QUOTA_BELOW_TAKEN", field="quota")
        post.name, post.description = checked.name, checked.description
        post.starts_at, post.ends_at = checked.starts_at, checked.ends_at
        moved = 0
        if grown and project.status == ProjectStatus.PUBLISHED:
            await session.flush()
            moved = await fill_from_waitlist(session, post_id, project)
        session.add(
            _audit(viewer, "PROJECT_POST_UPDATED", project, request_id, postId=post_id, promoted=moved)
        )
    async with services.sessions() as session:  # quota and taken as stored
        fresh = await session.get(Post, post_id)
    assert fresh is not None
    return fresh


async def remove_post(services: Services, viewer: Viewer, post_id: int, request_id: str) -> Project:
    async with services.writes() as session, session.begin():
        post: Post = await _child(session, viewer, Post, post_id)
        project = await _project(session, viewer, post.project_id, field_name="postId")
        _require(project, RECRUITING, "postId")
        await _live(session, services, project.region_code, "postId")
        used = select(col(SignUp.id)).where(col(SignUp.post_id) == post_id).limit(1)
        if (await session.execute(used)).first() is not None:
            raise AppError("INVALID_STATE", key="POST_HAS_SIGN_UPS", field="postId")
        if project.status != ProjectStatus.DRAFT and await _count(session, Post, project.id or 0) <= 1:
            raise AppError("INVALID_STATE", key="NO_POSTS", field="postId")
        await session.delete(post)
        session.add(_audit(viewer, "PROJECT_POST_REMOVED", project, request_id, postId=post_id))
    return project


async def add_sign_in_point(
    services: Services, viewer: Viewer, project_id: int, new: NewSignInPoint, request_id: str
) -> SignInPoint:
    point = _check_point(new)
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, RECRUITING)
        await _live(session, services, project.region_code, "projectId")
        count = await _count(session, SignInPoint, project_id) + 1
        _check_count(count, MAX_SIGN_IN_POINTS, "TOO_MANY_SIGN_IN_POINTS", "projectId")
        row = _point_row(project, point)
        session.add(row)
        await session.flush()
        session.add(_audit(viewer, "PROJECT_POINT_ADDED", project, request_id, signInPointId=row.id))
    return row


async def remove_sign_in_point(services: Services, viewer: Viewer, point_id: int, request_id: str) -> Project:
    async with services.writes() as session, session.begin():
        point: SignInPoint = await _child(session, viewer, SignInPoint, point_id)
        project = await _project(session, viewer, point.project_id, field_name="signInPointId")
        _require(project, RECRUITING, "signInPointId")
        await _live(session, services, project.region_code, "signInPointId")
        await session.delete(point)
        session.add(_audit(viewer, "PROJECT_POINT_REMOVED", project, request_id, signInPointId=point_id))
    return project


# --- lifecycle ------------------------------------------------------------------------------------------


async def submit_project(services: Services, viewer: Viewer, project_id: int, request_id: str) -> Project:
    """DRAFT → SUBMITTED for review, or straight to PUBLISHED when project review is off."""
    review = services.settings.project_review_required
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, (ProjectStatus.DRAFT,))
        await _own_team(session, viewer, project.team_id)
        await _live(session, services, project.region_code, "projectId")
        if await _count(session, Post, project_id) == 0:
            raise AppError("INVALID_STATE", key="NO_POSTS", field="projectId")
        now = utcnow()
        if aware(project.ends_at) <= now:
            raise AppError("INVALID_STATE", key="PROJECT_ENDED", field="projectId")
        project.status, project.submitted_at, project.status_reason = ProjectStatus.SUBMITTED, now, ""
        session.add(_audit(viewer, "PROJECT_SUBMITTED", project, request_id, review=review))
        if not review:
            project.status, project.published_at = ProjectStatus.PUBLISHED, now
            session.add(_audit(viewer, "PROJECT_PUBLISHED", project, request_id, review=False))
    return project


async def review_project(
    services: Services, viewer: Viewer, project_id: int, approve: bool, reason: str, request_id: str
) -> Project:
    """An admin of the project's region publishes a submitted project or returns it to DRAFT with a reason."""
    reason = reason.strip()[:500]
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id, manage=False)
        if not viewer.administers_region(project.region_code):
            raise AppError("FORBIDDEN", field="projectId")
        _require(project, (ProjectStatus.SUBMITTED,))
        await _live(session, services, project.region_code, "projectId")
        if not approve and not reason:
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        now = utcnow()
        if approve and aware(project.ends_at) <= now:
            raise AppError("INVALID_STATE", key="PROJECT_ENDED", field="projectId")
        project.status_reason = reason
        if approve:
            project.status, project.published_at = ProjectStatus.PUBLISHED, now
        else:
            project.status = ProjectStatus.DRAFT
        action = "PROJECT_PUBLISHED" if approve else "PROJECT_RETURNED"
        session.add(_audit(viewer, action, project, request_id, review=True, reason=reason))
    return project


async def close_project(
    services: Services, viewer: Viewer, project_id: int, reason: str, request_id: str
) -> Project:
    """PUBLISHED → CLOSED: recruitment ends; sign-ups stay as they are (accepted volunteers still serve)."""
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, (ProjectStatus.PUBLISHED,))
        await _live(session, services, project.region_code, "projectId")
        project.status, project.closed_at = ProjectStatus.CLOSED, utcnow()
        project.status_reason = reason.strip()[:500]
        session.add(_audit(viewer, "PROJECT_CLOSED", project, request_id, reason=project.status_reason))
    return project


async def cancel_project(
    services: Services, viewer: Viewer, project_id: int, reason: str, request_id: str
) -> Project:
    """Cancel a project that has not closed: every live sign-up (pending, accepted, waitlisted, invited) is
    cancelled with the project's reason and every post's places are released."""
    reason = reason.strip()[:500]
    async with services.writes() as session, session.begin():
        project = await _project(session, viewer, project_id)
        _require(project, RECRUITING)
        await _live(session, services, project.region_code, "projectId")
        if not reason:
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="reason")
        now = utcnow()
        live = (SignUpStatus.PENDING, SignUpStatus.ACCEPTED, SignUpStatus.WAITLISTED, SignUpStatus.INVITED)
        cancelled = await session.execute(
            update(SignUp)
            .where(col(SignUp.project_id) == project_id, col(SignUp.status).in_(live))
            .values(status=SignUpStatus.CANCELLED, cancelled_at=now, reason=reason)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Post)
            .where(col(Post.project_id) == project_id)
            .values(taken=0)
            .execution_options(synchronize_session=False)
        )
        project.status, project.status_reason = ProjectStatus.CANCELLED, reason
        count = int(cancelled.rowcount)  # type: ignore[attr-defined]
        session.add(_audit(viewer, "PROJECT_CANCELLED", project, request_id, reason=reason, signUps=count))
    return project


# --- public search --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicSearch:
    region: str | None = None
    category: ProjectCategory | None = None
    name_contains: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


def _public_conditions(search: PublicSearch) -> list[ColumnElement[bool]]:
    """Published projects only, always; then the visitor's filters."""
    conds: list[ColumnElement[bool]] = [col(Project.status) == ProjectStatus.PUBLISHED]
    if search.region:
        conds.append(col(Project.region_code).between(*code_range(jurisdiction_prefix(search.region))))
    if search.category is not None:
        conds.append(col(Project.category) == search.category)
    if search.name_contains:
        escaped = search.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(col(Project.name).ilike(f"%{escaped}%", escape="\\"))
    if search.starts_after is not None:
        conds.append(col(Project.starts_at) >= utc(search.starts_after))
    if search.starts_before is not None:
        conds.append(col(Project.starts_at) < utc(search.starts_before))
    return conds


async def public_page(sessions: SessionFactory, search: PublicSearch, args: PageArgs) -> Page:
    """One statement per page: published projects with their team's name as ``(Project, team name)`` rows,
    soonest first. Not ``scope()``: this list is public by design and never selects anything else."""
    conds = _public_conditions(search)
    statement: Any = (
        select(Project, col(Team.name)).join(Team, col(Team.id) == col(Project.team_id)).where(*conds)
    )
    if args.with_total:
        statement = statement.add_columns(func.count().over().label("_total"))
    statement = (
        statement.order_by(col(Project.starts_at), col(Project.id)).offset(args.offset).limit(args.first + 1)
    )
    async with sessions() as session:
        result = (await session.execute(statement)).all()
        total: int | None = None
        if args.with_total:
            if result:
                total = int(result[0][2])
            else:
                count = select(func.count()).select_from(Project).where(*conds)
                total = int((await session.execute(count)).scalar_one())
    rows = [(r[0], r[1]) for r in result]
    return Page(rows[: args.first], args.offset, len(rows) > args.first, total)


async def public_posts(sessions: SessionFactory, project_ids: Sequence[int]) -> dict[int, list[Post]]:
    """The posts of a page of published projects, in one statement."""
    found: dict[int, list[Post]] = {key: [] for key in project_ids}
    if not project_ids:
        return found
    statement = (
        select(Post)
        .join(Project, col(Project.id) == col(Post.project_id))
        .where(col(Post.project_id).in_(list(project_ids)), col(Project.status) == ProjectStatus.PUBLISHED)
        .order_by(col(Post.project_id), col(Post.id))
    )
    async with sessions() as session:
        for post in (await session.execute(statement)).scalars():
            found[post.project_id].append(post)
    return found
