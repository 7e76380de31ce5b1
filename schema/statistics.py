"""``statistics``: dashboard figures grouped by region, period and other dimensions (统计).

The computation (rollup tables by default, the base tables through ``scope()`` as reference) is
resolvers/statistics.py; the rollups and their triggers are models/rollups.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from models.enums import ProjectCategory
from resolvers import statistics as stats
from schema.context import Info
from schema.directives import Requirement
from schema.errors import AppError
from schema.pagination import OrderDirection
from schema.permissions import in_jurisdiction, requires
from schema.types.registry import global_id, parse_global_id

StatisticsMeasure = strawberry.enum(
    stats.Measure, name="StatisticsMeasure", description="What is counted (统计指标)"
)
StatisticsDimension = strawberry.enum(
    stats.Dimension, name="StatisticsDimension", description="What the figures are grouped by (统计维度)"
)


@strawberry.input(description="One statistics query (统计查询)")
class StatisticsInput:
    measure: stats.Measure = strawberry.field(description="The measure (统计指标)")
    group_by: list[stats.Dimension] = strawberry.field(
        default_factory=list, description="Dimensions, any combination valid for the measure (分组维度)"
    )
    region: str | None = strawberry.field(default=None, description="Inside this region's subtree (区域)")
    from_: date | None = strawberry.field(default=None, name="from", description="On or after (起始日期，含)")
    to: date | None = strawberry.field(default=None, description="Before (截止日期，不含)")
    category: ProjectCategory | None = strawberry.field(
        default=None, description="Service category (服务类别)"
    )
    team_id: strawberry.ID | None = strawberry.field(default=None, description="One team (队伍)")
    order_by: OrderDirection | None = strawberry.field(
        default=None, description="Order by value; by the keys when absent (按数值排序)"
    )
    limit: int | None = strawberry.field(default=None, description="Top N, at most 1000 (前 N 行)")
    having: Decimal | None = strawberry.field(default=None, description="Minimum value of a row (最小值)")


@strawberry.type(description="One grouping key of a statistics row (统计分组键)")
class StatisticsKey:
    dimension: stats.Dimension = strawberry.field(description="The dimension (维度)")
    value: str = strawberry.field(
        description="Region code, period (day YYYY-MM-DD, week = its Monday YYYY-MM-DD, YYYY-MM, YYYY), enum"
        " value, team ID or age band by birth year (键值)"
    )
    label: str | None = strawberry.field(description="Region or team name (名称)")


@strawberry.type(description="One group's figure (统计行)")
class StatisticsRow:
    keys: list[StatisticsKey] = strawberry.field(
        description="One key per groupBy dimension, in order (分组键)"
    )
    value: Decimal = strawberry.field(description="The figure: hours or a count (数值)")


@strawberry.type(description="Statistics rows and their total (统计结果)")
class StatisticsResult:
    rows: list[StatisticsRow] = strawberry.field(description="One row per group (统计行)")
    total: Decimal = strawberry.field(
        description="Sum over all groups passing `having`, before `limit` (合计)"
    )


def to_request(input: StatisticsInput) -> stats.Request:
    team_id = None
    if input.team_id is not None:
        _, team_id = parse_global_id(input.team_id, expected="Team", field="input.teamId")
    descending = None if input.order_by is None else input.order_by is OrderDirection.DESC
    return stats.Request(
        measure=input.measure,
        group_by=tuple(input.group_by),
        region=input.region,
        from_=input.from_,
        to=input.to,
        category=None if input.category is None else input.category.value,
        team_id=team_id,
        descending=descending,
        limit=input.limit,
        having=input.having,
    )


@strawberry.type
class StatisticsQuery:
    @strawberry.field(
        description="Dashboard statistics over your jurisdiction (统计看板)",
        extensions=[requires(Requirement.AUTHENTICATED), in_jurisdiction()],
    )
    async def statistics(self, info: Info, input: StatisticsInput) -> StatisticsResult:
        try:
            result = await stats.statistics(
                info.context.sessions,
                info.context.viewer,
                to_request(input),
                global_id,
                star_thresholds=info.context.services.settings.star_thresholds,
            )
        except stats.StatisticsInputError as error:
            raise AppError("BAD_USER_INPUT", key=error.reason, field=error.field, **error.params) from None
        return StatisticsResult(
            rows=[
                StatisticsRow(
                    keys=[StatisticsKey(dimension=k.dimension, value=k.value, label=k.label) for k in r.keys],
                    value=r.value,
                )
                for r in result.rows
            ],
            total=result.total,
        )
