"""Introspection on or off by setting: on in development, off in production unless ZHIYUAN_INTROSPECTION=1.

Only ``__schema`` and ``__type`` are refused (``INTROSPECTION_DISABLED``, before execution); ``__typename`` and the
federation ``_service { sdl }`` field stay available, so the gateway can still compose.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, GraphQLError, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from schema.messages import message

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class _Finder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True


class IntrospectionSwitch(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        context = ctx.context
        if not context.services.settings.introspection and ctx.graphql_document is not None:
            finder = _Finder()
            visit(ctx.graphql_document, finder)
            if finder.found:
                error = GraphQLError(
                    message("INTROSPECTION_DISABLED", context.locale),
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
                ctx.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
