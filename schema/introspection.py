"""Introspection on or off by setting: on in development, off in production unless ZHIYUAN_INTROSPECTION=1.

Only ``__schema`` and ``__type`` are refused (``INTROSPECTION_DISABLED``, before execution); ``__typename`` and the
federation ``_service { sdl }`` field stay available, so the gateway can still compose. Checked by
schema/operation_guards.py.
"""

from __future__ import annotations

from graphql import DocumentNode, FieldNode, GraphQLError, visit
from graphql.language import Visitor
from strawberry.types import ExecutionContext

from schema.messages import message

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class _Finder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True


def asks_introspection(query: str | None, document: DocumentNode) -> bool:
    """Whether ``document`` selects ``__schema`` or ``__type`` anywhere; remembered by query text (the walk
    visits every node of the document, on every request of a production server)."""
    if query is not None and (known := _ASKS.get(query)) is not None:
        return known
    finder = _Finder()
    visit(document, finder)
    if query is not None:
        if len(_ASKS) >= _ASKS_SIZE:
            _ASKS.pop(next(iter(_ASKS)))
        _ASKS[query] = finder.found
    return finder.found


_ASKS: dict[str, bool] = {}
_ASKS_SIZE = 1000


def introspection_refusal(ctx: ExecutionContext) -> GraphQLError | None:
    """``INTROSPECTION_DISABLED`` when introspection is off and the document asks for it."""
    context = ctx.context
    document = ctx.graphql_document
    if context.services.settings.introspection or document is None:
        return None
    if not asks_introspection(ctx.query, document):
        return None
    return GraphQLError(
        message("INTROSPECTION_DISABLED", context.locale), extensions={"code": "INTROSPECTION_DISABLED"}
    )
