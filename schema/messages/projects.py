"""Messages for projects, posts and sign-ups."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "PROJECT_NAME_FORMAT": ("项目名称须为 2-200 个字符", "A project name has 2-200 characters"),
    "TEXT_TOO_LONG": ("内容过长，最多 {max} 个字符", "Too long: at most {max} characters"),
    "TIME_WINDOW": ("结束时间须晚于开始时间", "The end must come after the start"),
    "AGE_LIMITS": (
        "年龄限制须在 0 到 100 之间，且最小年龄不大于最大年龄",
        "Age limits lie between 0 and 100, the minimum not above the maximum",
    ),
    "SIGNUP_REGION_REQUIRED": ("按区域招募须指定报名区域", "Region-limited recruitment needs a region"),
    "POST_NAME_FORMAT": ("岗位名称须为 1-200 个字符", "A post name has 1-200 characters"),
    "QUOTA_RANGE": ("招募人数须在 1 到 {max} 之间", "A quota lies between 1 and {max}"),
    "SHIFT_INCOMPLETE": ("班次须同时填写开始和结束时间", "A shift needs both a start and an end"),
    "SHIFT_OUTSIDE_WINDOW": ("岗位班次须在项目时间之内", "A shift must lie inside the project's time window"),
    "COORDINATES": ("经纬度无效", "Invalid coordinates"),
    "RADIUS_RANGE": ("签到半径须在 {min} 到 {max} 米之间", "The radius lies between {min} and {max} metres"),
    "TOO_MANY_POSTS": ("一个项目最多 {max} 个岗位", "A project has at most {max} posts"),
    "TOO_MANY_SIGN_IN_POINTS": ("一个项目最多 {max} 个签到点", "A project has at most {max} sign-in points"),
    "QUOTA_BELOW_TAKEN": ("招募人数不能少于已报名人数", "The quota cannot drop below the places taken"),
    "POST_HAS_SIGN_UPS": ("该岗位已有报名，不能删除", "This post has sign-ups and cannot be removed"),
    "NO_POSTS": ("项目至少需要一个岗位", "A project needs at least one post"),
    "PROJECT_ENDED": ("项目已结束", "The project has ended"),
    "PROJECT_NOT_OPEN": ("项目未在招募中", "The project is not recruiting"),
    "REAL_NAME_REQUIRED": ("请先完成实名认证", "Real-name verification is required first"),
    "AGE_NOT_ALLOWED": ("年龄不符合项目要求", "Your age does not meet the project's limits"),
    "SIGNUP_SCOPE": ("不在该项目的报名范围内", "You are outside this project's sign-up scope"),
    "SCHEDULE_CLASH": ("与已报名的其他岗位时间冲突", "This overlaps another post you signed up for"),
    "ALREADY_SIGNED_UP": ("已报名该岗位", "Already signed up for this post"),
    "SIGN_UP_ATTENDED": ("已有签到记录，不能取消报名", "Already checked in: the sign-up cannot be cancelled"),
}
