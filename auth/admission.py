"""Admission before the schema: request body size and rate limits, as ASGI middleware.

Both refuse cheaply, before parsing, with a coded GraphQL-shaped error: 413 ``REQUEST_TOO_LARGE`` and 429
``RATE_LIMITED`` (with ``Retry-After``). Rate limits count per account for signed-in viewers and per client
address otherwise, on the API and on the public certificate pages (whose codes must not be guessable by
volume), in fixed one-minute windows kept in the shared key-value store, so every worker sees the same counts
when it is Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.kv import KeyValueStore

WINDOW = 60


async def _refuse(send: Send, status: int, code: str, text: str, **extra: object) -> None:
    body = orjson.dumps({"errors": [{"message": text, "extensions": {"code": code, **extra}}]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if "retryAfter" in extra:
        headers.append((b"retry-after", str(extra["retryAfter"]).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _locale(scope: Scope) -> str:
    from schema.messages import locale_from

    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return locale_from(value.decode("latin-1"))
    return "zh"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from schema.messages import message

        text = message("REQUEST_TOO_LARGE", _locale(scope))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _refuse(send, 413, "REQUEST_TOO_LARGE", text)
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message_ = await receive()
            seen += len(message_.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message_

        async def tracking_send(message_: Message) -> None:
            nonlocal started
            started = started or message_["type"] == "http.response.start"
            await send(message_)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, "REQUEST_TOO_LARGE", text)


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        store: Callable[[], KeyValueStore],
        anonymous_per_minute: int,
        signed_in_per_minute: int,
        paths: tuple[str, ...] = ("/graphql", "/verify", "/certificates/"),
    ) -> None:
        self.app, self.store = app, store
        self.anonymous, self.signed_in, self.paths = anonymous_per_minute, signed_in_per_minute, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.paths):
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        viewer = getattr(user, "viewer", None)
        if viewer is not None and viewer.account_id is not None:
            who, limit = f"a{viewer.account_id}", self.signed_in
        else:
            client = scope.get("client")
            who, limit = f"ip{client[0] if client else '?'}", self.anonymous
        now = time.time()
        window = int(now // WINDOW)
        count = await self.store().incr(f"rl:{who}:{window}", WINDOW)
        if count > limit:
            from schema.messages import message

            retry = max(1, int((window + 1) * WINDOW - now))
            text = message("RATE_LIMITED", _locale(scope), retry_after=retry)
            await _refuse(send, 429, "RATE_LIMITED", text, retryAfter=retry)
            return
        await self.app(scope, receive, send)
