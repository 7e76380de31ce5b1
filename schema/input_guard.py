"""Refuses text containing NUL characters, in variables and in the document, before execution.

PostgreSQL ``text`` cannot hold NUL, and no legitimate field needs it, so such input is the client's mistake
(BAD_USER_INPUT, reason NUL_CHARACTER) rather than a database failure deep inside a resolver. Checked by
schema/operation_guards.py.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.types import ExecutionContext

from schema.messages import message


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def _may_spell_nul(query: str | None) -> bool:
    """Whether the document's text could hold a NUL in a string value: a raw NUL, or a unicode escape
    (``\\u0000``, ``\\u{0}``). Most documents have neither, and then walking them is skipped."""
    return query is None or "\x00" in query or "\\u" in query


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        self.found = self.found or "\x00" in node.value


def nul_refusal(ctx: ExecutionContext) -> GraphQLError | None:
    """``BAD_USER_INPUT`` (reason ``NUL_CHARACTER``) when a variable or a string in the document holds NUL."""
    found = _holds_nul(ctx.variables or {})
    if not found and ctx.graphql_document is not None and _may_spell_nul(ctx.query):
        strings = _Strings()
        visit(ctx.graphql_document, strings)
        found = strings.found
    if not found:
        return None
    text = message("BAD_USER_INPUT", ctx.context.locale)
    return GraphQLError(text, extensions={"code": "BAD_USER_INPUT", "reason": "NUL_CHARACTER"})
