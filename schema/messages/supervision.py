"""Messages for supervision: alerts and spot checks (监督管理、抽查)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "NOTE_REQUIRED": ("请填写处理说明", "A note is required"),
    "NOTE_TOO_LONG": ("说明不能超过 {max} 字", "The note may hold at most {max} characters"),
    "ALERT_ALREADY_HANDLED": ("该预警已处理", "This alert has already been handled"),
    "RULES_EMPTY": ("请至少选择一条规则，或不传以运行全部规则", "Name at least one rule, or none to run all"),
    "SAMPLE_SIZE": ("抽查数量须在 1 到 {max} 之间", "The sample size must be between 1 and {max}"),
    "SEED_RANGE": ("随机种子须为非负整数", "The seed must be a non-negative integer"),
    "NO_RECORDS_TO_SAMPLE": (
        "该区域没有可抽查的已确认服务记录",
        "No confirmed service records to sample here",
    ),
    "SPOT_CHECK_PUBLISHED": (
        "抽查结果已公布，不能再修改",
        "The spot check is published and can no longer change",
    ),
    "SPOT_CHECK_INCOMPLETE": (
        "还有 {unchecked} 条记录未填写抽查结论",
        "{unchecked} sampled records have no finding yet",
    ),
}
