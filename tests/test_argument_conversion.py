"""The compiled argument converters (schema/argument_conversion.py) give what strawberry's own conversion gives,
for every argument of every field of the app's schema, and never hand out graphql-core's values."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
from strawberry import relay
from strawberry.annotation import StrawberryAnnotation
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument, _is_leaf_type, convert_arguments
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from schema.argument_conversion import argument_converter
from schema.assembly import schema as app_schema
from schema.lean_resolvers import lean_resolvers

REGISTRY = app_schema.schema_converter.scalar_registry
CONFIG = app_schema.config


def _arguments() -> Iterator[tuple[str, list[StrawberryArgument]]]:
    for graphql_type in app_schema._schema.type_map.values():
        if graphql_type.name.startswith("__") or not hasattr(graphql_type, "fields"):
            continue
        for name, field_def in graphql_type.fields.items():
            field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if isinstance(field, StrawberryField) and field.arguments:
                yield f"{graphql_type.name}.{name}", field.arguments


class Leaf:
    """A scalar or enum value as graphql-core hands it over: passed on as it is, so compared by identity."""

    _ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(self._ids)

    def __repr__(self) -> str:
        return f"Leaf({self.id})"


def _samples(type_: Any, depth: int = 0) -> list[Any]:
    """Values of ``type_`` as graphql-core coerces them: all fields given, optional ones null or omitted."""
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    if isinstance(type_, StrawberryOptional):
        return [*_samples(type_.of_type, depth), None]
    if isinstance(type_, StrawberryList):
        return [[], [_samples(type_.of_type, depth)[0], _samples(type_.of_type, depth)[-1]]]
    if _is_leaf_type(type_, REGISTRY) or not has_object_definition(type_):
        return [Leaf()]
    definition = type_.__strawberry_definition__
    full: dict[str, Any] = {}
    sparse: dict[str, Any] = {}
    for field in definition.fields:
        field_type = field.resolve_type(type_definition=definition)
        name = CONFIG.name_converter.from_field(field)
        if depth > 3 and isinstance(field_type, StrawberryOptional):
            continue
        options = _samples(field_type, depth + 1)
        full[name] = options[0]
        if not isinstance(field_type, StrawberryOptional):
            sparse[name] = options[-1]
    return [full, sparse]


def _shape(value: Any) -> Any:
    """A converted value for comparison: input objects as (class, fields), leaves by identity."""
    if isinstance(value, list):
        return ["list", [_shape(v) for v in value]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value), {f.name: _shape(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, Leaf):
        return ["leaf", id(value)]
    return value


def _containers(value: Any) -> Iterator[int]:
    if isinstance(value, list):
        yield id(value)
        for item in value:
            yield from _containers(item)
    elif isinstance(value, dict):
        yield id(value)
        for item in value.values():
            yield from _containers(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _containers(getattr(value, f.name))


ARGUMENTS = sorted(_arguments(), key=lambda pair: pair[0])


def test_every_argument_of_the_schema_is_compiled() -> None:
    assert len(ARGUMENTS) > 50
    left = [name for name, arguments in ARGUMENTS if argument_converter(arguments, REGISTRY, CONFIG) is None]
    assert left == []


@pytest.mark.parametrize(("field", "arguments"), ARGUMENTS, ids=[name for name, _ in ARGUMENTS])
def test_compiled_conversion_matches_strawberry(field: str, arguments: list[StrawberryArgument]) -> None:
    compiled = argument_converter(arguments, REGISTRY, CONFIG)
    assert compiled is not None
    per_argument = [(CONFIG.name_converter.from_argument(a), _samples(a.type)) for a in arguments]
    for variant in range(max(len(samples) for _, samples in per_argument)):
        raw = {name: samples[min(variant, len(samples) - 1)] for name, samples in per_argument}
        if variant % 2:
            raw.pop(per_argument[0][0])  # an argument left out
        expected = convert_arguments(raw, arguments, scalar_registry=REGISTRY, config=CONFIG)
        got = compiled(raw)
        assert _shape(got) == _shape(expected), (field, raw)
        shared = set(_containers(raw)) & set(_containers(got))
        assert not shared, f"{field}: a list or dict of graphql-core's value handed to the resolver"


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.input
class Inner:
    colours: list[Colour]
    note: str | None
    count: int = 3


@strawberry.input
class Outer:
    inner: Inner
    inners: list[Inner] | None = strawberry.UNSET
    tags: list[str | None] | None = None


def test_null_omitted_and_defaults_as_strawberry_gives_them() -> None:
    arguments = [
        StrawberryArgument("outer", "outer", StrawberryAnnotation(Outer)),
        StrawberryArgument("many", "many", StrawberryAnnotation(list[Outer] | None)),
    ]
    compiled = argument_converter(arguments, REGISTRY, CONFIG)
    assert compiled is not None
    shared_default = ["a", None]
    raws: list[dict[str, Any]] = [
        {"outer": {"inner": {"colours": [Colour.RED]}}},
        {"outer": {"inner": {"colours": [], "note": None, "count": 5}, "tags": shared_default}, "many": None},
        {"outer": {"inner": {"colours": [Colour.RED]}, "inners": [{"colours": []}]}, "many": []},
        {"many": [{"inner": {"colours": [Colour.RED], "note": "n"}, "inners": None}]},
    ]
    for raw in raws:
        expected = convert_arguments(raw, arguments, scalar_registry=REGISTRY, config=CONFIG)
        got = compiled(raw)
        assert got == expected
        assert _shape(got) == _shape(expected)
    got = compiled(raws[1])
    assert got["outer"].tags == shared_default and got["outer"].tags is not shared_default
    assert got["outer"].inners is UNSET


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echo(self, note: strawberry.Maybe[str | None] = None, ref: relay.GlobalID | None = None) -> str:
        shown = "absent" if note is None else repr(note.value)
        return f"{shown} {ref.node_id if ref else '-'}"


def test_types_left_to_strawberry_are_converted_by_strawberry() -> None:
    """``Maybe`` and ``GlobalID`` arguments: the field is still called directly, strawberry converts them."""
    arguments = EchoQuery.__strawberry_definition__.fields[0].arguments
    assert argument_converter(arguments, REGISTRY, CONFIG) is None
    schema = strawberry.Schema(query=EchoQuery)
    assert "EchoQuery.echo" in lean_resolvers(schema)
    ref = relay.GlobalID("Thing", "7")
    result = asyncio.run(
        schema.execute(f'{{ a: echo(note: "x", ref: "{ref}") b: echo(note: null) c: echo }}')
    )
    assert result.errors is None, result.errors
    assert result.data == {"a": "'x' 7", "b": "None -", "c": "absent -"}
