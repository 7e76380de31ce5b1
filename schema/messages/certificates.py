"""Messages for certificates and their verification."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "NO_HOURS": (
        "该队伍在所选时段内没有为您记录已确认的服务时长",
        "This team recorded no confirmed service hours for you in that period",
    ),
    "ALREADY_REQUESTED": (
        "已向该队伍申请证明，请等待出具",
        "A certificate request to this team is already open",
    ),
    "PERIOD_INVALID": (
        "起止日期无效：开始日期不能晚于截止日期，截止日期不能晚于今天",
        "Invalid period: the start may not follow the end, nor the end today",
    ),
    "CONTACT_FORMAT": ("请填写联系方式（不超过 100 字）", "Give a contact of at most 100 characters"),
}
