"""A second, tiny federation v2 subgraph for the composition and gateway tests: an insurer's and trainer's view.

It extends Zhiyuan's entities by key only (it knows nothing else about them):

* ``Volunteer`` (key ``id``) gains ``insurancePolicies``; ``Team`` (key ``id``) gains ``trainingSessions``.
  The data is fake but deterministic, computed from the entity id.
* ``policiesExpiringSoon`` is a root field of its own whose policies point back at ``volunteer: Volunteer``:
  the gateway has to ask Zhiyuan's ``_entities`` for anything beyond the id.

Every HTTP request it serves is recorded (``Authorization`` header and query text) so a test can prove the
gateway forwards the caller's token to subgraphs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import Info

INSURERS = ("中国人寿", "中国平安", "中国人保", "太平洋保险")
TRAININGS = ("应急救护", "消防安全", "心理疏导", "防汛救灾", "志愿服务通识")
_EPOCH = date(2026, 1, 1)


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


@strawberry.type(description="Accident insurance covering a volunteer's service (志愿者保险)")
class InsurancePolicy:
    policy_number: str
    insurer: str
    valid_from: date
    valid_to: date
    volunteer_id: strawberry.Private[str]

    @strawberry.field(description="The insured volunteer, resolved by the subgraph that owns it")
    def volunteer(self) -> Volunteer | None:
        return Volunteer(id=strawberry.ID(self.volunteer_id))


@strawberry.type(description="A training session a team held (培训记录)")
class TrainingSession:
    title: str
    held_on: date
    hours: int


def policies_of(volunteer_id: str) -> list[InsurancePolicy]:
    """One or two policies per volunteer, a function of the id alone."""
    count = 1 + _digest(volunteer_id, "count") % 2
    policies = []
    for n in range(count):
        h = _digest(volunteer_id, str(n))
        valid_from = _EPOCH + timedelta(days=h % 180 - 365 * n)
        policies.append(
            InsurancePolicy(
                policy_number=f"PA{h % 10**12:012d}",
                insurer=INSURERS[h % len(INSURERS)],
                valid_from=valid_from,
                valid_to=valid_from + timedelta(days=364),
                volunteer_id=volunteer_id,
            )
        )
    return policies


def trainings_of(team_id: str) -> list[TrainingSession]:
    count = 1 + _digest(team_id, "count") % 3
    sessions = []
    for n in range(count):
        h = _digest(team_id, "training", str(n))
        sessions.append(
            TrainingSession(
                title=TRAININGS[h % len(TRAININGS)],
                held_on=_EPOCH + timedelta(days=h % 300),
                hours=2 + h % 6,
            )
        )
    return sessions


@strawberry.federation.type(keys=["id"])
class Volunteer:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Volunteer:
        seen: Seen = info.context["seen"]
        seen.entities.append(("Volunteer", str(id)))
        return cls(id=id)

    @strawberry.field(description="The volunteer's insurance policies (保险保单)")
    def insurance_policies(self) -> list[InsurancePolicy]:
        return policies_of(str(self.id))


@strawberry.federation.type(keys=["id"])
class Team:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Team:
        seen: Seen = info.context["seen"]
        seen.entities.append(("Team", str(id)))
        return cls(id=id)

    @strawberry.field(description="Training sessions the team held (培训记录)")
    def training_sessions(self) -> list[TrainingSession]:
        return trainings_of(str(self.id))


@strawberry.type
class Query:
    @strawberry.field(description="Policies of the insurer's book that end soon (即将到期的保单)")
    def policies_expiring_soon(self, info: Info) -> list[InsurancePolicy]:
        book: list[str] = info.context["book"]
        return [policy for volunteer_id in book for policy in policies_of(volunteer_id)[:1]]


schema = strawberry.federation.Schema(query=Query, types=[Volunteer, Team])


@dataclass
class Seen:
    """One HTTP request as the subgraph received it."""

    authorization: str | None
    query: str | None
    entities: list[tuple[str, str]] = field(default_factory=list)


class RecordingGraphQL(GraphQL[dict[str, Any], None]):
    def __init__(self, book: list[str], log: list[Seen]) -> None:
        super().__init__(schema, graphql_ide=None)
        self.book, self.log = book, log

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        query = None
        if isinstance(request, Request) and request.method == "POST":
            body = await request.json()  # Starlette caches the body the view already read
            query = body.get("query") if isinstance(body, dict) else None
        seen = Seen(request.headers.get("authorization"), query)
        self.log.append(seen)
        return {"request": request, "response": response, "seen": seen, "book": self.book}


def create_app(book: list[str]) -> Starlette:
    """The subgraph as an ASGI app; ``book`` is the volunteer ids ``policiesExpiringSoon`` lists, in order.

    ``app.state.seen`` is the list of requests received (:class:`Seen`)."""
    log: list[Seen] = []
    app = Starlette(routes=[Route("/graphql", RecordingGraphQL(book, log), methods=["GET", "POST"])])
    app.state.seen = log
    return app
