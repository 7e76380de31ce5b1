"""Core messages: input, authentication, accounts, registration, teams and membership."""

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
    "PROVINCE_NOT_LIVE": (
        "该省份尚未切换到新系统，暂不能办理",
        "This province has not switched to the new system yet",
    ),
    "DUPLICATE_IDENTITY": ("该证件已注册志愿者", "This identity document is already registered"),
    "ID_NUMBER_FORMAT": ("证件号码格式不正确", "Malformed ID number"),
    "ID_NUMBER_CHECKSUM": ("身份证号码校验位不正确", "The ID number's check character is wrong"),
    "ID_NUMBER_BIRTH_DATE": ("身份证号码中的出生日期无效", "The birth date in the ID number is not valid"),
    "ID_AREA_UNKNOWN": ("身份证号码中的地区代码不存在", "The area code in the ID number does not exist"),
    "NAME_FORMAT": ("姓名格式不正确", "Malformed name"),
    "PHONE_FORMAT": ("手机号码格式不正确", "Malformed mobile number"),
    "TOO_YOUNG": ("未达到注册年龄", "Below the minimum age for registration"),
    "GUARDIAN_REQUIRED": ("未成年人注册须填写监护人信息", "A minor needs a guardian's details"),
    "GUARDIAN_CONSENT_REQUIRED": ("未成年人注册须经监护人同意", "A minor needs the guardian's consent"),
    "CREDIT_CODE_FORMAT": ("统一社会信用代码格式不正确", "Malformed unified social credit code"),
    "CREDIT_CODE_CHECKSUM": ("统一社会信用代码校验位不正确", "The credit code's check character is wrong"),
    "CREDIT_CODE_NOT_SOCIAL_ORG": (
        "该代码不是民政部门登记的社会组织",
        "Not a social organisation registered by civil affairs",
    ),
    "DUPLICATE_CREDIT_CODE": (
        "该统一社会信用代码已注册队伍",
        "A team with this credit code is already registered",
    ),
    "CONTACT_TEAM_REQUIRED": ("未登记的团体须选择联络团体", "An unregistered group needs a contact team"),
    "CONTACT_TEAM_INVALID": (
        "联络团体须为已审核通过的法人组织",
        "The contact team must be an approved legal person",
    ),
    "TEAM_NOT_ACTIVE": ("队伍未通过审核或已停用", "The team is not approved or not active"),
    "ALREADY_MEMBER": ("已是该队伍成员", "Already a member of this team"),
    "ALREADY_APPLIED": ("已提交申请，请等待审核", "Already applied; wait for the decision"),
    "NOT_A_MEMBER": ("不是该队伍成员", "Not a member of this team"),
    "INVITATION_DECLINED": ("对方设置为不接受邀请", "The volunteer does not accept invitations"),
    "INVALID_STATE": ("当前状态下不能执行此操作", "Not possible in the current state"),
    "REASON_REQUIRED": ("请填写原因", "A reason is required"),
    "NOT_A_VOLUNTEER": ("当前账号没有志愿者身份", "This account has no volunteer profile"),
    "LAST_ADMIN": ("队伍至少保留一名管理员", "A team keeps at least one admin"),
    "IDEMPOTENCY_KEY_REUSED": (
        "该请求编号已用于不同的请求",
        "This idempotency key was already used for a different request",
    ),
    "COST_LIMIT_EXCEEDED": (
        "查询过于复杂（成本 {requested}，上限 {budget}），请减少每页条数或嵌套",
        "The query is too expensive (cost {requested}, budget {budget}); ask for fewer rows or less nesting",
    ),
    "QUERY_TOO_DEEP": ("查询嵌套层数过多", "The query is nested too deeply"),
    "TOO_MANY_ALIASES": ("查询中的别名过多", "The query has too many aliases"),
    "TOO_MANY_TOKENS": ("查询过长", "The query is too long"),
    "GRAPHQL_PARSE_FAILED": ("查询语法错误", "Syntax error in the query"),
    "GRAPHQL_VALIDATION_FAILED": ("查询不符合接口定义", "The query does not match the schema"),
    "INTERNAL_SERVER_ERROR": ("服务器内部错误", "Internal server error"),
}
