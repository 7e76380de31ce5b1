"""Messages of the deployment modes and the change feed (docs/deploy.md, "Two deployment modes")."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "OUTSIDE_INSTANCE": (
        "本实例为省级独立部署，只保存本省数据，请到对应实例办理",
        "This is a province's own instance: it holds only that province's data",
    ),
    "NOT_A_PEER": ("此服务账号不对应本实例的对端", "This service account is not a peer of this instance"),
}
