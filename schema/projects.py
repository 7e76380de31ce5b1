"""Projects, posts, sign-ups (项目、岗位、报名): thin wrappers over resolvers/projects.py and resolvers/signups.py,
and the public search of published projects (公开项目查询).

The public search is its own root field with its own types: ``PublicProject`` and ``PublicPost`` carry only
what a recruitment notice shows, and the statement behind them always says ``status = 'PUBLISHED'``. The
management lists (``projects``, ``posts``, ``signUps``) stay behind ``scope()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from models import Post as PostRow
from models import Project as ProjectRow
from models import SignUp as SignUpRow
from resolvers import projects, signups
from resolvers.signups import aware
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.pagination import Connection, page_args, to_connection
from schema.permissions import requires
from schema.selection import connection_selection
from schema.types.base import build
from schema.types.enums import ProjectCategory, SignUpScope
from schema.types.project import Post, Project, SignInPoint, SignUp
from schema.types.region import Region, region_by_code
from schema.types.registry import global_id, parse_global_id

ProjectId = Annotated[strawberry.ID, strawberry.argument(description="The project's global ID (项目 ID)")]
PostId = Annotated[strawberry.ID, strawberry.argument(description="The post's global ID (岗位 ID)")]
SignUpId = Annotated[strawberry.ID, strawberry.argument(description="The sign-up's global ID (报名 ID)")]
IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description="Client-chosen key (≤ 64 characters): a retry with the same key returns the first "
        "answer without writing again (幂等键)"
    ),
]
Reason = Annotated[str, strawberry.argument(description="Reason (原因)")]


def _key(value: str, type_name: str, field: str) -> int:
    _, key = parse_global_id(value, expected=type_name, field=field)
    return int(key)


def _changes(input: object) -> dict[str, Any]:
    """The fields of an edit input that were given (null included), by python name."""
    return {name: value for name, value in vars(input).items() if value is not strawberry.UNSET}


# --- inputs ---------------------------------------------------------------------------------------------


@strawberry.input(description="A post with its quota and optional shift (岗位)")
class PostInput:
    name: str = strawberry.field(description="Name (岗位名称)")
    quota: int = strawberry.field(description="Places, 1 to 10000 (招募人数)")
    description: str = strawberry.field(default="", description="Duties (岗位职责)")
    starts_at: datetime | None = strawberry.field(
        default=None, description="Shift start, inside the project's window (班次开始)"
    )
    ends_at: datetime | None = strawberry.field(default=None, description="Shift end (班次结束)")


@strawberry.input(description="Post changes; omitted fields stay (岗位修改)")
class UpdatePostInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Name (岗位名称)")
    quota: int | None = strawberry.field(
        default=strawberry.UNSET, description="Places; not below those taken (招募人数)"
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Duties (岗位职责)")
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Shift start; null clears the shift with endsAt (班次开始)"
    )
    ends_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="Shift end (班次结束)")


@strawberry.input(description="A sign-in point: coordinates and a radius (签到点)")
class SignInPointInput:
    latitude: float = strawberry.field(description="Latitude (纬度)")
    longitude: float = strawberry.field(description="Longitude (经度)")
    name: str = strawberry.field(default="", description="Name (名称)")
    radius_m: int = strawberry.field(default=200, description="Radius in metres, 10 to 5000 (半径，米)")


@strawberry.input(description="A new project of your team, created as a draft (新建项目)")
class CreateProjectInput:
    team_id: strawberry.ID = strawberry.field(description="Organising team, one you administer (组织队伍)")
    name: str = strawberry.field(description="Name (项目名称)")
    starts_at: datetime = strawberry.field(description="Starts at (开始时间)")
    ends_at: datetime = strawberry.field(description="Ends at, after the start (结束时间)")
    category: ProjectCategory = strawberry.field(
        default=ProjectCategory.COMMUNITY, description="Service category (服务类别)"
    )
    service_target: str = strawberry.field(default="", description="Who is served (服务对象)")
    region_code: str | None = strawberry.field(
        default=None, description="A current county or township; the team's region when omitted (项目区域)"
    )
    address: str = strawberry.field(default="", description="Address (服务地址)")
    description: str = strawberry.field(default="", description="Description (项目简介)")
    min_age: int | None = strawberry.field(default=None, description="Minimum age, 0 to 100 (最小年龄)")
    max_age: int | None = strawberry.field(default=None, description="Maximum age, 0 to 100 (最大年龄)")
    insured: bool = strawberry.field(default=False, description="Accident insurance provided (是否购买保险)")
    guarantees: str = strawberry.field(default="", description="Guarantees for volunteers (保障措施)")
    signup_scope: SignUpScope = strawberry.field(
        default=SignUpScope.PUBLIC, description="Who may sign up (报名范围)"
    )
    signup_region_code: str | None = strawberry.field(
        default=None, description="Region whose volunteers may sign up, for scope REGION (报名区域)"
    )
    requires_approval: bool = strawberry.field(
        default=False, description="Sign-ups need approval (报名需审核)"
    )
    requires_attendance: bool = strawberry.field(default=True, description="Hours need attendance (需签到)")
    posts: list[PostInput] = strawberry.field(default_factory=list, description="Posts, up to 50 (岗位)")
    sign_in_points: list[SignInPointInput] = strawberry.field(
        default_factory=list, description="Sign-in points, up to 20 (签到点)"
    )


@strawberry.input(description="Project changes while draft or submitted; omitted fields stay (项目修改)")
class UpdateProjectInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Name (项目名称)")
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Starts at (开始时间)"
    )
    ends_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="Ends at (结束时间)")
    category: ProjectCategory | None = strawberry.field(default=strawberry.UNSET, description="服务类别")
    service_target: str | None = strawberry.field(
        default=strawberry.UNSET, description="Who is served (服务对象)"
    )
    region_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="A current county or township (项目区域)"
    )
    address: str | None = strawberry.field(default=strawberry.UNSET, description="Address (服务地址)")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Description (项目简介)")
    min_age: int | None = strawberry.field(
        default=strawberry.UNSET, description="Minimum age; null clears (最小年龄)"
    )
    max_age: int | None = strawberry.field(
        default=strawberry.UNSET, description="Maximum age; null clears (最大年龄)"
    )
    insured: bool | None = strawberry.field(default=strawberry.UNSET, description="Insurance (是否购买保险)")
    guarantees: str | None = strawberry.field(default=strawberry.UNSET, description="Guarantees (保障措施)")
    signup_scope: SignUpScope | None = strawberry.field(default=strawberry.UNSET, description="报名范围")
    signup_region_code: str | None = strawberry.field(default=strawberry.UNSET, description="报名区域")
    requires_approval: bool | None = strawberry.field(default=strawberry.UNSET, description="报名需审核")
    requires_attendance: bool | None = strawberry.field(default=strawberry.UNSET, description="需签到")


def _post(input: PostInput) -> projects.NewPost:
    return projects.NewPost(input.name, input.quota, input.description, input.starts_at, input.ends_at)


def _point(input: SignInPointInput) -> projects.NewSignInPoint:
    return projects.NewSignInPoint(input.latitude, input.longitude, input.name, input.radius_m)


# --- mutations ------------------------------------------------------------------------------------------

TEAM_ADMIN = requires(Requirement.TEAM_ADMIN)
VOLUNTEER = requires(Requirement.VOLUNTEER)


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(
        description="Create a draft project of your approved, active team, with posts and sign-in points "
        "(新建项目)",
        extensions=[TEAM_ADMIN],
    )
    async def create_project(self, info: Info, input: CreateProjectInput) -> Project:
        ctx = info.context
        values = {
            name: getattr(input, name)
            for name in projects.PROJECT_FIELDS
            if name not in ("category", "signup_scope")
        }
        fields = projects.ProjectFields(**values, category=input.category, signup_scope=input.signup_scope)
        new = projects.NewProject(
            team_id=_key(input.team_id, "Team", "teamId"),
            fields=fields,
            posts=[_post(p) for p in input.posts],
            sign_in_points=[_point(p) for p in input.sign_in_points],
        )
        return build(Project, await projects.create_project(ctx.services, ctx.viewer, new, ctx.request_id))

    @strawberry.mutation(
        description="Edit your team's project while it is a draft or submitted (修改项目)",
        extensions=[TEAM_ADMIN],
    )
    async def update_project(self, info: Info, project_id: ProjectId, input: UpdateProjectInput) -> Project:
        ctx = info.context
        row = await projects.update_project(
            ctx.services,
            ctx.viewer,
            _key(project_id, "Project", "projectId"),
            _changes(input),
            ctx.request_id,
        )
        return build(Project, row)

    @strawberry.mutation(description="Add a post to your team's project (添加岗位)", extensions=[TEAM_ADMIN])
    async def add_post(self, info: Info, project_id: ProjectId, input: PostInput) -> Post:
        ctx = info.context
        row = await projects.add_post(
            ctx.services, ctx.viewer, _key(project_id, "Project", "projectId"), _post(input), ctx.request_id
        )
        return build(Post, row)

    @strawberry.mutation(
        description="Edit a post; the quota cannot drop below the places taken, and new places go to the "
        "waitlist at once (修改岗位)",
        extensions=[TEAM_ADMIN],
    )
    async def update_post(self, info: Info, post_id: PostId, input: UpdatePostInput) -> Post:
        ctx = info.context
        row = await projects.update_post(
            ctx.services, ctx.viewer, _key(post_id, "Post", "postId"), _changes(input), ctx.request_id
        )
        return build(Post, row)

    @strawberry.mutation(
        description="Remove a post without sign-ups; returns its project (删除岗位)", extensions=[TEAM_ADMIN]
    )
    async def remove_post(self, info: Info, post_id: PostId) -> Project:
        ctx = info.context
        row = await projects.remove_post(
            ctx.services, ctx.viewer, _key(post_id, "Post", "postId"), ctx.request_id
        )
        return build(Project, row)

    @strawberry.mutation(description="Add a sign-in point (添加签到点)", extensions=[TEAM_ADMIN])
    async def add_sign_in_point(
        self, info: Info, project_id: ProjectId, input: SignInPointInput
    ) -> SignInPoint:
        ctx = info.context
        row = await projects.add_sign_in_point(
            ctx.services, ctx.viewer, _key(project_id, "Project", "projectId"), _point(input), ctx.request_id
        )
        return build(SignInPoint, row)

    @strawberry.mutation(
        description="Remove a sign-in point; returns its project (删除签到点)", extensions=[TEAM_ADMIN]
    )
    async def remove_sign_in_point(
        self,
        info: Info,
        sign_in_point_id: Annotated[strawberry.ID, strawberry.argument(description="签到点 ID")],
    ) -> Project:
        ctx = info.context
        point_id = _key(sign_in_point_id, "SignInPoint", "signInPointId")
        return build(
            Project, await projects.remove_sign_in_point(ctx.services, ctx.viewer, point_id, ctx.request_id)
        )

    @strawberry.mutation(
        description="Submit a draft with at least one post: published at once, or after review where review "
        "is required (提交项目)",
        extensions=[TEAM_ADMIN],
    )
    async def submit_project(self, info: Info, project_id: ProjectId) -> Project:
        ctx = info.context
        row = await projects.submit_project(
            ctx.services, ctx.viewer, _key(project_id, "Project", "projectId"), ctx.request_id
        )
        return build(Project, row)

    @strawberry.mutation(
        description="Publish a submitted project of your region, or return it to draft with a reason "
        "(项目审核)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def review_project(
        self,
        info: Info,
        project_id: ProjectId,
        approve: Annotated[bool, strawberry.argument(description="Publish, or return (是否通过)")],
        reason: Annotated[str, strawberry.argument(description="Reason; required to return (审核意见)")] = "",
    ) -> Project:
        ctx = info.context
        row = await projects.review_project(
            ctx.services,
            ctx.viewer,
            _key(project_id, "Project", "projectId"),
            approve,
            reason,
            ctx.request_id,
        )
        return build(Project, row)

    @strawberry.mutation(
        description="End recruitment of a published project (结束招募)", extensions=[TEAM_ADMIN]
    )
    async def close_project(self, info: Info, project_id: ProjectId, reason: Reason = "") -> Project:
        ctx = info.context
        row = await projects.close_project(
            ctx.services, ctx.viewer, _key(project_id, "Project", "projectId"), reason, ctx.request_id
        )
        return build(Project, row)

    @strawberry.mutation(
        description="Cancel a project that has not closed; its live sign-ups are cancelled (取消项目)",
        extensions=[TEAM_ADMIN],
    )
    async def cancel_project(self, info: Info, project_id: ProjectId, reason: Reason) -> Project:
        ctx = info.context
        row = await projects.cancel_project(
            ctx.services, ctx.viewer, _key(project_id, "Project", "projectId"), reason, ctx.request_id
        )
        return build(Project, row)


async def _reload(info: Info, sign_up_id: int) -> SignUp:
    row = await info.context.loaders.by_key(SignUpRow, "id").load(sign_up_id)
    if row is None:
        raise AppError("NOT_FOUND", field="signUpId")
    return build(SignUp, row)


@strawberry.type
class SignUpMutation:
    @strawberry.mutation(
        description="Sign up for a post of a published project: accepted, pending approval, or waitlisted "
        "when full (报名)",
        extensions=[VOLUNTEER],
    )
    async def sign_up(self, info: Info, post_id: PostId, idempotency_key: IdempotencyKey = None) -> SignUp:
        ctx = info.context
        sign_up_id = await signups.sign_up(
            ctx.services, ctx.viewer, _key(post_id, "Post", "postId"), idempotency_key
        )
        return await _reload(info, sign_up_id)

    @strawberry.mutation(
        description="Withdraw your sign-up; its place goes to the first on the waitlist (取消报名)",
        extensions=[VOLUNTEER],
    )
    async def cancel_sign_up(
        self, info: Info, sign_up_id: SignUpId, idempotency_key: IdempotencyKey = None
    ) -> SignUp:
        ctx = info.context
        key = _key(sign_up_id, "SignUp", "signUpId")
        return await _reload(
            info, await signups.cancel_sign_up(ctx.services, ctx.viewer, key, idempotency_key)
        )

    @strawberry.mutation(
        description="Accept or decline an invitation to a post (回复岗位邀请)", extensions=[VOLUNTEER]
    )
    async def respond_to_post_invitation(
        self,
        info: Info,
        sign_up_id: SignUpId,
        accept: Annotated[bool, strawberry.argument(description="Accept, or decline (是否接受)")],
    ) -> SignUp:
        ctx = info.context
        key = _key(sign_up_id, "SignUp", "signUpId")
        return build(SignUp, await signups.respond_to_invitation(ctx.services, ctx.viewer, key, accept))

    @strawberry.mutation(
        description="Accept a pending sign-up for your team (通过报名)", extensions=[TEAM_ADMIN]
    )
    async def approve_sign_up(self, info: Info, sign_up_id: SignUpId) -> SignUp:
        ctx = info.context
        key = _key(sign_up_id, "SignUp", "signUpId")
        return build(SignUp, await signups.approve_sign_up(ctx.services, ctx.viewer, key, ctx.request_id))

    @strawberry.mutation(
        description="Reject a pending or waitlisted sign-up for your team, with a reason (拒绝报名)",
        extensions=[TEAM_ADMIN],
    )
    async def reject_sign_up(self, info: Info, sign_up_id: SignUpId, reason: Reason) -> SignUp:
        ctx = info.context
        key = _key(sign_up_id, "SignUp", "signUpId")
        return build(
            SignUp, await signups.reject_sign_up(ctx.services, ctx.viewer, key, reason, ctx.request_id)
        )

    @strawberry.mutation(
        description="Invite a volunteer to a post by volunteer number; answered by the volunteer's consent "
        "setting (邀请志愿者报名岗位)",
        extensions=[TEAM_ADMIN],
    )
    async def invite_to_post(
        self,
        info: Info,
        post_id: PostId,
        volunteer_number: Annotated[str, strawberry.argument(description="Volunteer number (志愿者编号)")],
    ) -> SignUp:
        ctx = info.context
        row = await signups.invite_to_post(
            ctx.services, ctx.viewer, _key(post_id, "Post", "postId"), volunteer_number, ctx.request_id
        )
        return build(SignUp, row)


# --- public search --------------------------------------------------------------------------------------


@strawberry.input(description="Search of published projects (公开项目筛选)")
class PublicProjectFilter:
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (项目区域)")
    category: ProjectCategory | None = strawberry.field(default=None, description="服务类别")
    name_contains: str | None = strawberry.field(default=None, description="Name contains (名称包含)")
    starts_after: datetime | None = strawberry.field(default=None, description="Starts from (开始时间起)")
    starts_before: datetime | None = strawberry.field(default=None, description="Starts before (开始时间止)")


@strawberry.type(description="A post of a published project, as the public sees it (公开岗位)")
class PublicPost:
    id: strawberry.ID = strawberry.field(description="The post's global ID, for signUp (岗位 ID)")
    name: str = strawberry.field(description="Name (岗位名称)")
    description: str = strawberry.field(description="Duties (岗位职责)")
    quota: int = strawberry.field(description="Places (招募人数)")
    taken: int = strawberry.field(description="Places taken (已报名人数)")
    available: int = strawberry.field(description="Places still free (剩余名额)")
    starts_at: datetime | None = strawberry.field(description="Shift start (班次开始)")
    ends_at: datetime | None = strawberry.field(description="Shift end (班次结束)")

    @classmethod
    def of(cls, row: PostRow) -> PublicPost:
        return cls(
            id=strawberry.ID(global_id("Post", row.id)),
            name=row.name,
            description=row.description,
            quota=row.quota,
            taken=row.taken,
            available=max(row.quota - row.taken, 0),
            starts_at=aware(row.starts_at) if row.starts_at else None,
            ends_at=aware(row.ends_at) if row.ends_at else None,
        )


@strawberry.type(description="A published project, as the public sees it: no sign-ups, no people (公开项目)")
class PublicProject:
    id: strawberry.ID = strawberry.field(description="The project's global ID (项目 ID)")
    name: str = strawberry.field(description="Name (项目名称)")
    category: ProjectCategory = strawberry.field(description="Service category (服务类别)")
    service_target: str = strawberry.field(description="Who is served (服务对象)")
    address: str = strawberry.field(description="Address (服务地址)")
    description: str = strawberry.field(description="Description (项目简介)")
    starts_at: datetime = strawberry.field(description="Starts at (开始时间)")
    ends_at: datetime = strawberry.field(description="Ends at (结束时间)")
    min_age: int | None = strawberry.field(description="Minimum age (最小年龄)")
    max_age: int | None = strawberry.field(description="Maximum age (最大年龄)")
    insured: bool = strawberry.field(description="Accident insurance provided (是否购买保险)")
    guarantees: str = strawberry.field(description="Guarantees for volunteers (保障措施)")
    signup_scope: SignUpScope = strawberry.field(description="Who may sign up (报名范围)")
    requires_approval: bool = strawberry.field(description="Sign-ups need approval (报名需审核)")
    published_at: datetime | None = strawberry.field(description="Published at (发布时间)")
    team_name: str = strawberry.field(description="Organising team's name (组织队伍名称)")
    posts: list[PublicPost] = strawberry.field(description="Posts with places (岗位)")
    region_code: strawberry.Private[str]

    @strawberry.field(description="Project region (项目区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code)

    @classmethod
    def of(cls, row: ProjectRow, team_name: str, posts: list[PostRow]) -> PublicProject:
        return cls(
            id=strawberry.ID(global_id("Project", row.id)),
            name=row.name,
            category=ProjectCategory(row.category),
            service_target=row.service_target,
            address=row.address,
            description=row.description,
            starts_at=aware(row.starts_at),
            ends_at=aware(row.ends_at),
            min_age=row.min_age,
            max_age=row.max_age,
            insured=row.insured,
            guarantees=row.guarantees,
            signup_scope=SignUpScope(row.signup_scope),
            requires_approval=row.requires_approval,
            published_at=aware(row.published_at) if row.published_at else None,
            team_name=team_name,
            posts=[PublicPost.of(p) for p in posts],
            region_code=row.region_code,
        )


@strawberry.type
class PublicProjectQuery:
    @strawberry.field(
        description="Published projects, for everyone including anonymous visitors; soonest first (公开项目查询)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    async def public_projects(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: PublicProjectFilter | None = None,
    ) -> Connection[PublicProject]:
        args = page_args(info, first, after)
        search = (
            projects.PublicSearch(
                region=filter.region,
                category=filter.category,
                name_contains=filter.name_contains,
                starts_after=filter.starts_after,
                starts_before=filter.starts_before,
            )
            if filter
            else projects.PublicSearch()
        )
        sessions = info.context.sessions
        page = await projects.public_page(sessions, search, args)
        wanted = "posts" in connection_selection(info).node_fields
        posts = await projects.public_posts(sessions, [p.id for p, _ in page.rows]) if wanted else {}
        return to_connection(
            page, lambda rows: [PublicProject.of(r[0], r[1], posts.get(r[0].id, [])) for r in rows]
        )
