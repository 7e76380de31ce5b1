"""Mutations and queries for registering volunteers and teams, reviewing them, and the province rollout."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from sqlalchemy import select

from models import ProvinceRollout
from resolvers import registration, sessions, teams
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.permissions import requires
from schema.session_types import LoginPayload, login_payload
from schema.types.base import build
from schema.types.enums import (
    IdType,
    InviteConsent,
    ProvinceStatus,
    RealNameStatus,
    Sex,
    TeamStatus,
    TeamType,
)
from schema.types.registry import parse_global_id
from schema.types.team import Team
from schema.types.volunteer import Volunteer


@strawberry.input(description="Guardian of a minor (监护人)")
class GuardianInput:
    name: str = strawberry.field(description="Guardian's name (监护人姓名)")
    phone: str = strawberry.field(description="Guardian's mobile (监护人手机)")
    relation: str = strawberry.field(description="Relation, e.g. 父亲/母亲 (监护关系)")
    consent: bool = strawberry.field(description="The guardian consents (监护人同意)")


@strawberry.input(description="Volunteer registration (志愿者注册)")
class RegisterVolunteerInput:
    name: str = strawberry.field(description="Real name (姓名)")
    id_type: IdType = strawberry.field(default=IdType.RESIDENT_ID, description="Document type (证件类型)")
    id_number: str = strawberry.field(description="Document number (证件号码)")
    phone: str = strawberry.field(description="Mobile number (手机号码)")
    username: str = strawberry.field(description="Username (用户名)")
    password: str = strawberry.field(description="Password (密码)")
    region_code: str = strawberry.field(description="Service region, a county or township (服务区域)")
    residence_region_code: str | None = strawberry.field(default=None, description="Residence (居住区域)")
    skills: list[str] = strawberry.field(default_factory=list, description="Skills (技能特长)")
    availability: str = strawberry.field(default="", description="When you can serve (可服务时间)")
    invite_consent: InviteConsent = strawberry.field(
        default=InviteConsent.ASK, description="How team invitations are answered (邀请设置)"
    )
    birth_date: date | None = strawberry.field(
        default=None, description="Date of birth, for documents other than resident IDs (出生日期)"
    )
    sex: Sex | None = strawberry.field(default=None, description="Sex, for other documents (性别)")
    self_supporting: bool = strawberry.field(
        default=False, description="A minor from 16 living on their own income (以自己劳动收入为主要生活来源)"
    )
    guardian: GuardianInput | None = strawberry.field(
        default=None, description="Guardian of a minor (监护人)"
    )


@strawberry.type(description="A new volunteer, signed in (注册结果)")
class RegisterVolunteerPayload:
    volunteer_number: str = strawberry.field(description="Assigned volunteer number (志愿者编号)")
    real_name_status: RealNameStatus = strawberry.field(description="Real-name status (实名认证状态)")
    session: LoginPayload = strawberry.field(description="The new session (登录信息)")


@strawberry.input(description="Team registration (队伍注册)")
class RegisterTeamInput:
    name: str = strawberry.field(description="Team name (队伍名称)")
    team_type: TeamType = strawberry.field(description="Legal person or unregistered group (队伍类型)")
    region_code: str = strawberry.field(description="County or township (所属区域)")
    person_in_charge: str = strawberry.field(description="Person in charge (负责人)")
    contact_name: str = strawberry.field(description="Contact person (联系人)")
    contact_phone: str = strawberry.field(description="Contact mobile (联系电话)")
    description: str = strawberry.field(default="", description="Introduction (队伍简介)")
    credit_code: str | None = strawberry.field(
        default=None, description="Unified social credit code of a legal person (统一社会信用代码)"
    )
    contact_team_id: strawberry.ID | None = strawberry.field(
        default=None, description="Contact team of an unregistered group (联络团体)"
    )


@strawberry.input(description="Team profile changes; omitted fields stay (队伍信息修改)")
class UpdateTeamInput:
    name: str | None = strawberry.field(default=None, description="Team name (队伍名称)")
    person_in_charge: str | None = strawberry.field(default=None, description="Person in charge (负责人)")
    contact_name: str | None = strawberry.field(default=None, description="Contact person (联系人)")
    contact_phone: str | None = strawberry.field(default=None, description="Contact mobile (联系电话)")
    description: str | None = strawberry.field(default=None, description="Introduction (队伍简介)")


@strawberry.type(description="A province's switch-over status (省份切换状态)")
class ProvinceRolloutStatus:
    province_code: str = strawberry.field(description="Province code (省级区划代码)")
    status: ProvinceStatus = strawberry.field(description="LEGACY, TRIAL or LIVE (切换状态)")
    updated_at: datetime | None = strawberry.field(description="Last change (更新时间)")


def _id(value: str, type_name: str, field: str) -> int:
    _, key = parse_global_id(value, expected=type_name, field=field)
    return int(key)


@strawberry.type
class RegistrationMutation:
    @strawberry.mutation(
        description="Register as a volunteer and sign in (志愿者注册)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    async def register_volunteer(self, info: Info, input: RegisterVolunteerInput) -> RegisterVolunteerPayload:
        guardian = input.guardian
        new = registration.NewVolunteer(
            name=input.name,
            id_type=input.id_type,
            id_number=input.id_number,
            phone=input.phone,
            username=input.username,
            password=input.password,
            region_code=input.region_code,
            residence_region_code=input.residence_region_code,
            skills=input.skills,
            availability=input.availability,
            invite_consent=input.invite_consent,
            birth_date=input.birth_date,
            sex=input.sex,
            self_supporting=input.self_supporting,
            guardian=registration.Guardian(guardian.name, guardian.phone, guardian.relation, guardian.consent)
            if guardian
            else None,
        )
        services = info.context.services
        account_id, volunteer = await registration.register_volunteer(services, new)
        return RegisterVolunteerPayload(
            volunteer_number=volunteer.volunteer_number,
            real_name_status=RealNameStatus(volunteer.real_name_status),
            session=login_payload(await sessions.start(services, account_id)),
        )

    @strawberry.mutation(
        description="Decide a real-name review in your jurisdiction (实名审核)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def review_real_name(
        self, info: Info, volunteer_id: strawberry.ID, approve: bool, note: str = ""
    ) -> Volunteer:
        ctx = info.context
        row = await registration.review_real_name(
            ctx.services,
            ctx.viewer,
            _id(volunteer_id, "Volunteer", "volunteerId"),
            approve,
            note,
            ctx.request_id,
        )
        return build(Volunteer, row)

    @strawberry.mutation(
        description="Register a team; you become its admin. Refresh your token to act as admin (队伍注册)",
        extensions=[requires(Requirement.AUTHENTICATED)],
    )
    async def register_team(self, info: Info, input: RegisterTeamInput) -> Team:
        ctx = info.context
        new = teams.NewTeam(
            name=input.name,
            team_type=input.team_type,
            region_code=input.region_code,
            person_in_charge=input.person_in_charge,
            contact_name=input.contact_name,
            contact_phone=input.contact_phone,
            description=input.description,
            credit_code=input.credit_code,
            contact_team_id=_id(input.contact_team_id, "Team", "contactTeamId")
            if input.contact_team_id
            else None,
        )
        return build(Team, await teams.register_team(ctx.services, ctx.viewer, new, ctx.request_id))

    @strawberry.mutation(
        description="Approve or reject a team in your jurisdiction (队伍审核)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def review_team(self, info: Info, team_id: strawberry.ID, approve: bool, reason: str = "") -> Team:
        ctx = info.context
        row = await teams.review_team(
            ctx.services, ctx.viewer, _id(team_id, "Team", "teamId"), approve, reason, ctx.request_id
        )
        return build(Team, row)

    @strawberry.mutation(
        description="Suspend, re-activate or dissolve a team in your jurisdiction (队伍停用/注销)",
        extensions=[requires(Requirement.REGION_ADMIN)],
    )
    async def set_team_status(
        self, info: Info, team_id: strawberry.ID, status: TeamStatus, reason: str = ""
    ) -> Team:
        ctx = info.context
        row = await teams.set_team_status(
            ctx.services, ctx.viewer, _id(team_id, "Team", "teamId"), status, reason, ctx.request_id
        )
        return build(Team, row)

    @strawberry.mutation(
        description="Edit your team's profile (修改队伍信息)", extensions=[requires(Requirement.TEAM_ADMIN)]
    )
    async def update_team(self, info: Info, team_id: strawberry.ID, input: UpdateTeamInput) -> Team:
        ctx = info.context
        edit = teams.TeamEdit(
            input.name, input.person_in_charge, input.contact_name, input.contact_phone, input.description
        )
        row = await teams.update_team(
            ctx.services, ctx.viewer, _id(team_id, "Team", "teamId"), edit, ctx.request_id
        )
        return build(Team, row)

    @strawberry.mutation(
        description="Set a province's switch-over status (设置省份切换状态)",
        extensions=[requires(Requirement.MINISTRY_ADMIN)],
    )
    async def set_province_status(
        self, info: Info, province_code: str, status: ProvinceStatus
    ) -> ProvinceRolloutStatus:
        ctx = info.context
        row = await teams.set_province_status(ctx.services, ctx.viewer, province_code, status, ctx.request_id)
        return ProvinceRolloutStatus(
            province_code=row.province_code, status=status, updated_at=row.updated_at
        )


@strawberry.type
class RolloutQuery:
    @strawberry.field(
        description="Provinces' switch-over status; provinces not listed take the default (省份切换状态)",
        extensions=[requires(Requirement.AUTHENTICATED)],
    )
    async def province_statuses(self, info: Info) -> list[ProvinceRolloutStatus]:
        async with info.context.sessions() as session:
            rows = (await session.execute(select(ProvinceRollout))).scalars().all()
        return [
            ProvinceRolloutStatus(
                province_code=r.province_code, status=ProvinceStatus(r.status), updated_at=r.updated_at
            )
            for r in rows
        ]

    @strawberry.field(
        description="Default status of unlisted provinces (默认切换状态)",
        extensions=[requires(Requirement.PUBLIC)],
    )
    def default_province_status(self, info: Info) -> ProvinceStatus:
        value = info.context.services.settings.default_province_status
        if value not in ProvinceStatus.__members__:
            raise AppError("INTERNAL_SERVER_ERROR")
        return ProvinceStatus(value)
