"""Messages that reach end users: zh-CN by default, English with ``Accept-Language: en``; keyed by code."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "BAD_USER_INPUT": ("输入有误", "Invalid input"),
    "BAD_ID": ("ID 格式无效", "Malformed ID"),
    "BAD_CURSOR": ("分页游标无效", "Malformed pagination cursor"),
    "BAD_PAGE_SIZE": ("每页条数须在 0 到 {max} 之间", "Page size must be between 0 and {max}"),
    "NOT_FOUND": ("未找到该对象", "Not found"),
    "UNAUTHENTICATED": ("请先登录，或登录已失效", "Sign-in required, or the session has expired"),
    "FORBIDDEN": ("无权执行此操作", "Not allowed"),
    "OUT_OF_JURISDICTION": ("超出管辖范围", "Outside your jurisdiction"),
    "INVALID_CREDENTIALS": ("用户名或密码错误", "Wrong username or password"),
    "ACCOUNT_LOCKED": (
        "尝试次数过多，请 {retry_after} 秒后再试",
        "Too many attempts; retry in {retry_after} s",
    ),
    "INVALID_REFRESH_TOKEN": (
        "登录凭证无效或已过期，请重新登录",
        "Invalid or expired refresh token; sign in again",
    ),
    "USERNAME_TAKEN": ("用户名已被使用", "Username already taken"),
    "USERNAME_FORMAT": (
        "用户名须以字母开头，由 6-20 位字母、数字或下划线组成",
        "A username starts with a letter and has 6-20 letters, digits or underscores",
    ),
    "USERNAME_RESERVED": (
        "mz_、wm_ 开头的用户名保留给迁移账号",
        "Usernames starting mz_ or wm_ are reserved",
    ),
    "PASSWORD_WEAK": (
        "密码须为 8-20 位，包含数字、大写字母和小写字母",
        "A password has 8-20 characters with a digit, an upper- and a lower-case letter",
    ),
    "REGION_UNKNOWN": ("行政区划代码不存在", "Unknown region code"),
    "GRANT_NOT_ALLOWED": (
        "只能向本辖区的下一级授予管理员",
        "You can only create admins one level below, inside your area",
    ),
    "GRAPHQL_PARSE_FAILED": ("查询语法错误", "Syntax error in the query"),
    "GRAPHQL_VALIDATION_FAILED": ("查询不符合接口定义", "The query does not match the schema"),
    "INTERNAL_SERVER_ERROR": ("服务器内部错误", "Internal server error"),
}


def message(code: str, locale: str, **params: object) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["INTERNAL_SERVER_ERROR"])
    text = en if locale == "en" else zh
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def locale_from(accept_language: str | None) -> str:
    """``en`` when English is the client's first choice, else ``zh``."""
    if not accept_language:
        return "zh"
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"
