"""Assembly of the federation schema from the domain roots, with its extensions."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from schema.audit_writer import AuditWriter
from schema.errors import AppError, ErrorCodes
from schema.leaf_fields import LeafFieldExecutionContext
from schema.lean_resolvers import lean_resolvers
from schema.metrics import OperationMetrics
from schema.mutation import Mutation
from schema.operation_guards import OperationGuards
from schema.query import Query
from schema.types.registry import NODE_KINDS

MAX_DEPTH = 12
"""Deepest nesting a query may have (the deepest real client query is 7)."""
MAX_ALIASES = 30
MAX_TOKENS = 5000

# The limiters' validation rules are built once: a rule class made per request would change the key of the
# validation cache and every request would be validated again (27% of a small query's time, bench/RESULTS.md).
_LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


class DocumentLimits(SchemaExtension):
    """The document's own limits, in one hook: at most MAX_TOKENS tokens (graphql-core's parser stops there),
    MAX_DEPTH levels and MAX_ALIASES aliases (validation rules) — what strawberry's MaxTokensLimiter and
    AddValidationRules do as two extensions, each a context manager entered on every request."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        context.validation_rules = context.validation_rules + _LIMIT_RULES
        yield


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

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client mistakes are not server errors; ErrorCodes logs the unexpected ones with their traceback."""


def build_schema() -> Schema:
    built = ZhiyuanSchema(
        query=Query,
        mutation=Mutation,
        types=[kind.cls for kind in NODE_KINDS.values()],
        extensions=[
            OperationMetrics,  # outermost: sees ErrorCodes' final codes and the audit INSERT's SQL
            ErrorCodes,
            DocumentLimits,
            OperationGuards,
            AuditWriter,
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
        ],
        execution_context_class=LeafFieldExecutionContext,
    )
    lean_resolvers(built)
    return built


schema = build_schema()
