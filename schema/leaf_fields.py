"""Execution of plain leaf fields, and of objects made only of them, without graphql-core's general machinery.

Most fields of a response are leaves read straight off their object — ``hours``, ``serviceDate``, ``status`` on
twenty service records — and graphql-core runs each through the whole field pipeline: a resolve-info object,
strawberry's resolver wrapper, two awaitable checks and ``complete_value``'s type dispatch, about twenty Python
calls to read one attribute and serialize it (bench/PERF-NOTES.md, fifth pass).

``LeafFieldExecutionContext`` answers such a field with one attribute read and one serialize call, when all
of these hold:

* strawberry marked it basic: no resolver, no field extension (so no permission check), the default
  ``getattr`` resolver;
* it takes no arguments, and its type is a scalar or enum, nullable or not;
* no graphql-core middleware is installed (an extension with a ``resolve`` hook would see every field;
  strawberry always passes a manager, empty when no extension has one).

An object whose selected fields are all plain leaves — a page of service records asking for date, hours,
status and content — is completed as one dict, without a field execution (and its response path) per field;
the plan is worked out once per selection, as graphql-core memoizes the collected fields. A list of such
objects (the page's ``nodes``) is completed in one loop, without a response path, an awaitable check and a
type dispatch per item.

Anything unusual — the attribute raising, a value that is an exception, ``None`` for a non-null field, a
scalar refusing to serialize the value — goes back to graphql-core's own path, which reads the attribute again
(a plain read, no side effect) and reports the error exactly as it always did. Results are identical to the
stock executor's; tests/test_leaf_fields.py compares both on the demo data, for several roles, and on a schema
built to fail in each of those ways.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any
from weakref import WeakMethod

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

LeafPlan = tuple[Callable[[Any], Any], GraphQLLeafType, bool]
"""How to answer a plain leaf field: read the attribute, serialize with the leaf type, non-null or not."""

_UNKNOWN: Any = object()
_schema_plans: dict[int, tuple[GraphQLSchema, dict[tuple[str, str], LeafPlan | None]]] = {}


def plans_of(schema: GraphQLSchema) -> dict[tuple[str, str], LeafPlan | None]:
    """The leaf plans of ``schema``'s fields by (type name, field name), filled in as fields are first met."""
    known = _schema_plans.get(id(schema))
    if known is None or known[0] is not schema:
        known = _schema_plans[id(schema)] = (schema, {})
    return known[1]


def leaf_plan(field_def: GraphQLField | None) -> LeafPlan | None:
    """How to answer ``field_def`` when it is a plain leaf field (module docstring), else None."""
    if field_def is None or field_def.args:
        return None
    definition = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    if not definition.is_basic_field or definition.default_resolver is not getattr:
        return None
    non_null = isinstance(field_def.type, GraphQLNonNull)
    leaf = field_def.type.of_type if non_null else field_def.type  # type: ignore[union-attr]
    if not is_leaf_type(leaf):
        return None
    return attrgetter(definition.python_name), leaf, non_null


ObjectPlan = tuple[tuple[str, LeafPlan], ...]
"""An object whose selected fields are all plain leaves: (response name, plan) in response order."""


def _plain_value(plan: LeafPlan, source: Any) -> Any:
    """The serialized value, or ``_UNKNOWN`` when anything is unusual: graphql-core's path then reads the
    attribute again (a plain read, no side effect) and reports the problem as it always does."""
    read, leaf, non_null = plan
    try:
        value = read(source)
        if value is None:
            return _UNKNOWN if non_null else None
        if value is Undefined or isinstance(value, Exception):
            return _UNKNOWN
        coerced = leaf.coerce_output_value(value)
    except Exception:  # raised again on graphql-core's path, and reported there
        return _UNKNOWN
    return _UNKNOWN if coerced is None or coerced is Undefined else coerced


def _helpers_without_cycle(executor: Any) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolver helpers (``info.async_helpers``) without its reference cycle: it builds them from
    two bound methods of the executor and keeps them on the executor, so every request's executor — and through
    its context the request's loaders, rows and pages — waited for the cyclic garbage collector, which took a
    sixth of the server's CPU at 32 requests in flight (bench/PERF-NOTES.md, seventh pass). ``gather`` needs
    no executor; ``track`` reaches it through a weak reference (it runs while the executor executes)."""
    track_work = WeakMethod(executor.track_async_work)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return gather_with_cancel(*values)

    def track(values: Sequence[Any]) -> None:
        method = track_work()
        if method is None:
            raise RuntimeError("async work tracked after its execution ended")
        method(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class LeafFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with the plain-leaf shortcuts (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers_without_cycle(self)
        manager = self.middleware_manager
        self.leaf_plans = plans_of(self.schema) if manager is None or not manager.middlewares else None
        self.object_plans: dict[int, tuple[object, ObjectPlan | None]] = {}

    def _leaf_plan(self, parent_type: GraphQLObjectType, field_name: str) -> LeafPlan | None:
        plans = self.leaf_plans
        assert plans is not None
        key = (parent_type.name, field_name)
        if key not in plans:
            plans[key] = leaf_plan(self.schema.get_field(parent_type, field_name))
        return plans[key]

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self.leaf_plans is not None:
            plan = self._leaf_plan(parent_type, field_details_list[0].node.name.value)
            if plan is not None:
                value = _plain_value(plan, source)
                if value is not _UNKNOWN:
                    return value
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _object_plan(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> ObjectPlan | None:
        """The plan for an object whose selected fields are all plain leaves (no fragment deferred), else None;
        worked out once per selection (graphql-core memoizes the collected fields the same way)."""
        grouped, defers, _forbidden = self.collect_subfields(return_type, field_details_list)
        known = self.object_plans.get(id(grouped))
        if known is not None and known[0] is grouped:
            return known[1]
        plan: ObjectPlan | None = None
        if not defers:
            leaves: list[tuple[str, LeafPlan]] = []
            for name, details in grouped.items():
                leaf = self._leaf_plan(return_type, details[0].node.name.value)
                if leaf is None:
                    break
                leaves.append((name, leaf))
            else:
                plan = tuple(leaves)
        self.object_plans[id(grouped)] = (grouped, plan)
        return plan

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """An object of plain leaves as one dict, without a field execution each."""
        if self.leaf_plans is not None and position_context is None:
            plan = self._object_plan(return_type, field_details_list)
            if plan is not None:
                completed = _plain_object(plan, return_type, info, result)
                if completed is not _UNKNOWN:
                    return completed
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        """A list of objects of plain leaves (a page's rows) in one loop: no response path, awaitable check and
        type dispatch per item. Any item the shortcut cannot answer (None included) sends the whole list down
        graphql-core's path, which reports it as before."""
        if self.leaf_plans is not None and position_context is None:
            object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
            if (
                isinstance(object_type, GraphQLObjectType)
                and self.get_stream_usage(field_details_list, path) is None
            ):
                plan = self._object_plan(object_type, field_details_list)
                if plan is not None:
                    items = items if isinstance(items, list) else list(items)
                    completed = [_plain_object(plan, object_type, info, item) for item in items]
                    if _UNKNOWN not in completed:
                        return completed
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )


def _plain_object(
    plan: ObjectPlan, object_type: GraphQLObjectType, info: GraphQLResolveInfo[Any], source: Any
) -> Any:
    """``source`` completed as a dict of its plain leaves, or ``_UNKNOWN`` (see ``_plain_value``)."""
    is_type_of = object_type.is_type_of
    if source is None or (is_type_of is not None and is_type_of(source, info) is not True):
        return _UNKNOWN
    completed: dict[str, Any] = {}
    for name, leaf in plan:
        value = _plain_value(leaf, source)
        if value is _UNKNOWN:
            return _UNKNOWN
        completed[name] = value
    return completed
