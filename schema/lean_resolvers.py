"""Simple resolvers called directly, without strawberry's general wrapper.

strawberry wraps every resolver in one function that serves all of them: it converts the GraphQL arguments
to Python values, runs the field extensions around the call, and injects ``self``, ``info``, ``root`` — about
ten Python calls before the resolver's own body. For a field with none of that to do — a synchronous resolver
with no arguments, no field extension (so no permission check), no ``root``/``parent`` parameter — those calls
only pass ``self`` and ``info`` along: ``Volunteer.totalHours``, ``starLevel``, a connection's ``nodes`` and
``totalCount``, ``PageInfo``. ``lean_resolvers()`` gives such fields a resolve function that makes the same
call straight away (bench/PERF-NOTES.md, sixth pass).

Everything else stays on strawberry's path, and graphql-core still runs each field the same way: it builds
the resolve info, awaits what the resolver returns when that is awaitable, completes the value and reports
errors. tests/test_leaf_fields.py compares the app's answers with and without this.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry import Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

STRAWBERRY_RESOLVE = "zhiyuan.strawberry_resolve"
"""Key in a leaned field's ``extensions``: strawberry's own resolve function (``restore_strawberry``)."""


def lean_resolvers(schema: Schema) -> list[str]:
    """Give every simple resolver field of ``schema`` a direct resolve function; their ``Type.field`` names."""
    if schema.schema_converter.exception_handlers:  # strawberry's wrapper would route errors to them
        return []
    info_class = schema.config.info_class
    leaned: list[str] = []
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, field_def in graphql_type.fields.items():
            resolve = _direct(field_def, info_class)
            if resolve is not None:
                field_def.extensions = {**field_def.extensions, STRAWBERRY_RESOLVE: field_def.resolve}
                field_def.resolve = resolve
                leaned.append(f"{graphql_type.name}.{name}")
    return leaned


def restore_strawberry(schema: Schema) -> None:
    """Put strawberry's resolve functions back (tests compare both)."""
    for graphql_type in schema._schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            for field_def in graphql_type.fields.values():
                original = field_def.extensions.get(STRAWBERRY_RESOLVE)
                if original is not None:
                    field_def.resolve = original
                    field_def.extensions = {
                        k: v for k, v in field_def.extensions.items() if k != STRAWBERRY_RESOLVE
                    }


def _direct(field_def: GraphQLField, info_class: type[Any]) -> Callable[..., Any] | None:
    """The direct resolve function for a simple resolver field (module docstring), else None."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field_def.args or field.extensions:
        return None
    resolver = field.base_resolver
    if resolver is None or resolver.is_async or resolver.root_parameter or resolver.parent_parameter:
        return None
    function = resolver.wrapped_func
    if (
        not callable(function)
        or inspect.isgeneratorfunction(function)
        or inspect.isasyncgenfunction(function)
    ):
        return None
    wanted = {p.name for p in resolver.signature.parameters.values()}
    takes_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    if wanted - {info_name} - ({resolver.self_parameter.name} if resolver.self_parameter else set()):
        return None  # a parameter strawberry would fill some other way

    if takes_self and info_name is not None:
        key = info_name

        def resolve_with_info(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
            return function(source, **{key: info_class(_raw_info=info, _field=field)})

        return resolve_with_info
    if takes_self:
        return lambda source, info: function(source)
    if info_name is not None:
        key = info_name
        return lambda source, info: function(**{key: info_class(_raw_info=info, _field=field)})
    return lambda source, info: function()
