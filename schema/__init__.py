"""The schema: strawberry types per domain, the permission directives, errors, and assembly (federation v2)."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation import Schema
from strawberry.types import ExecutionContext

from schema.audit_writer import AuditWriter
from schema.errors import ErrorCodes
from schema.mutation import Mutation
from schema.query import Query
from schema.types.registry import NODE_KINDS


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
            AuditWriter,
            lambda: ParserCache(maxsize=1000),
            lambda: ValidationCache(maxsize=1000),
        ],
    )


schema = build_schema()
