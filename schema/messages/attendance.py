"""Messages for attendance, service records, corrections and stars."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # check-in and check-out
    "QR_EXPIRED": ("签到二维码已过期，请重新扫码", "The check-in QR code has expired; scan it again"),
    "QR_INVALID": ("签到二维码无效", "Invalid check-in QR code"),
    "QR_WRONG_PROJECT": ("该二维码不属于此项目", "This QR code belongs to another project"),
    "LOCATION_REQUIRED": ("请扫描签到二维码或提供定位", "Scan the check-in QR code or share your location"),
    "COORDINATES_FORMAT": ("定位坐标无效", "Invalid coordinates"),
    "NO_SIGN_IN_POINT": (
        "该项目未设置签到点，请扫码签到",
        "This project has no sign-in point; scan its QR code",
    ),
    "OUT_OF_RANGE": (
        "不在签到范围内：距签到点 {distance_m} 米，签到半径 {radius_m} 米",
        "Outside the sign-in area: {distance_m} m from the sign-in point, radius {radius_m} m",
    ),
    "SIGN_UP_NOT_ACCEPTED": ("报名尚未通过，不能签到", "The sign-up is not accepted"),
    "PROJECT_NOT_PUBLISHED": ("项目未在进行中", "The project is not running"),
    "CHECK_IN_TOO_EARLY": ("尚未到签到时间", "Too early to check in"),
    "SHIFT_ENDED": ("服务时段已结束", "The shift has ended"),
    "ALREADY_CHECKED_IN": (
        "您有尚未签退的签到，请先签退",
        "You are still checked in elsewhere; check out first",
    ),
    "NOT_CHECKED_IN": ("该签到已结束", "This check-in is already closed"),
    "RECORD_CONFIRMED": (
        "该签到的服务记录已确认，请更正服务记录",
        "The record of this check-in is confirmed; correct the record instead",
    ),
    # service records
    "HOURS_FORMAT": ("服务时长须为数字", "Hours must be a number"),
    "HOURS_RANGE": ("服务时长须大于 0 且不超过 24 小时", "Hours must be more than 0 and at most 24"),
    "HOURS_PRECISION": ("服务时长最多保留两位小数", "Hours have at most two decimals"),
    "HOURS_EXCEED_SPAN": (
        "服务时长不能超过开始到结束的时间",
        "Hours cannot exceed the time from start to end",
    ),
    "HOURS_REQUIRED": ("请填写更正后的服务时长", "Give the corrected hours"),
    "TIME_ORDER": ("结束时间须晚于开始时间", "The end must come after the start"),
    "FUTURE_TIME": ("不能记录尚未发生的服务", "Service in the future cannot be recorded"),
    "OUTSIDE_PROJECT_WINDOW": ("服务时间须在项目时间之内", "The service must lie inside the project's time"),
    "SERVICE_DATE_MISMATCH": ("服务日期与开始时间不一致", "The service date does not match the start"),
    "OVERLAPPING_RECORD": (
        "与该志愿者的其他服务记录时间重叠",
        "This overlaps another service record of the volunteer",
    ),
    "DAILY_LIMIT_EXCEEDED": (
        "该志愿者当日服务时长合计不能超过 24 小时",
        "A volunteer's hours on one day cannot exceed 24 in total",
    ),
    "CONTENT_TOO_LONG": ("服务内容最多 {max} 个字符", "Service content has at most {max} characters"),
    "NOT_A_PARTICIPANT": (
        "该志愿者未参加此项目，也不是本队伍成员",
        "The volunteer neither took part in this project nor is a member of the team",
    ),
    "UNKNOWN_VOLUNTEER": ("志愿者编号不存在", "Unknown volunteer number"),
    "PROJECT_NOT_RECORDABLE": ("该项目当前不能记录服务时长", "Hours cannot be recorded for this project now"),
    "TOO_MANY_IDS": ("每次最多 {max} 条", "At most {max} at a time"),
    "RECORD_NOT_PENDING": ("只能处理待确认的服务记录", "Only pending records can be handled so"),
    "RECORD_NOT_CORRECTABLE": ("该服务记录已作废或已更正", "This record is voided or already corrected"),
    "NOTHING_TO_CORRECT": ("更正内容与原记录相同", "The correction changes nothing"),
    "CORRECTION_ALREADY_OPEN": (
        "该记录已有待处理的更正申请",
        "A correction request for this record is already open",
    ),
    # CSV import
    "CSV_TOO_LARGE": ("文件过大，最多 {max} 个字符", "The file is too large: at most {max} characters"),
    "CSV_HEADER": (
        "文件首行须为列名，且包含：{columns}",
        "The first line must name the columns, including: {columns}",
    ),
    "CSV_TOO_MANY_ROWS": ("每次最多导入 {max} 行", "At most {max} rows per import"),
    "CSV_FORMAT": ("文件第 {line} 行格式错误", "Malformed CSV at line {line}"),
    "CSV_COLUMN_COUNT": ("该行的列数与首行不一致", "This row does not have as many cells as the header"),
    "DATE_FORMAT": ("日期格式应为 YYYY-MM-DD", "Dates are written YYYY-MM-DD"),
    "TIME_FORMAT": (
        "时间格式应为 HH:MM 或 YYYY-MM-DDTHH:MM",
        "Times are written HH:MM or YYYY-MM-DDTHH:MM",
    ),
}
