"""The service's hooks around every operation, as strawberry's extensions runner.

strawberry runs schema extensions through a runner that, per request and stage, looks each hook up, checks
whether it is a generator, wraps it in a context manager and an exit stack: about 65,000 instructions per
extension and request for the machinery alone (bench/PERF-NOTES.md, sixth and seventh passes). The service's
concerns are plain functions in their own modules, and ``OperationHooks`` is the runner itself
(``ZhiyuanSchema.create_extensions_runner``): each stage is one small object that calls them in a fixed order:

around the whole operation (parsing, validation, execution):
  1. ``counting_statements`` / ``record_operation`` (schema/metrics.py) — outermost, so the metrics see the
     final error codes and the audit INSERT's statement;
  2. the document limits (below): token count for the parser, depth and alias rules for validation;
  3. the loaders' read connection kept between batches (``hold_reads``, loaders/connect.py) and returned;
  4. after execution, ``write_audit`` (schema/audit_writer.py), then ``code_errors`` (schema/errors.py);

parsing and validation: through process-wide caches of the documents and of their validation errors
(what strawberry's ParserCache and ValidationCache extensions do, as two more extensions);

before execution: ``guard_operation`` (schema/operation_guards.py) — introspection, cost budget, NUL
characters — whose cost goes into the response's ``extensions.cost``.

On an exception inside a stage the stage's own work after it is skipped, as a generator hook's would be
(strawberry answers such an exception as an error result).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import TracebackType
from typing import Any

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from loaders.connect import hold_reads, release_reads
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
"""Query texts whose parsed documents (least recently used dropped) and validation results (oldest dropped)
are kept."""
_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


def set_document_limits(ctx: ExecutionContext) -> None:
    """At most MAX_TOKENS tokens (graphql-core's parser stops there), MAX_DEPTH levels and MAX_ALIASES aliases
    (validation rules) — what strawberry's MaxTokensLimiter and AddValidationRules would do as extensions."""
    ctx.parse_options["max_tokens"] = MAX_TOKENS
    ctx.validation_rules = ctx.validation_rules + _LIMIT_RULES


class _Operation:
    """The whole operation: statements counted, limits set; audit, error codes and metrics after it."""

    __slots__ = ("counter", "ctx", "reads", "statements")

    def __init__(self, ctx: ExecutionContext) -> None:
        self.ctx = ctx

    async def __aenter__(self) -> None:
        self.counter = counting_statements()
        self.statements = self.counter.__enter__()
        set_document_limits(self.ctx)
        self.reads = hold_reads()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await release_reads(self.reads)
            if kind is not None:  # strawberry answers the exception; nothing of it to audit or record
                return
            await write_audit(self.ctx)
            code_errors(self.ctx)
        finally:
            self.counter.__exit__(None, None, None)  # the counter's own ``finally`` resets it either way
        record_operation(self.ctx, self.statements[0])


class _Before:
    """A stage whose work is done before strawberry's part of it (``on_parse``, ``on_validate``, …)."""

    __slots__ = ("ctx", "work")

    def __init__(self, work: Callable[[ExecutionContext], None], ctx: ExecutionContext) -> None:
        self.work, self.ctx = work, ctx

    async def __aenter__(self) -> None:
        self.work(self.ctx)

    async def __aexit__(self, *exc: object) -> None:
        return None


def parse_document(ctx: ExecutionContext) -> None:
    """The document from the cache (strawberry's own parser then finds it set)."""
    ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)


_validated: dict[tuple[int, tuple[Any, ...]], tuple[DocumentNode, list[GraphQLError]]] = {}


def validate(ctx: ExecutionContext) -> None:
    """The document's validation errors, worked out once per cached document and rule set.

    Keyed by the document's identity (the parse cache hands out one object per query text), the entry holding
    the document so its id cannot be reused while the entry lives: hashing a document would walk all its
    nodes, as an ``lru_cache`` over it did on every request."""
    document = ctx.graphql_document
    assert document is not None
    rules = tuple(ctx.validation_rules)
    key = (id(document), rules)
    entry = _validated.get(key)
    if entry is None or entry[0] is not document:
        if len(_validated) >= CACHED_DOCUMENTS:
            _validated.pop(next(iter(_validated)))  # the oldest entry
        entry = _validated[key] = (document, validate_document(ctx.schema._schema, document, rules))
    ctx.pre_execution_errors = entry[1]


class OperationHooks(SchemaExtensionsRunner):
    """strawberry's extensions runner for the service's hooks (no ``SchemaExtension`` instances)."""

    def __init__(self, execution_context: ExecutionContext) -> None:
        super().__init__(execution_context, [])
        self.cost: dict[str, int] = {}

    def operation(self) -> _Operation:  # type: ignore[override]
        return _Operation(self.execution_context)

    def parsing(self) -> _Before:  # type: ignore[override]
        return _Before(parse_document, self.execution_context)

    def validation(self) -> _Before:  # type: ignore[override]
        return _Before(validate, self.execution_context)

    def executing(self) -> _Before:  # type: ignore[override]
        return _Before(self._guard, self.execution_context)

    def _guard(self, ctx: ExecutionContext) -> None:
        self.cost = guard_operation(ctx)

    def get_extensions_results_sync(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost else {}

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data = self.get_extensions_results_sync()
        data.update(ctx.extensions_results)
        return data
