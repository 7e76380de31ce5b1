"""The error vocabulary: every GraphQL error leaves with a stable ``extensions.code``.

Resolvers raise ``AppError(code, **params)``; ``code_errors`` (after each operation, schema/operation_hooks.py)
localises its message, codes
parse/validation/coercion errors, and masks everything else as INTERNAL_SERVER_ERROR while logging it.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.types import ExecutionContext

from schema.messages import message

log = logging.getLogger("zhiyuan.errors")


class AppError(StrawberryGraphQLError):
    """An expected failure with a code; ``params`` fill the message and go to ``extensions``."""

    def __init__(self, code: str, *, key: str | None = None, field: str | None = None, **params: Any) -> None:
        self.code, self.key, self.field, self.params = code, key or code, field, params
        super().__init__(message(self.key, "zh", **params))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _coded(error: GraphQLError, code: str, text: str, extra: dict[str, Any] | None = None) -> GraphQLError:
    extensions = {"code": code, **(extra or {})}
    return GraphQLError(text, error.nodes, error.source, error.positions, error.path, None, extensions)


_LIMITS = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed:", "TOO_MANY_ALIASES"),
    ("Document contains more than", "TOO_MANY_TOKENS"),
)


def _limit_code(text: str) -> str | None:
    """The refusals of strawberry's depth, alias and token limiters, recognised by their fixed messages."""
    return next((code for marker, code in _LIMITS if marker in text), None)


def classify(error: GraphQLError, locale: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AppError):
        extra: dict[str, Any] = {_camel(k): v for k, v in original.params.items()}
        if original.field:
            extra["field"] = original.field
        if original.key != original.code:
            extra["reason"] = original.key
        return _coded(error, original.code, message(original.key, locale, **original.params), extra)
    if isinstance(original, GraphQLError) and (original.extensions or {}).get("code"):
        return error
    if original is None:
        if error.extensions and error.extensions.get("code"):
            return error
        code = _limit_code(error.message) or (
            "GRAPHQL_PARSE_FAILED"
            if error.message.startswith("Syntax Error")
            else "GRAPHQL_VALIDATION_FAILED"
        )
        return _coded(
            error, code, error.message if locale == "en" else f"{message(code, locale)}: {error.message}"
        )
    if isinstance(original, ValueError | TypeError | GraphQLError) and error.path is None:
        # variable coercion wraps graphql-core's own uncoded GraphQLError: the client's mistake, not ours
        return _coded(error, "BAD_USER_INPUT", f"{message('BAD_USER_INPUT', locale)}: {error.message}")
    if "OUTSIDE_INSTANCE_SUBTREE" in str(original):  # a province instance's triggers (models/change_log.py)
        return _coded(
            error, "OUT_OF_JURISDICTION", message("OUTSIDE_INSTANCE", locale), {"reason": "OUTSIDE_INSTANCE"}
        )
    log.error("unexpected error at %s", error.path, exc_info=original)
    return _coded(error, "INTERNAL_SERVER_ERROR", message("INTERNAL_SERVER_ERROR", locale))


def code_errors(ctx: ExecutionContext) -> None:
    """Every error of the operation's result with its stable code and localised message (``classify``)."""
    result = ctx.result
    if result is None or not getattr(result, "errors", None):
        return
    locale = getattr(ctx.context, "locale", "zh")
    result.errors = [classify(e, locale) for e in result.errors or []]
