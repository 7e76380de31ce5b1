"""Assembly of the federation schema from the domain roots, with its extensions."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from schema.errors import AppError
from schema.leaf_fields import LeafFieldExecutionContext
from schema.lean_resolvers import lean_resolvers
from schema.mutation import Mutation
from schema.operation_hooks import OperationHooks
from schema.query import Query
from schema.types.registry import NODE_KINDS


class ZhiyuanSchema(Schema):
    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """Malformed representations (not an object, no or an unknown ``__typename``) are the caller's mistake:
        BAD_USER_INPUT before strawberry's resolver, which would fail on them with an internal error. Missing
        key fields are answered by each ``resolve_reference`` (BAD_ID)."""
        known = self.schema_converter.type_map
        for representation in representations:
            if not isinstance(representation, dict) or representation.get("__typename") not in known:
                raise AppError("BAD_USER_INPUT", key="BAD_REPRESENTATION", field="representations")
        return super().entities_resolver(info, representations)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """The service's hooks (metrics, limits, cached parsing and validation, guards, audit, error codes) as
        the runner itself: strawberry's runner would wrap each hook anew per request (schema/operation_hooks.py)."""
        assert not extensions, "the service's hooks live in OperationHooks, not in schema extensions"
        return OperationHooks(execution_context)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client mistakes are not server errors; ``code_errors`` logs the unexpected ones with their traceback."""


def build_schema() -> Schema:
    built = ZhiyuanSchema(
        query=Query,
        mutation=Mutation,
        types=[kind.cls for kind in NODE_KINDS.values()],
        execution_context_class=LeafFieldExecutionContext,
    )
    lean_resolvers(built)
    return built


schema = build_schema()
