"""Messages that reach end users: zh-CN by default, English with ``Accept-Language: en``; keyed by code.

One catalogue per domain, merged here; a key may appear in only one of them.
"""

from __future__ import annotations

from schema.messages.attendance import MESSAGES as ATTENDANCE
from schema.messages.certificates import MESSAGES as CERTIFICATES
from schema.messages.core import MESSAGES as CORE
from schema.messages.exports import MESSAGES as EXPORTS
from schema.messages.feedback import MESSAGES as FEEDBACK
from schema.messages.projects import MESSAGES as PROJECTS
from schema.messages.supervision import MESSAGES as SUPERVISION
from schema.messages.sync import MESSAGES as SYNC

_CATALOGUES = (CORE, PROJECTS, ATTENDANCE, CERTIFICATES, FEEDBACK, EXPORTS, SUPERVISION, SYNC)
MESSAGES: dict[str, tuple[str, str]] = {}
for _catalogue in _CATALOGUES:
    _clash = MESSAGES.keys() & _catalogue.keys()
    if _clash:
        raise RuntimeError(f"message keys defined twice: {sorted(_clash)}")
    MESSAGES.update(_catalogue)


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
