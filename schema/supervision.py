"""Supervision (监督管理): alerts raised by the rules, handled by region admins; spot checks (抽查).

Thin wrappers over resolvers/supervision.py and resolvers/spot_checks.py. Alerts and spot checks are Node
types: this module registers them in the global-ID registry (schema/types/registry.py) so ``node``/``nodes``
find them through the same scoped by-key loader as every other type.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

import models as m
from models.supervision import (
    AlertRule,
    AlertSeverity,
    AlertStatus,
    AlertSubject,
    SpotCheckFinding,
    SpotCheckStatus,
)
from resolvers import spot_checks, supervision
from schema.context import Info
from schema.directives import Requirement
from schema.pagination import Connection, OrderDirection
from schema.permissions import in_jurisdiction, requires
from schema.types.base import build, children, decode_int_id, one, root_list
from schema.types.record import ServiceRecord
from schema.types.region import Region, region_by_code
from schema.types.registry import NODE_KINDS, NodeKind, global_id

strawberry.enum(AlertRule, name="SupervisionRule", description="A supervision rule (监督规则)")
strawberry.enum(AlertSeverity, name="AlertSeverity", description="How serious an alert is (预警级别)")
strawberry.enum(AlertStatus, name="AlertStatus", description="Open or handled (预警状态)")
strawberry.enum(AlertSubject, name="AlertSubjectKind", description="What an alert is about (预警对象类型)")
strawberry.enum(SpotCheckStatus, name="SpotCheckStatus", description="Draft or published (抽查状态)")
strawberry.enum(
    SpotCheckFinding, name="SpotCheckFinding", description="A sampled record's finding (抽查结论)"
)

REGION_ADMINS = requires(Requirement.REGION_ADMIN)
_SUBJECT_TYPES = {
    AlertSubject.RECORD: "ServiceRecord",
    AlertSubject.TEAM: "Team",
    AlertSubject.VOLUNTEER: "Volunteer",
    AlertSubject.CERTIFICATE: "Certificate",
}


@strawberry.input(description="Filter for supervision alerts (预警筛选)")
class SupervisionAlertFilter:
    rule: AlertRule | None = strawberry.field(default=None, description="Rule (规则)")
    rule_in: list[AlertRule] | None = strawberry.field(default=None, description="Any of (规则之一)")
    status: AlertStatus | None = strawberry.field(default=None, description="Status (状态)")
    severity: AlertSeverity | None = strawberry.field(default=None, description="Severity (级别)")
    subject_kind: AlertSubject | None = strawberry.field(default=None, description="Subject kind (对象类型)")
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (区域)")
    period_key: str | None = strawberry.field(default=None, description="Period key, e.g. 2026-W48 (周期)")
    first_seen_after: datetime | None = strawberry.field(default=None, description="Raised from (发现时间起)")
    first_seen_before: datetime | None = strawberry.field(
        default=None, description="Raised before (发现时间止)"
    )


@strawberry.enum(description="Supervision alert sort keys (预警排序字段)")
class SupervisionAlertOrderField(Enum):
    FIRST_SEEN = "first_seen"
    LAST_SEEN = "last_seen"
    SEVERITY = "severity"
    RULE = "rule"


@strawberry.input(description="Supervision alert ordering (预警排序)")
class SupervisionAlertOrder:
    field: SupervisionAlertOrderField = strawberry.field(description="Sort key (排序字段)")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Direction (排序方向)"
    )


@strawberry.type(description="An alert raised by a supervision rule for the region's admins (监督预警)")
class SupervisionAlert(relay.Node):
    id: relay.NodeID[int]
    rule: AlertRule = strawberry.field(description="The rule that raised it (规则)")
    severity: AlertSeverity = strawberry.field(description="Severity (级别)")
    region_code: str = strawberry.field(description="The subject's region (区域代码)")
    subject_kind: AlertSubject = strawberry.field(description="What it is about (对象类型)")
    period_key: str = strawberry.field(
        description="The period it is about: an ISO week for spikes, the last active day for inactive teams, "
        "empty for facts of the subject (周期)"
    )
    details: JSON = strawberry.field(description="The numbers that triggered the rule (触发数据)")
    status: AlertStatus = strawberry.field(description="Open or handled (状态)")
    note: str | None = strawberry.field(description="The handling admin's note (处理说明)")
    handled_at: datetime | None = strawberry.field(description="Handled at (处理时间)")
    first_seen: datetime = strawberry.field(description="First raised (首次发现)")
    last_seen: datetime = strawberry.field(description="Last found by a pass (最近发现)")
    row: strawberry.Private[m.SupervisionAlert]

    @strawberry.field(description="Global ID of the subject, for node() (对象 ID)")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(global_id(_SUBJECT_TYPES[self.subject_kind], self.row.subject_id))

    @strawberry.field(description="The subject, when you can see it (预警对象)")
    async def subject(self, info: Info) -> relay.Node | None:
        kind = NODE_KINDS[_SUBJECT_TYPES[self.subject_kind]]
        found: relay.Node | None = await one(info, kind.cls, kind.model, self.row.subject_id)
        return found

    @strawberry.field(description="The subject's region (区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code)


@strawberry.type(description="How many sampled records got a finding (抽查结论计数)")
class FindingCount:
    finding: SpotCheckFinding = strawberry.field(description="Finding (结论)")
    count: int = strawberry.field(description="Records (记录数)")


@strawberry.type(description="One sampled record of a spot check and its finding (抽查条目)")
class SpotCheckItem:
    id: strawberry.ID = strawberry.field(description="Global ID (条目 ID)")
    draw: int = strawberry.field(description="Position in the draw, from 0 (抽取顺序)")
    finding: SpotCheckFinding | None = strawberry.field(description="Finding; null until checked (结论)")
    note: str = strawberry.field(description="The checker's note (说明)")
    checked_at: datetime | None = strawberry.field(description="Checked at (检查时间)")
    row: strawberry.Private[m.SpotCheckItem]

    @classmethod
    def from_row(cls, row: m.SpotCheckItem) -> SpotCheckItem:
        return cls(
            id=strawberry.ID(global_id("SpotCheckItem", row.id)),
            draw=row.draw,
            finding=row.finding,
            note=row.note,
            checked_at=row.checked_at,
            row=row,
        )

    @strawberry.field(description="The sampled service record (抽查的服务记录)")
    async def record(self, info: Info) -> ServiceRecord | None:
        return await one(info, ServiceRecord, m.ServiceRecord, self.row.record_id)


@strawberry.input(description="Filter for spot checks (抽查筛选)")
class SpotCheckFilter:
    status: SpotCheckStatus | None = strawberry.field(default=None, description="Status (状态)")
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (区域)")
    published_at_after: datetime | None = strawberry.field(
        default=None, description="Published from (公布时间起)"
    )
    published_at_before: datetime | None = strawberry.field(
        default=None, description="Published before (公布时间止)"
    )


@strawberry.type(description="A spot check of service records in a jurisdiction (抽查)")
class SpotCheck(relay.Node):
    id: relay.NodeID[int]
    region_code: str = strawberry.field(description="The checked jurisdiction (抽查区域)")
    sample_size: int = strawberry.field(description="Records asked for (抽查数量)")
    seed: int = strawberry.field(
        description="The draw's seed: the same seed redraws the same sample (随机种子)"
    )
    status: SpotCheckStatus = strawberry.field(description="Draft or published (状态)")
    created_at: datetime = strawberry.field(description="Created at (创建时间)")
    published_at: datetime | None = strawberry.field(description="Published at (公布时间)")
    row: strawberry.Private[m.SpotCheck]

    @strawberry.field(description="Records per finding, once published; null for a draft (结论汇总)")
    def summary(self) -> list[FindingCount] | None:
        if self.row.summary is None:
            return None
        return [FindingCount(finding=SpotCheckFinding(k), count=n) for k, n in self.row.summary.items()]

    @strawberry.field(description="The checked jurisdiction (抽查区域)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code)

    @strawberry.field(description="The sampled records in draw order (抽查条目)")
    async def items(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[SpotCheckItem]:
        return await children(info, SpotCheckItem, m.SpotCheckItem, "spot_check_id", self.id, first, after)


NODE_KINDS.setdefault("SupervisionAlert", NodeKind(SupervisionAlert, m.SupervisionAlert))
NODE_KINDS.setdefault("SpotCheck", NodeKind(SpotCheck, m.SpotCheck))


@strawberry.type(description="One rule's result in a supervision pass (规则运行结果)")
class SupervisionRuleCount:
    rule: AlertRule = strawberry.field(description="Rule (规则)")
    found: int = strawberry.field(description="Findings of this pass (本次发现)")
    new: int = strawberry.field(description="Alerts raised for the first time (新增预警)")
    already_open: int = strawberry.field(description="Found again, still open (已存在未处理)")
    already_handled: int = strawberry.field(description="Found again, already handled (已处理)")


@strawberry.type(description="The result of a supervision pass (监督检查结果)")
class SupervisionRun:
    rules: list[SupervisionRuleCount] = strawberry.field(description="Per rule (各规则结果)")
    new_alerts: int = strawberry.field(description="New alerts in all (新增预警合计)")


@strawberry.type
class SupervisionQuery:
    @strawberry.field(
        description="Supervision alerts in your jurisdiction (监督预警列表)",
        extensions=[REGION_ADMINS, in_jurisdiction()],
    )
    async def supervision_alerts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: SupervisionAlertFilter | None = None,
        order_by: list[SupervisionAlertOrder] | None = None,
    ) -> Connection[SupervisionAlert]:
        return await root_list(info, SupervisionAlert, m.SupervisionAlert, first, after, filter, order_by)

    @strawberry.field(
        description="Spot checks: published ones in your jurisdiction and your own drafts (抽查列表)",
        extensions=[REGION_ADMINS, in_jurisdiction()],
    )
    async def spot_checks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: SpotCheckFilter | None = None,
    ) -> Connection[SpotCheck]:
        return await root_list(info, SpotCheck, m.SpotCheck, first, after, filter)


AlertId = Annotated[strawberry.ID, strawberry.argument(description="The alert's global ID (预警 ID)")]
SpotCheckId = Annotated[
    strawberry.ID, strawberry.argument(description="The spot check's global ID (抽查 ID)")
]


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(
        description="Run the supervision rules over your jurisdiction, or a region inside it, now (运行监督检查)",
        extensions=[REGION_ADMINS],
    )
    async def run_supervision(
        self,
        info: Info,
        region_code: Annotated[
            str | None, strawberry.argument(description="A region inside your jurisdiction (区域代码)")
        ] = None,
        rules: Annotated[
            list[AlertRule] | None, strawberry.argument(description="The rules; all when omitted (规则)")
        ] = None,
    ) -> SupervisionRun:
        ctx = info.context
        result = await supervision.run_supervision(
            ctx.services, ctx.viewer, region_code, rules, ctx.request_id
        )
        counts = [
            SupervisionRuleCount(
                rule=c.rule,
                found=c.found,
                new=c.new,
                already_open=c.already_open,
                already_handled=c.already_handled,
            )
            for c in result.counts
        ]
        return SupervisionRun(rules=counts, new_alerts=result.new)

    @strawberry.mutation(
        description="Mark an open alert of your jurisdiction handled, with a note (处理预警)",
        extensions=[REGION_ADMINS],
    )
    async def handle_alert(
        self,
        info: Info,
        alert_id: AlertId,
        note: Annotated[
            str, strawberry.argument(description="What was found and done, at most 500 (处理说明)")
        ],
    ) -> SupervisionAlert:
        ctx = info.context
        alert_key = decode_int_id(alert_id, "SupervisionAlert")
        row = await supervision.handle_alert(ctx.services, ctx.viewer, alert_key, note, ctx.request_id)
        return build(SupervisionAlert, row)

    @strawberry.mutation(
        description="Draw a uniform sample of confirmed service records in a region of your jurisdiction for a "
        "spot check (创建抽查)",
        extensions=[REGION_ADMINS],
    )
    async def create_spot_check(
        self,
        info: Info,
        region_code: Annotated[
            str, strawberry.argument(description="Region inside your jurisdiction (区域代码)")
        ],
        size: Annotated[int, strawberry.argument(description="Records to draw, 1 to 500 (抽查数量)")],
        seed: Annotated[
            int | None, strawberry.argument(description="Seed of the draw; random when omitted (随机种子)")
        ] = None,
    ) -> SpotCheck:
        ctx = info.context
        row = await spot_checks.create_spot_check(
            ctx.services, ctx.viewer, region_code, size, seed, ctx.request_id
        )
        return build(SpotCheck, row)

    @strawberry.mutation(
        description="Record the finding for a sampled record of your draft spot check (填写抽查结论)",
        extensions=[REGION_ADMINS],
    )
    async def record_spot_check_finding(
        self,
        info: Info,
        item_id: Annotated[strawberry.ID, strawberry.argument(description="The item's global ID (条目 ID)")],
        finding: Annotated[SpotCheckFinding, strawberry.argument(description="Finding (结论)")],
        note: Annotated[
            str, strawberry.argument(description="Required unless the finding is OK, at most 500 (说明)")
        ] = "",
    ) -> SpotCheckItem:
        ctx = info.context
        key = decode_int_id(item_id, "SpotCheckItem")
        row = await spot_checks.record_finding(ctx.services, ctx.viewer, key, finding, note)
        return SpotCheckItem.from_row(row)

    @strawberry.mutation(
        description="Publish your spot check once every item has a finding (公布抽查结果)",
        extensions=[REGION_ADMINS],
    )
    async def publish_spot_check(self, info: Info, spot_check_id: SpotCheckId) -> SpotCheck:
        ctx = info.context
        key = decode_int_id(spot_check_id, "SpotCheck")
        row = await spot_checks.publish_spot_check(ctx.services, ctx.viewer, key, ctx.request_id)
        return build(SpotCheck, row)
