"""The service's hooks around every operation, in one schema extension.

strawberry's hook machinery costs about 65,000 instructions per extension and request whatever the hooks do
(an instance, four context managers, each hook wrapped anew; bench/PERF-NOTES.md, sixth pass), so the
service's concerns are plain functions in their own modules, run here in a fixed order:

around the whole operation (parsing, validation, execution):
  1. ``counting_statements`` / ``record_operation`` (schema/metrics.py) — outermost, so the metrics see the
     final error codes and the audit INSERT's statement;
  2. the document limits (below): token count for the parser, depth and alias rules for validation;
  3. after execution, ``write_audit`` (schema/audit_writer.py), then ``code_errors`` (schema/errors.py);

parsing and validation: through process-wide LRU caches of the documents and of their validation errors
(what strawberry's ParserCache and ValidationCache extensions do, as two more extensions);

around execution: ``guard_operation`` (schema/operation_guards.py) — introspection, cost budget, NUL
characters — whose cost goes into the response's ``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Any

from graphql import parse
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from schema.audit_writer import write_audit
from schema.errors import code_errors
from schema.metrics import counting_statements, record_operation
from schema.operation_guards import guard_operation

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


CACHED_DOCUMENTS = 1000
"""Query texts whose parsed documents (and validation results) are kept, least recently used dropped."""
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
_validate = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


def set_document_limits(ctx: ExecutionContext) -> None:
    """At most MAX_TOKENS tokens (graphql-core's parser stops there), MAX_DEPTH levels and MAX_ALIASES aliases
    (validation rules) — what strawberry's MaxTokensLimiter and AddValidationRules would do as extensions."""
    ctx.parse_options["max_tokens"] = MAX_TOKENS
    ctx.validation_rules = ctx.validation_rules + _LIMIT_RULES


class OperationHooks(SchemaExtension):
    def __init__(self) -> None:
        self.cost: dict[str, int] = {}

    async def on_operation(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        with counting_statements() as statements:
            set_document_limits(ctx)
            yield
            await write_audit(ctx)
            code_errors(ctx)
        record_operation(ctx, statements[0])

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.pre_execution_errors = _validate(ctx.schema._schema, ctx.graphql_document, ctx.validation_rules)
        yield

    def on_execute(self) -> Iterator[None]:
        self.cost = guard_operation(self.execution_context)
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost else {}
