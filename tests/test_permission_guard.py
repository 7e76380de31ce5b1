"""Static guard: every root field says who may use it, and every root list of rows is scoped.

Checked twice for each field — the enforcing extension on the strawberry field (``Auth`` inside a
``PermissionExtension``, ``InJurisdiction``) and the directive it documents in the printed SDL (``@auth``,
``@inJurisdiction``) — so neither can drift from the other. The checker is also run on a deliberately broken
schema, to show that it would notice.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, ObjectTypeDefinitionNode, get_named_type, parse
from strawberry.federation import Schema
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from schema import schema
from schema.context import Info
from schema.directives import Requirement
from schema.pagination import Connection
from schema.permissions import Auth, InJurisdiction, in_jurisdiction, requires
from schema.types.region import Region

ROOTS = ("Query", "Mutation")
PUBLIC_LISTS = {"regions", "publicProjects"}
"""Root connections of public data (the region tree, published projects), exempt from @inJurisdiction."""
PUBLIC_FIELDS = {
    "region",
    "regions",
    "node",
    "nodes",
    "viewer",
    "login",
    "refreshTokens",
    "logout",
    "registerVolunteer",
    "defaultProvinceStatus",
    "verifyCertificate",
    "certificateSigningKey",
    "publicProjects",
}
"""Root fields anonymous viewers may use; node/nodes find only what the viewer's scope allows."""
FEDERATION_BUILTINS = {
    "_service": "the SDL, public by the federation spec (introspection shows the same)",
    "_entities": "resolve_reference of each @key type goes through the scoped by-key loader "
    "(tests/test_federation_entities.py, tests/test_impossible_scope.py)",
}
"""Root fields strawberry's federation adds, which cannot carry extensions: reviewed here one by one."""


def _requirements(field: StrawberryField) -> list[Requirement] | None:
    """What the field's ``Auth`` permission requires, or None when it has none."""
    for extension in field.extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, Auth):
                    return list(permission.requires)
    return None


def _sdl_directives(target: Schema) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for definition in parse(target.as_str()).definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value in ROOTS:
            for field in definition.fields or ():
                found[(definition.name.value, field.name.value)] = {
                    d.name.value for d in field.directives or ()
                }
    return found


def _is_connection(graphql: GraphQLSchema, root: str, name: str) -> bool:
    root_type = graphql.get_type(root)
    assert isinstance(root_type, GraphQLObjectType)
    named = get_named_type(root_type.fields[name].type)
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= set(named.fields)


def root_fields(target: Schema) -> list[tuple[str, str, StrawberryField]]:
    fields: list[tuple[str, str, StrawberryField]] = []
    for root in ROOTS:
        definition: Any = target.get_type_by_name(root)
        for field in definition.fields if definition is not None else ():
            fields.append((root, target.config.name_converter.from_field(field), field))
    return fields


def problems(target: Schema) -> list[str]:
    """Everything wrong with the root fields' permission declarations, one line each."""
    found: list[str] = []
    sdl = _sdl_directives(target)
    for root, name, field in root_fields(target):
        where = f"{root}.{name}"
        if name in FEDERATION_BUILTINS:
            continue
        requirements = _requirements(field)
        if requirements is None:
            found.append(f"{where}: no @auth permission extension")
        if "auth" not in sdl.get((root, name), set()):
            found.append(f"{where}: no @auth directive in the SDL")
        if requirements == [Requirement.PUBLIC] and name not in PUBLIC_FIELDS:
            found.append(f"{where}: public but not in PUBLIC_FIELDS")
        if _is_connection(target._schema, root, name) and name not in PUBLIC_LISTS:
            if not any(isinstance(e, InJurisdiction) for e in field.extensions):
                found.append(f"{where}: a list of rows without the in_jurisdiction() extension")
            if "inJurisdiction" not in sdl.get((root, name), set()):
                found.append(f"{where}: a list of rows without @inJurisdiction in the SDL")
    return found


def test_every_root_field_declares_its_permissions() -> None:
    assert problems(schema) == []


def test_allow_lists_name_real_fields() -> None:
    names = {name for _, name, _ in root_fields(schema)}
    assert PUBLIC_LISTS <= PUBLIC_FIELDS <= names
    assert {n for n in names if n.startswith("_")} == set(FEDERATION_BUILTINS), "review the new built-in"
    assert all(_is_connection(schema._schema, "Query", n) for n in PUBLIC_LISTS)


def test_the_guard_notices_a_bare_field_and_an_unscoped_list() -> None:
    @strawberry.type
    class Broken:
        @strawberry.field(description="未声明权限")
        def bare(self) -> str:
            return ""

        @strawberry.field(description="未过滤", extensions=[requires(Requirement.AUTHENTICATED)])
        async def unscoped(self, info: Info) -> Connection[Region]:
            raise NotImplementedError

        @strawberry.field(description="公开", extensions=[requires(Requirement.PUBLIC), in_jurisdiction()])
        async def opened(self, info: Info) -> Connection[Region]:
            raise NotImplementedError

    assert problems(Schema(query=Broken)) == [
        "Query.bare: no @auth permission extension",
        "Query.bare: no @auth directive in the SDL",
        "Query.unscoped: a list of rows without the in_jurisdiction() extension",
        "Query.unscoped: a list of rows without @inJurisdiction in the SDL",
        "Query.opened: public but not in PUBLIC_FIELDS",
    ]
