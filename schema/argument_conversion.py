"""GraphQL argument values to Python values, with the conversion worked out once per field.

strawberry's ``convert_arguments`` decides, for every argument of every call, what kind of type it converts
(``Maybe``, optional, list, scalar, enum, lazy, input object) and looks each GraphQL name up through the name
converter: about 45 Python calls for ``serviceRecords(first: 20, orderBy: [{…}])`` — more than the resolver's
own body (bench/PERF-NOTES.md, seventh pass). ``argument_converter`` makes those decisions once, when the
schema is built, and returns a function that only does the conversion: the same values strawberry's function
would produce, new objects each call (lists copied, input objects built anew: graphql-core hands every request
the same default values, which must not be changed in place).

Types with a conversion of their own (``Maybe``, ``GlobalID``, input types with ``from_input``, generic types) are not compiled: ``argument_converter`` returns None and the caller uses strawberry's function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import StrawberryArgument, _is_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
"""One argument's value (as graphql-core coerced it) to its Python value."""


class NotCompiled(Exception):
    """A type left to strawberry's own conversion."""


def argument_converter(
    arguments: list[StrawberryArgument], registry: Mapping[object, Any], config: StrawberryConfig
) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """The function from graphql-core's argument values to the resolver's keyword arguments, or None when an
    argument's type needs strawberry's own conversion."""
    try:
        plan = tuple(
            (
                config.name_converter.from_argument(argument),
                argument.python_name,
                _converter(argument.type, registry, config),
            )
            for argument in arguments
        )
    except NotCompiled:
        return None

    def convert(raw: dict[str, Any]) -> dict[str, Any]:
        return {python: conv(raw[name]) for name, python, conv in plan if name in raw}

    return convert


def _converter(
    type_: StrawberryType | type, registry: Mapping[object, Any], config: StrawberryConfig
) -> Convert:
    """The conversion of one value of ``type_``, as strawberry's ``convert_argument`` does it."""
    if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
        raise NotCompiled(type_)
    if isinstance(type_, LazyType):  # a type annotated by name: the schema is built, so it resolves
        return _converter(type_.resolve_type(), registry, config)
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, registry, config)  # None and UNSET pass through below
    if isinstance(type_, StrawberryList):
        of_type = type_.of_type
        inner = of_type.of_type if isinstance(of_type, StrawberryOptional) else of_type
        if inner is not GlobalID and _is_leaf_type(inner, registry):
            return _unless_missing(list)  # a copy: the value may be graphql-core's shared default
        item = _converter(of_type, registry, config)
        return _unless_missing(lambda values: [item(v) for v in values])
    if _is_leaf_type(type_, registry) or has_enum_definition(type_):
        return _same  # graphql-core parsed scalars and made enum members already
    if has_object_definition(type_):
        return _input_converter(type_, registry, config)
    raise NotCompiled(type_)  # generic, or anything strawberry handles some other way


def _input_converter(cls: Any, registry: Mapping[object, Any], config: StrawberryConfig) -> Convert:
    definition = cls.__strawberry_definition__
    if not definition.is_input or definition.from_input is not None or definition.is_graphql_generic:
        raise NotCompiled(cls)
    defaults = {  # every nullable field without a default is None unless given (strawberry's rule)
        field.python_name: None
        for field in definition.fields
        if field.default_value is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    fields = tuple(
        (
            config.name_converter.from_field(field),
            field.python_name,
            _converter(field.resolve_type(type_definition=definition), registry, config),
        )
        for field in definition.fields
    )

    def build(value: Mapping[str, Any]) -> Any:
        kwargs = dict(defaults)
        for name, python, conv in fields:
            if name in value:
                kwargs[python] = conv(value[name])
        return cls(**kwargs)

    return _unless_missing(build)


def _same(value: Any) -> Any:
    return value


def _unless_missing(convert: Convert) -> Convert:
    """``convert`` for values; None (null) and UNSET (omitted) as they are."""

    def guarded(value: Any) -> Any:
        return value if value is None or value is UNSET else convert(value)

    return guarded
