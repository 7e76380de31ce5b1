"""Volunteers (志愿者)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from auth.viewer import Viewer as AuthViewer
from loaders.volunteer_totals import Totals, totals_of_row
from models import Certificate as CertificateRow
from models import ServiceRecord as ServiceRecordRow
from models import SignUp as SignUpRow
from models import TeamMembership as MembershipRow
from models import Volunteer as VolunteerRow
from resolvers.stars import hours_to_next_star, star_level
from schema.context import Info
from schema.directives import SensitiveKind
from schema.pagination import Connection, OrderDirection
from schema.permissions import sensitive
from schema.types.base import children, decode_int_id, reference
from schema.types.enums import IdType, InviteConsent, RealNameStatus, Sex
from schema.types.record_inputs import ServiceRecordFilter, ServiceRecordOrder
from schema.types.region import Region, region_by_code

if TYPE_CHECKING:
    from schema.types.project import SignUp, SignUpFilter
    from schema.types.record import Certificate, CertificateFilter, ServiceRecord
    from schema.types.team import MembershipFilter, TeamMembership

T = TypeVar("T")


async def _picked(pending: Awaitable[Totals], pick: Callable[[Totals], T]) -> T:
    return pick(await pending)


_TEAM = "schema.types.team"
_PROJECT = "schema.types.project"
_RECORD = "schema.types.record"


@strawberry.input(description="Filter for volunteers (志愿者筛选)")
class VolunteerFilter:
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (服务区域)")
    real_name_status: RealNameStatus | None = strawberry.field(default=None, description="实名认证状态")
    sex: Sex | None = strawberry.field(default=None, description="性别")
    name_contains: str | None = strawberry.field(default=None, description="Name contains (姓名包含)")
    volunteer_number: str | None = strawberry.field(default=None, description="志愿者编号")
    created_at_after: datetime | None = strawberry.field(default=None, description="Registered from (注册起)")
    created_at_before: datetime | None = strawberry.field(
        default=None, description="Registered before (注册止)"
    )


@strawberry.enum(description="Volunteer sort keys (志愿者排序字段)")
class VolunteerOrderField(Enum):
    CREATED_AT = "created_at"
    NAME = "name"
    VOLUNTEER_NUMBER = "volunteer_number"


@strawberry.input(description="Volunteer ordering (志愿者排序)")
class VolunteerOrder:
    field: VolunteerOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )


@strawberry.federation.type(keys=["id", "volunteerNumber"], description="Registered volunteer (志愿者)")
class Volunteer(relay.Node):
    id: relay.NodeID[int]
    volunteer_number: str = strawberry.field(description="Public volunteer number (志愿者编号)")
    name: str = strawberry.field(description="Real name (姓名)")
    id_type: IdType = strawberry.field(description="Identity document type (证件类型)")
    sex: Sex = strawberry.field(description="Sex (性别)")
    real_name_status: RealNameStatus = strawberry.field(description="Real-name status (实名认证状态)")
    verification_note: str = strawberry.field(description="Reason for the real-name status (认证说明)")
    skills: list[str] = strawberry.field(description="Skills (技能特长)")
    availability: str = strawberry.field(description="When the volunteer can serve (可服务时间)")
    invite_consent: InviteConsent = strawberry.field(description="Team invitation setting (邀请设置)")
    guardian_relation: str | None = strawberry.field(description="Guardian's relation (监护关系)")
    no_show_count: int = strawberry.field(description="Times signed up but absent (爽约次数)")
    created_at: datetime = strawberry.field(description="Registered at (注册时间)")
    row: strawberry.Private[VolunteerRow]
    reader: strawberry.Private[AuthViewer | None] = None
    """Set when the object was loaded for someone other than the request's viewer (a session just begun)."""
    totals: strawberry.Private[Totals | None] = None
    """The totals the row came with, read off it once for the four fields that use them."""

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Volunteer | None:
        if "volunteerNumber" in representation:
            return await reference(
                info, cls, VolunteerRow, "volunteer_number", representation["volunteerNumber"]
            )
        return await reference(
            info, cls, VolunteerRow, "id", decode_int_id(representation.get("id", ""), "Volunteer")
        )

    def owner_volunteer_id(self) -> int | None:
        return self.row.id

    def owner_region_code(self) -> str | None:
        return self.row.region_code

    @strawberry.field(
        description="Date of birth; null unless yours or revealable, see `age` (出生日期)",
        extensions=[sensitive(SensitiveKind.BIRTH_DATE)],
    )
    def birth_date(self) -> date | None:
        return self.row.birth_date

    @strawberry.field(description="Age in whole years today (年龄)")
    def age(self) -> int | None:
        born = self.row.birth_date
        if born is None:
            return None
        today = date.today()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @strawberry.field(
        description="Guardian of a minor, masked unless yours or revealable (监护人姓名)",
        extensions=[sensitive(SensitiveKind.NAME)],
    )
    def guardian_name(self) -> str | None:
        return self.row.guardian_name

    @strawberry.field(
        description="ID number, masked unless yours or revealable (证件号码)",
        extensions=[sensitive(SensitiveKind.ID_NUMBER)],
    )
    def id_number(self, info: Info) -> str:
        return info.context.services.cipher.decrypt(self.row.id_number_enc, "volunteer.id_number")

    @strawberry.field(
        description="Mobile phone, masked unless yours or revealable (手机号码)",
        extensions=[sensitive(SensitiveKind.PHONE)],
    )
    def phone(self, info: Info) -> str | None:
        if self.row.phone_enc is None:
            return None
        return info.context.services.cipher.decrypt(self.row.phone_enc, "volunteer.phone")

    def _totals(self, info: Info, pick: Callable[[Totals], T]) -> T | Awaitable[T]:
        """``pick(totals)``: at once when the row came with its totals (volunteers by key), else through the
        batched totals loader (an awaitable, which GraphQL awaits like an async resolver's result)."""
        totals = self.totals
        if totals is None:
            totals = self.totals = totals_of_row(self.row)
        if totals is not None:
            return pick(totals)
        return _picked(info.context.loaders.volunteer_totals.load(self.id), pick)

    @strawberry.field(
        description="Confirmed service hours over all the volunteer's records, whoever recorded them (累计服务时长)",
        graphql_type=Decimal,
    )
    def total_hours(self, info: Info) -> Decimal | Awaitable[Decimal]:
        return self._totals(info, lambda totals: totals.hours)

    @strawberry.field(
        description="Number of confirmed service records, all teams (已确认记录数)", graphql_type=int
    )
    def record_count(self, info: Info) -> int | Awaitable[int]:
        return self._totals(info, lambda totals: totals.records)

    @strawberry.field(
        description="Star level 0-5 the confirmed hours reach; an awarded star is a record of its own (星级)",
        graphql_type=int,
    )
    def star_level(self, info: Info) -> int | Awaitable[int]:
        thresholds = info.context.services.settings.star_thresholds
        return self._totals(info, lambda totals: star_level(totals.hours, thresholds))

    @strawberry.field(
        description="Confirmed hours still missing for the next star; null at the top (距下一星级)",
        graphql_type=Decimal | None,
    )
    def hours_to_next_star(self, info: Info) -> Decimal | Awaitable[Decimal | None] | None:
        thresholds = info.context.services.settings.star_thresholds
        return self._totals(info, lambda totals: hours_to_next_star(totals.hours, thresholds))

    @strawberry.field(description="Service region (服务区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(description="Residence region (居住区域)")
    async def residence_region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.residence_region_code)

    @strawberry.field(description="Team memberships (队伍成员关系)")
    async def memberships(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[MembershipFilter, strawberry.lazy(_TEAM)] | None = None,
    ) -> Connection[Annotated[TeamMembership, strawberry.lazy(_TEAM)]]:
        from schema.types.team import TeamMembership

        return await children(
            info, TeamMembership, MembershipRow, "volunteer_id", self.id, first, after, filter
        )

    @strawberry.field(description="Sign-ups (报名记录)")
    async def sign_ups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[SignUpFilter, strawberry.lazy(_PROJECT)] | None = None,
    ) -> Connection[Annotated[SignUp, strawberry.lazy(_PROJECT)]]:
        from schema.types.project import SignUp

        return await children(info, SignUp, SignUpRow, "volunteer_id", self.id, first, after, filter)

    @strawberry.field(description="Service records (志愿服务记录)")
    async def service_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: ServiceRecordFilter | None = None,
        order_by: list[ServiceRecordOrder] | None = None,
    ) -> Connection[Annotated[ServiceRecord, strawberry.lazy(_RECORD)]]:
        from schema.types.record import ServiceRecord

        return await children(
            info, ServiceRecord, ServiceRecordRow, "volunteer_id", self.id, first, after, filter, order_by
        )

    @strawberry.field(description="Certificates (志愿服务记录证明)")
    async def certificates(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[CertificateFilter, strawberry.lazy(_RECORD)] | None = None,
    ) -> Connection[Annotated[Certificate, strawberry.lazy(_RECORD)]]:
        from schema.types.record import Certificate

        return await children(
            info, Certificate, CertificateRow, "volunteer_id", self.id, first, after, filter
        )
