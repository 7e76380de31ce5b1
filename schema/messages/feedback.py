"""Messages for the trial feedback form (试运行意见反馈表)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "FEEDBACK_ORGANISATION": (
        "请填写单位名称（不超过 100 字）",
        "Give the department's name (at most 100 characters)",
    ),
    "FEEDBACK_DATE": ("填表日期不能晚于今天", "The form's date may not be in the future"),
    "FEEDBACK_PHONE": (
        "联系电话格式不正确：请填写手机号码或带区号的固定电话",
        "Malformed contact phone: give a mobile number or a landline with its area code",
    ),
    "FEEDBACK_TRIAL_DETAILS": (
        "已组织试用时，请填写试用层级（第 2 题）和已试用模块（第 4 题）",
        "When a trial was organised, answer question 2 (level) and question 4 (modules)",
    ),
    "FEEDBACK_NO_TRIAL": (
        "未组织试用时，第 2 题和第 4 题不应作答",
        "When no trial was organised, leave questions 2 and 4 unanswered",
    ),
    "FEEDBACK_IMPROVEMENTS": (
        "完善建议最多 20 条，每条不超过 2000 字",
        "At most 20 suggestions of at most 2,000 characters each",
    ),
}
