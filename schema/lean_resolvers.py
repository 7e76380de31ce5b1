"""Resolvers without field extensions called directly, without strawberry's general wrapper.

strawberry wraps every resolver in one function that serves all of them: it converts the GraphQL arguments
to Python values, runs the field extensions around the call, and injects ``self``, ``info``, ``root`` — about
ten Python calls before the resolver's own body. For a field with no field extension (so no permission
check) and no ``root``/``parent`` parameter, all that is left to do is converting the arguments (with a
converter compiled for the field, schema/argument_conversion.py, or strawberry's own ``convert_arguments`` for
the types it does not compile) and passing ``self`` and ``info``: ``Volunteer.totalHours``,
``serviceRecords(first:, orderBy:)``, a connection's ``nodes`` and ``totalCount``. ``lean_resolvers()`` gives
such fields a resolve function that does exactly that (bench/PERF-NOTES.md, sixth pass).

Fields with extensions stay on strawberry's path, and graphql-core still runs every field the same way: it
builds the resolve info, coerces the arguments, awaits what the resolver returns when that is awaitable,
completes the value and reports errors. tests/test_leaf_fields.py compares the app's answers with and without
this.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry import Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from schema.argument_conversion import argument_converter

Convert = Callable[[dict[str, Any], Any], dict[str, Any]]
"""graphql-core's argument values and strawberry's info to the resolver's keyword arguments."""

STRAWBERRY_RESOLVE = "zhiyuan.strawberry_resolve"
"""Key in a leaned field's ``extensions``: strawberry's own resolve function (``restore_strawberry``)."""


def lean_resolvers(schema: Schema) -> list[str]:
    """Give every simple resolver field of ``schema`` a direct resolve function; their ``Type.field`` names."""
    if schema.schema_converter.exception_handlers:  # strawberry's wrapper would route errors to them
        return []
    info_class = schema.config.info_class
    registry, config = schema.schema_converter.scalar_registry, schema.config

    def converter(arguments: list[Any]) -> Convert:
        """The field's compiled converter, or strawberry's conversion for the types it does not compile."""
        compiled = argument_converter(arguments, registry, config)
        if compiled is not None:
            return lambda raw, info: compiled(raw)
        return lambda raw, info: convert_arguments(
            raw, arguments, scalar_registry=registry, config=config, info=info
        )

    leaned: list[str] = []
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for name, field_def in graphql_type.fields.items():
            if STRAWBERRY_RESOLVE in field_def.extensions:  # leaned already
                continue
            resolve = _direct(field_def, info_class, converter)
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


def _direct(
    field_def: GraphQLField,
    info_class: type[Any],
    converter: Callable[[list[Any]], Convert],
) -> Callable[..., Any] | None:
    """The direct resolve function for a simple resolver field (module docstring), else None."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field.extensions:
        return None
    resolver = field.base_resolver
    if resolver is None or resolver.root_parameter or resolver.parent_parameter:
        return None
    function = resolver.wrapped_func
    if (
        not callable(function)
        or inspect.isgeneratorfunction(function)
        or inspect.isasyncgenfunction(function)
    ):
        return None
    arguments = field.arguments
    reserved = {p.name for p in (resolver.self_parameter, resolver.info_parameter) if p is not None}
    if (
        {p.name for p in resolver.signature.parameters.values()}
        - reserved
        - {a.python_name for a in arguments}
    ):
        return None  # a parameter strawberry would fill some other way
    takes_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    convert = converter(arguments)

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **raw: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        kwargs = convert(raw, strawberry_info) if raw else {}
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return function(source, **kwargs) if takes_self else function(**kwargs)

    if arguments or info_name is not None:
        return resolve
    if takes_self:
        return lambda source, info: function(source)
    return lambda source, info: function()
