"""The plain-leaf shortcut (schema/leaf_fields.py) answers exactly what graphql-core's own path answers: the
same data and the same errors, on the demo data through the HTTP app and on a small schema built to fail."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, NewType

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.assembly import schema as app_schema
from schema.leaf_fields import LeafFieldExecutionContext, leaf_plan
from schema.lean_resolvers import STRAWBERRY_RESOLVE, lean_resolvers, restore_strawberry
from tests.conftest import Api

WIDE = """
query Wide {
  viewer { username volunteer { volunteerNumber name sex realNameStatus idType skills availability createdAt
    age noShowCount guardianRelation totalHours recordCount starLevel hoursToNextStar
    region { code name level parentCode retiredYear }
    serviceRecords(first: 30) { totalCount nodes { id __typename category serviceDate startedAt endedAt hours
      content provenance status voidReason declineReason createdAt confirmedAt } }
    signUps(first: 10) { nodes { status createdAt decidedAt cancelledAt reason
      post { name quota taken available startsAt endsAt } } }
    certificates(first: 5) { nodes { number periodStart periodEnd totalHours status issuedAt revokedAt } } } }
}
"""
ADMIN = """
query Admin($withRegion: Boolean!) {
  teams(first: 20) { totalCount nodes { name teamType creditCode verificationStatus status legalVerification
    reviewReason reviewedAt createdAt region @include(if: $withRegion) { name }
    projects(first: 5) { nodes { ...P again: name } } } }
  volunteers(first: 20) { nodes { volunteerNumber name realNameStatus createdAt count: recordCount } }
  serviceRecords(first: 20) { nodes { serviceDate hours status confirmedAt provenance } }
}
fragment P on Project { name category serviceTarget startsAt endsAt minAge maxAge insured signupScope
  requiresApproval requiresAttendance status publishedAt submittedAt closedAt statusReason }
"""


@pytest.fixture
def stock_executor() -> Iterator[None]:
    """The app's schema runs graphql-core's own field path and strawberry's own resolver wrapper while the
    fixture is active."""
    shortcut = app_schema.execution_context_class
    app_schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    restore_strawberry(app_schema)
    try:
        yield
    finally:
        app_schema.execution_context_class = shortcut
        lean_resolvers(app_schema)


@pytest.mark.parametrize(
    ("who", "query", "variables"),
    [
        ("demo_volunteer", WIDE, {}),
        ("demo_team", ADMIN, {"withRegion": True}),
        ("demo_lixia", ADMIN, {"withRegion": False}),
        ("demo_ministry", ADMIN, {"withRegion": True}),
    ],
)
async def test_app_answers_match_the_stock_executor(
    api: Api, tokens: dict[str, str], who: str, query: str, variables: dict[str, Any], request: Any
) -> None:
    client = api.as_(tokens[who])
    assert app_schema.execution_context_class is LeafFieldExecutionContext
    shortcut = await client.gql(query, variables)
    request.getfixturevalue("stock_executor")
    stock = await client.gql(query, variables)
    assert shortcut == stock
    assert "errors" not in shortcut, shortcut["errors"]
    assert shortcut["data"]


def test_plans_cover_plain_leaves_only() -> None:
    types = app_schema._schema.type_map

    def field(type_name: str, name: str) -> Any:
        return types[type_name].fields[name]  # type: ignore[attr-defined]

    assert leaf_plan(field("ServiceRecord", "hours")) is not None  # a custom scalar, non-null
    assert leaf_plan(field("ServiceRecord", "status")) is not None  # an enum
    assert leaf_plan(field("ServiceRecord", "confirmedAt")) is not None  # nullable
    assert leaf_plan(field("Volunteer", "idNumber")) is None  # guarded by @sensitive (a field extension)
    assert leaf_plan(field("Volunteer", "totalHours")) is None  # has a resolver
    assert leaf_plan(field("Volunteer", "region")) is None  # an object
    assert leaf_plan(field("Volunteer", "skills")) is None  # a list


def test_simple_resolvers_only_are_called_directly() -> None:
    types = app_schema._schema.type_map

    def leaned(type_name: str, name: str) -> bool:
        return STRAWBERRY_RESOLVE in types[type_name].fields[name].extensions  # type: ignore[attr-defined]

    assert leaned("Volunteer", "totalHours")  # sync, self and info
    assert leaned("Volunteer", "age")  # sync, self only
    assert leaned("Volunteer", "serviceRecords")  # async, with arguments
    assert leaned("ServiceRecordConnection", "nodes")
    assert not leaned("Volunteer", "idNumber")  # guarded by @sensitive (a field extension)
    assert not leaned("Query", "volunteers")  # guarded by @requires
    assert not leaned("Volunteer", "name")  # no resolver: the plain-leaf path's


# --- a schema built to fail in every way a leaf can -----------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


def _refuse(value: Any) -> Any:
    if value == "bad":
        raise ValueError("refused to serialize")
    return value


Fussy = NewType("Fussy", str)
FUSSY = strawberry.scalar(name="Fussy", serialize=_refuse, parse_value=str)


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Thing:
    label: str
    maybe: str | None
    required: str  # set to None below: a non-null field holding null
    colour: Colour
    wrong_colour: Colour
    fussy: Fussy
    amount: Decimal
    failure: str  # holds an exception instance
    secret: str | None = strawberry.field(
        extensions=[PermissionExtension(permissions=[Never()], fail_silently=False)]
    )

    @strawberry.field
    async def repeat(self, colours: list[Colour], times: int = 2) -> str:
        """Arguments converted as strawberry converts them (enums in a list, a default)."""
        return ",".join(c.name for c in colours) * times

    @strawberry.field
    def shout(self, info: strawberry.Info) -> str | None:
        """A simple resolver (called directly) that fails: reported at its own path, the thing kept."""
        raise ValueError(f"nothing to shout at {info.path.as_list()}")


class Broken:
    """An object whose attribute raises when read."""

    @property
    def label(self) -> str:
        raise RuntimeError("cannot read label")


def _things() -> list[Any]:
    good = Thing(
        label="a",
        maybe=None,
        required="r",
        colour=Colour.RED,
        wrong_colour=Colour.RED,
        fussy=Fussy("fine"),
        amount=Decimal("1.50"),
        failure="ok",
        secret="s",
    )

    def spoilt(**changes: Any) -> Thing:
        return dataclasses.replace(good, **changes)

    return [
        good,
        spoilt(required=None),
        spoilt(wrong_colour="PURPLE"),
        spoilt(fussy=Fussy("bad")),
        spoilt(failure=ValueError("stored failure")),
        Broken(),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return _things()

    @strawberry.field
    def good_things(self) -> list[Thing]:
        return [_things()[0]] * 3

    @strawberry.field
    def with_gaps(self) -> list[Thing | None]:
        return [_things()[0], None, _things()[0]]

    @strawberry.field
    def gap_in_non_null(self) -> list[Thing]:
        return [_things()[0], None]  # type: ignore[list-item]


class Middle(SchemaExtension):
    """Any ``resolve`` hook turns the shortcut off: it must see every field."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) and info.field_name == "label" else value


FIELDS = (
    "{ things { label maybe required colour wrongColour fussy amount failure secret again: label shout } }"
)
LEAVES_ONLY = "{ things { label maybe required colour wrongColour fussy amount failure again: label } }"
"""Every selected field a plain leaf: each object is completed in one go (``complete_object_value``)."""


def _run(
    execution_context_class: Any, extensions: list[Any] | None = None, query: str = FIELDS
) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=Query,
        extensions=extensions or [],
        execution_context_class=execution_context_class,
        config=StrawberryConfig(scalar_map={Fussy: FUSSY}),
    )
    if execution_context_class is LeafFieldExecutionContext:  # the app's schema has both shortcuts
        assert "Query.things" in lean_resolvers(schema)
    result = asyncio.run(schema.execute(query))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return {"data": result.data, "errors": errors}


def test_failing_leaves_report_as_the_stock_executor_does() -> None:
    shortcut = _run(LeafFieldExecutionContext)
    stock = _run(StrawberryGraphQLCoreExecutionContext)
    assert shortcut == stock
    messages = " | ".join(message for message, _ in stock["errors"])
    for expected in (
        "Cannot return null for non-nullable field Thing.required",
        "refused to serialize",
        "stored failure",
        "cannot read label",
        "not for you",
        "nothing to shout",
        "Enum 'Colour' cannot represent value: 'PURPLE'",
    ):
        assert expected in messages
    assert shortcut["data"]["things"][0]["label"] == "a"


@pytest.mark.parametrize("query", [FIELDS, LEAVES_ONLY])
def test_objects_of_plain_leaves_complete_as_the_stock_executor_does(query: str) -> None:
    assert _run(LeafFieldExecutionContext, query=query) == _run(
        StrawberryGraphQLCoreExecutionContext, query=query
    )


def test_an_object_of_plain_leaves_executes_no_field_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[str] = []
    field_path = LeafFieldExecutionContext.execute_field

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        executed.append(f"{parent_type.name}.{details[0].node.name.value}")
        return field_path(self, parent_type, source, details, *rest)

    monkeypatch.setattr(LeafFieldExecutionContext, "execute_field", spy)
    result = _run(LeafFieldExecutionContext, query=LEAVES_ONLY)
    # the good thing (index 0) is one dict; the spoilt ones go field by field to report their errors
    assert result["data"]["things"][0] == {
        "label": "a",
        "maybe": None,
        "required": "r",
        "colour": "RED",
        "wrongColour": "RED",
        "fussy": "fine",
        "amount": "1.50",
        "failure": "ok",
        "again": "a",
    }
    assert executed.count("Query.things") == 1
    assert executed.count("Thing.label") == 5  # one per spoilt thing, none for the good one


def test_a_resolve_hook_sees_every_field() -> None:
    shortcut = _run(LeafFieldExecutionContext, [Middle])
    assert shortcut == _run(StrawberryGraphQLCoreExecutionContext, [Middle])
    assert shortcut["data"]["things"][0]["label"] == "A"


LISTS = "{ goodThings { label amount colour } withGaps { label maybe } }"
GAP = "{ gapInNonNull { label } }"


def test_lists_of_plain_objects_complete_as_the_stock_executor_does() -> None:
    """A list of plain objects is completed in one loop; a None item (allowed or not) sends the list down
    graphql-core's path."""
    shortcut = _run(LeafFieldExecutionContext, query=LISTS)
    assert shortcut == _run(StrawberryGraphQLCoreExecutionContext, query=LISTS)
    assert shortcut["data"]["goodThings"] == [{"label": "a", "amount": "1.50", "colour": "RED"}] * 3
    assert shortcut["data"]["withGaps"] == [
        {"label": "a", "maybe": None},
        None,
        {"label": "a", "maybe": None},
    ]
    assert not shortcut["errors"]
    gap = _run(LeafFieldExecutionContext, query=GAP)
    assert gap == _run(StrawberryGraphQLCoreExecutionContext, query=GAP)
    assert gap["data"] is None  # the non-null list's null item: null up to the root
    assert [path for _, path in gap["errors"]] == [("gapInNonNull", 1)]


def test_a_list_of_plain_objects_executes_no_field_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    executed: list[str] = []
    field_path = LeafFieldExecutionContext.execute_field
    item_path = LeafFieldExecutionContext.complete_list_item_value

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        executed.append(f"{parent_type.name}.{details[0].node.name.value}")
        return field_path(self, parent_type, source, details, *rest)

    def item_spy(self: Any, *args: Any) -> Any:
        executed.append("item")
        return item_path(self, *args)

    monkeypatch.setattr(LeafFieldExecutionContext, "execute_field", spy)
    monkeypatch.setattr(LeafFieldExecutionContext, "complete_list_item_value", item_spy)
    result = _run(LeafFieldExecutionContext, query="{ goodThings { label amount } }")
    assert result["data"]["goodThings"] == [{"label": "a", "amount": "1.50"}] * 3
    assert executed == ["Query.goodThings"]
