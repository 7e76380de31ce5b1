"""Structured JSON logs with a request id, and redaction of personal data and secrets.

* ``RequestId`` (ASGI middleware) takes ``X-Request-ID`` or makes one, puts it in a context variable that
  every log record carries, echoes it in the response, and writes one access line per request.
* ``JsonFormatter`` renders records as one JSON object per line.
* ``Redact`` (a logging filter on the root handler) masks resident ID numbers, mobile numbers and bearer/JWT
  tokens in every message and argument, so no code path can leak them into the logs by accident.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access = logging.getLogger("zhiyuan.access")
_VALID_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
"""An incoming X-Request-ID is kept when it matches (40: the audit table's column), else replaced."""

_START = r"(?:(?<!\d)|(?<=%[0-9A-Fa-f]{2}))"
"""A number starts after a non-digit, or after a percent-escape (``%2213912345678`` in a logged URL)."""
_PATTERNS = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "[token]"),
    (re.compile(r"(?i)(bearer\s+)[\w.~+/-]+=*"), r"\1[token]"),
    (re.compile(_START + r"(\d{6})\d{8}(\d{3}[\dXx])(?!\d)"), r"\1********\2"),
    (re.compile(_START + r"(\d{6})\d{6}(\d{3})(?!\d)"), r"\1******\2"),
    (re.compile(r"(?:(?<!\d)|(?<=%[0-9A-Fa-f]{2})|(?<=86))(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Redacts the message as formatted (arguments of any type included), the traceback and the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed logging call: keep what there is rather than raise from a filter
            text = f"{record.msg} {record.args}"
        record.msg, record.args = redact(text), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = record.exc_text or redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, json_logs: bool = True, stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger (to stderr unless ``stream``), redacting, JSON or plain text; uvicorn's
    and every library's loggers propagate to it. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redact())
    handler.setFormatter(
        JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return handler


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), ""
        )
        rid = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={
                    "fields": {
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    }
                },
            )
            request_id.reset(token)
