"""The checks an operation passes before any resolver runs, in one schema extension.

Each check is a function of the execution context that returns the refusal or None: NUL characters
(schema/input_guard.py), the cost budget (schema/cost.py), introspection when switched off
(schema/introspection.py). One extension instead of three: strawberry's hook machinery costs 60–100 Python
calls per extension and request, whatever the hooks do (bench/PERF-NOTES.md). When several refuse, the
response carries one error, the first of: introspection, cost, NUL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from schema.cost import cost_check
from schema.input_guard import nul_refusal
from schema.introspection import introspection_refusal


class OperationGuards(SchemaExtension):
    def __init__(self) -> None:
        self.cost: dict[str, int] = {}

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        self.cost, over_budget = cost_check(ctx)
        refusal = introspection_refusal(ctx) or over_budget or nul_refusal(ctx)
        if refusal is not None:
            ctx.result = GraphQLExecutionResult(data=None, errors=[refusal])
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost else {}
