"""Execution of plain leaf fields without graphql-core's general machinery.

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

Anything unusual — the attribute raising, a value that is an exception, ``None`` for a non-null field, a
scalar refusing to serialize the value — goes back to graphql-core's own path, which reads the attribute again
(a plain read, no side effect) and reports the error exactly as it always did. Results are identical to the
stock executor's; tests/test_leaf_fields.py compares both on the demo data, for several roles, and on a schema
built to fail in each of those ways.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
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
    leaf = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
    if not is_leaf_type(leaf):
        return None
    return attrgetter(definition.python_name), leaf, non_null


class LeafFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with the plain-leaf shortcut (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.leaf_plans = plans_of(self.schema) if manager is None or not manager.middlewares else None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        plans = self.leaf_plans
        if plans is not None:
            key = (parent_type.name, field_details_list[0].node.name.value)
            plan = plans.get(key, _UNKNOWN)
            if plan is _UNKNOWN:
                plan = plans[key] = leaf_plan(self.schema.get_field(parent_type, key[1]))
            if plan is not None:
                # Anything but a plain value goes to graphql-core's path below, which reads the attribute again
                # and reports the problem as it always does.
                read, leaf, non_null = plan
                try:
                    value = read(source)
                    if value is None:
                        if not non_null:
                            return None
                    elif value is not Undefined and not isinstance(value, Exception):
                        coerced = leaf.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # raised again below, and reported there
                    pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
