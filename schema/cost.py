"""Query cost analysis in the style of GitHub and Shopify, checked before any resolver runs.

A field costs 1; a connection costs ``first`` (default page size when absent) times the cost of what it selects
under ``edges``/``nodes``, plus 1. Fragments count where they are spread. Each role has a budget
(settings); an operation over budget is refused with ``COST_LIMIT_EXCEEDED`` and nothing executes. Every
response reports ``extensions.cost`` = ``{"requested": …, "budget": …}``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from strawberry.types import ExecutionContext

from auth.viewer import Viewer
from schema.messages import message
from schema.pagination import DEFAULT_PAGE_SIZE

MAX_NODE_LIST = 100


def budget_for(viewer: Viewer, budgets: dict[str, int]) -> int:
    if viewer.is_region_admin:
        return budgets["region_admin"]
    if viewer.is_team_admin:
        return budgets["team_admin"]
    if viewer.is_authenticated:
        return budgets["signed_in"]
    return budgets["anonymous"]


class _Coster:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
    ):
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def _fields(self, selection_set: SelectionSetNode | None, parent: Any) -> Iterator[tuple[FieldNode, Any]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                on = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                yield from self._fields(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    on = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self._fields(fragment.selection_set, on)

    def _first(self, node: FieldNode, field: Any) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "ids") and field.args.get(argument.name.value) is not None:
                value = value_from_ast(argument.value, field.args[argument.name.value].type, self.variables)
                if isinstance(value, list):
                    return min(len(value), MAX_NODE_LIST)
                if isinstance(value, int):
                    return max(0, min(value, MAX_NODE_LIST))
        return DEFAULT_PAGE_SIZE

    def cost(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        total = 0
        for node, owner in self._fields(selection_set, parent):
            owner_type = get_named_type(owner)
            if not isinstance(owner_type, GraphQLObjectType) or node.name.value.startswith("__"):
                continue
            field = owner_type.fields.get(node.name.value)
            if field is None:
                continue
            child = self.cost(node.selection_set, get_named_type(field.type))
            returns = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            is_page = get_named_type(field.type).name.endswith("Connection")
            if is_page or (isinstance(returns, GraphQLList) and "ids" in field.args):
                total += 1 + self._first(node, field) * child
            else:
                total += 1 + child
        return total


def operation_cost(
    schema: GraphQLSchema, document: Any, operation_name: str | None, variables: dict[str, Any] | None
) -> int:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    return _Coster(schema, fragments, variables or {}).cost(operation.selection_set, root)


_COSTS: OrderedDict[tuple[str, str | None, bytes], int] = OrderedDict()
_COSTS_SIZE = 1000


def cached_operation_cost(
    schema: GraphQLSchema,
    query: str | None,
    document: Any,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """``operation_cost`` remembered by (query text, operation name, variables): the cost is a function of
    those alone (the budget, which depends on the viewer, is not cached). Variables that are not plain JSON
    are costed without the cache."""
    if query is None:
        return operation_cost(schema, document, operation_name, variables)
    try:
        key = (query, operation_name, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    except TypeError:
        return operation_cost(schema, document, operation_name, variables)
    cost = _COSTS.get(key)
    if cost is None:
        cost = _COSTS[key] = operation_cost(schema, document, operation_name, variables)
        if len(_COSTS) > _COSTS_SIZE:
            _COSTS.popitem(last=False)
    else:
        _COSTS.move_to_end(key)
    return cost


def cost_check(ctx: ExecutionContext) -> tuple[dict[str, int], GraphQLError | None]:
    """The operation's ``{"requested", "budget"}`` (reported in ``extensions.cost``), and
    ``COST_LIMIT_EXCEEDED`` when it is over the viewer's budget."""
    context = ctx.context
    budget = budget_for(context.viewer, context.services.settings.cost_budgets)
    requested = cached_operation_cost(
        ctx.schema._schema, ctx.query, ctx.graphql_document, ctx.operation_name, ctx.variables
    )
    cost = {"requested": requested, "budget": budget}
    if requested <= budget:
        return cost, None
    text = message("COST_LIMIT_EXCEEDED", context.locale, requested=requested, budget=budget)
    return cost, GraphQLError(text, extensions={"code": "COST_LIMIT_EXCEEDED", **cost})
