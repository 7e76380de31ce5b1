"""The schema over HTTP: strawberry's ASGI view with the per-request context, orjson, and the
GraphQL-over-HTTP media types.

With ``Accept: application/graphql-response+json`` a request error (unparseable, invalid, bad variables,
refused by a limit: no data and no error path) is answered ``400`` with no ``data`` entry, in that media type;
with plain ``application/json`` the traditional ``200`` answer stays.
"""

from __future__ import annotations

import asyncio
import uuid
from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from auth.backend import ViewerUser
from auth.viewer import ANONYMOUS
from loaders import DataLoaders
from schema import schema
from schema.context import Context, Services
from schema.errors import classify
from schema.graphiql import graphiql_html
from schema.messages import locale_from, message
from schema.observability import request_id as current_request_id

GRAPHQL_RESPONSE = "application/graphql-response+json"
_outcome: ContextVar[tuple[str, int | None]] = ContextVar(
    "graphql_http_outcome", default=("application/json", None)
)


def prefers_graphql_response(accept: str | None) -> bool:
    """True when the client lists application/graphql-response+json before (or without) application/json."""
    if not accept:
        return False
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in kinds:
        return False
    return "application/json" not in kinds or kinds.index(GRAPHQL_RESPONSE) < kinds.index("application/json")


def _refusal(code: str, locale: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message(code, locale), extensions={"code": code})])


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.services = services

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> Any:
        """Persisted queries first, then the operation under the execution timeout; a mutation over GET is
        405 Method Not Allowed (GraphQL over HTTP), not 400."""
        settings = self.services.settings
        from_gateway = bool(settings.gateway_secret) and (
            request.headers.get("x-zhiyuan-gateway") == settings.gateway_secret
        )
        outcome = await self.services.persisted.resolve(
            request_data.query, request_data.extensions, from_gateway
        )
        if outcome.error is not None:
            return _refusal(outcome.error, context.locale)
        request_data.query = outcome.query
        try:
            async with asyncio.timeout(settings.execution_timeout):
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            return _refusal("TIMEOUT", context.locale)
        except HTTPException as error:
            if request_adapter.method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, error.reason) from error
            raise

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL with its scripts served by this app, not a CDN (schema/graphiql.py)."""
        return graphiql_html()

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: JSON nested past 1024 levels is a decode error (400), where json.loads overflowed the stack
        (500); lone surrogates and NaN are refused too."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A request body (bytes; query-string parameters come as str) must be a JSON object or a list:
        strawberry answered ``null`` or ``5`` with a 500."""
        value = super().parse_json(data)
        if isinstance(data, bytes) and not isinstance(value, dict | list):
            raise HTTPException(400, "The GraphQL request body must be a JSON object")
        return value

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Errors raised before execution (parsing) bypass the schema extensions: code them here too."""
        locale = locale_from(request.headers.get("accept-language"))
        if result.errors:
            result.errors = [
                e if (e.extensions or {}).get("code") else classify(e, locale) for e in result.errors
            ]
        body = process_result(result)
        if prefers_graphql_response(request.headers.get("accept")):
            errors = result.errors or []
            request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
            if request_error:
                body.pop("data", None)
            _outcome.set((GRAPHQL_RESPONSE, 400 if request_error else None))
        else:
            _outcome.set(("application/json", None))
        return body

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type, status = _outcome.get()
        response.headers["content-type"] = (
            media_type if media_type != "application/json" else "application/json"
        )
        if status is not None:
            response.status_code = status
        _outcome.set(("application/json", None))
        return response

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        assert isinstance(request, Request) and isinstance(response, Response)
        user = request.scope.get("user")
        viewer = user.viewer if isinstance(user, ViewerUser) else ANONYMOUS
        return Context(
            request=request,
            response=response,
            viewer=viewer,
            services=self.services,
            loaders=DataLoaders(self.services.sessions, viewer),
            locale=locale_from(request.headers.get("accept-language")),
            request_id=current_request_id.get() if current_request_id.get() != "-" else uuid.uuid4().hex,
        )
