"""Messages for exports (导出)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "EXPORT_SOURCE": ("请选择且只选择一个导出内容", "Choose exactly one list or report to export"),
    "UNKNOWN_COLUMN": ("没有名为 {column} 的导出列", "There is no export column named {column}"),
    "DUPLICATE_COLUMN": ("导出列 {column} 重复", "The export column {column} is named twice"),
    "COLUMNS_NOT_FOR_REPORT": ("统计报表的列由分组决定，不能指定", "A report's columns follow its grouping"),
    "REVEAL_NOT_ALLOWED": (
        "无权导出未脱敏的个人信息",
        "You may not export unmasked personal data",
    ),
    "EXPORT_ROW_LIMIT": (
        "导出行数超过上限（{max} 行），请缩小筛选范围",
        "The export would hold more than {max} rows; narrow the filter",
    ),
    "EXPORT_LINK_EXPIRED": ("下载链接已过期，请重新导出", "The download link has expired; export again"),
    "EXPORT_LINK_INVALID": ("下载链接无效", "Invalid download link"),
    "EXPORT_OTHER_ACCOUNT": ("该下载链接属于其他账号", "This download link belongs to another account"),
    "ACCOUNT_DISABLED": ("账号已停用", "The account is disabled"),
}
