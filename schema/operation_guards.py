"""The checks an operation passes before any resolver runs (schema/operation_hooks.py runs them).

Each check is a function of the execution context that returns the refusal or None: NUL characters
(schema/input_guard.py), the cost budget (schema/cost.py), introspection when switched off
(schema/introspection.py). When several refuse, the response carries one error, the first of: introspection,
cost, NUL.
"""

from __future__ import annotations

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.types import ExecutionContext

from schema.cost import cost_check
from schema.input_guard import nul_refusal
from schema.introspection import introspection_refusal


def guard_operation(ctx: ExecutionContext) -> dict[str, int]:
    """Refuse the operation (its result set to the first refusal, nothing executed) or let it run; its cost
    (``extensions.cost`` of the response), empty when not worked out."""
    cost, over_budget = cost_check(ctx)
    refusal = introspection_refusal(ctx) or over_budget or nul_refusal(ctx)
    if refusal is not None:
        ctx.result = GraphQLExecutionResult(data=None, errors=[refusal])
    return cost
