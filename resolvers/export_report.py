"""A statistics report (resolvers/statistics.py ``statistics``) as export rows: one column per grouping key
(region and team keys followed by their names) and the figure."""

from __future__ import annotations

from resolvers import statistics as stats
from resolvers.export_formats import Cell, cell

_DIMENSIONS: dict[stats.Dimension, tuple[str, str]] = {
    stats.Dimension.CHILD_REGION: ("下级区划代码", "Region code"),
    stats.Dimension.DAY: ("日期", "Day"),
    stats.Dimension.WEEK: ("周（周一）", "Week (Monday)"),
    stats.Dimension.MONTH: ("月份", "Month"),
    stats.Dimension.YEAR: ("年份", "Year"),
    stats.Dimension.CATEGORY: ("服务类别", "Category"),
    stats.Dimension.TEAM: ("队伍 ID", "Team ID"),
    stats.Dimension.TEAM_TYPE: ("队伍类型", "Team type"),
    stats.Dimension.SEX: ("性别", "Sex"),
    stats.Dimension.AGE_BAND: ("年龄段", "Age band"),
}
_LABELS: dict[stats.Dimension, tuple[str, str]] = {
    stats.Dimension.CHILD_REGION: ("区划名称", "Region"),
    stats.Dimension.TEAM: ("队伍名称", "Team"),
}
_MEASURES: dict[stats.Measure, tuple[str, str]] = {
    stats.Measure.CONFIRMED_HOURS: ("已确认服务时长（小时）", "Confirmed hours"),
    stats.Measure.RECORDS: ("已确认服务记录数", "Confirmed records"),
    stats.Measure.ACTIVE_VOLUNTEERS: ("活跃志愿者人数", "Active volunteers"),
    stats.Measure.VOLUNTEERS: ("志愿者人数", "Volunteers"),
    stats.Measure.NEW_VOLUNTEERS: ("新注册志愿者人数", "New volunteers"),
    stats.Measure.VERIFIED_VOLUNTEERS: ("实名认证志愿者人数", "Verified volunteers"),
    stats.Measure.STAR_VOLUNTEERS: ("星级志愿者人数", "Star volunteers"),
    stats.Measure.TEAMS: ("新成立队伍数", "New teams"),
    stats.Measure.PROJECTS: ("新建项目数", "New projects"),
    stats.Measure.SIGN_UPS: ("报名人次", "Sign-ups"),
    stats.Measure.CERTIFICATES: ("出具证明数", "Certificates issued"),
}


def _pick(pair: tuple[str, str], locale: str) -> str:
    return pair[1] if locale == "en" else pair[0]


def headers(request: stats.Request, locale: str) -> list[str]:
    names: list[str] = []
    for dimension in request.group_by:
        names.append(_pick(_DIMENSIONS[dimension], locale))
        if dimension in _LABELS:
            names.append(_pick(_LABELS[dimension], locale))
    return [*names, _pick(_MEASURES[request.measure], locale)]


def cells(row: stats.Row, locale: str) -> list[Cell]:
    values: list[Cell] = []
    for key in row.keys:
        values.append(key.value)
        if key.dimension in _LABELS:
            values.append(key.label)
    return [*values, cell(row.value, locale)]
