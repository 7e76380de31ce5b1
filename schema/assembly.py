"""Assembly of the federation schema from the domain roots, with its extensions."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.federation import Schema
from strawberry.types import ExecutionContext

from schema.audit_writer import AuditWriter
from schema.cost import CostLimit
from schema.errors import ErrorCodes
from schema.introspection import IntrospectionSwitch
from schema.mutation import Mutation
from schema.query import Query
from schema.types.registry import NODE_KINDS

MAX_DEPTH = 12
"""Deepest nesting a query may have (the deepest real client query is 7)."""
MAX_ALIASES = 30
MAX_TOKENS = 5000


class ZhiyuanSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client mistakes are not server errors; ErrorCodes logs the unexpected ones with their traceback."""


def build_schema() -> Schema:
    return ZhiyuanSchema(
        query=Query,
        mutation=Mutation,
        types=[kind.cls for kind in NODE_KINDS.values()],
        extensions=[
            ErrorCodes,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            CostLimit,
            IntrospectionSwitch,
            AuditWriter,
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
        ],
    )


schema = build_schema()
