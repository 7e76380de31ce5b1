"""The committed SDL is current, every type and field is described with its Chinese term, and the
federation SDL carries the permission directives."""

import re
from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from schema import schema
from tests.conftest import Api

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
BUILTIN_PREFIXES = ("__", "_")
EXEMPT_TYPES = {"Query", "Mutation", "Node", "link__Purpose"}  # roots, relay and federation built-ins
EXEMPT_FIELDS = {"id"}  # the relay global ID, described by strawberry


def test_schema_graphql_is_current() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "schema.graphql drifted: run `make schema` and commit it"


def test_every_type_and_field_has_a_chinese_description() -> None:
    missing: list[str] = []
    for name, gtype in schema._schema.type_map.items():
        if name.startswith(BUILTIN_PREFIXES) or not isinstance(
            gtype, GraphQLObjectType | GraphQLInputObjectType | GraphQLEnumType | GraphQLInterfaceType
        ):
            continue
        if name not in EXEMPT_TYPES and not CJK.search(gtype.description or ""):
            missing.append(name)
        if isinstance(gtype, GraphQLEnumType):
            continue
        for field_name, field in gtype.fields.items():
            if field_name.startswith("_") or field_name in EXEMPT_FIELDS:
                continue
            if not CJK.search(field.description or ""):
                missing.append(f"{name}.{field_name}")
    assert not missing, f"no Chinese description: {missing}"


async def test_federation_sdl_carries_permission_directives(api: Api) -> None:
    sdl = (await api.data("{ _service { sdl } }"))["_service"]["sdl"]
    assert "@auth(requires:" in sdl
    assert "@inJurisdiction" in sdl
    assert "@sensitive(kind: ID_NUMBER)" in sdl
    assert "@composeDirective" in sdl
