"""The ASGI app: ``create_app()`` builds it; ``python server.py`` serves it with uvicorn.

Start-up applies the alembic migrations, then builds the long-lived services (engine, cipher, hasher, token
keys, throttle). Each request: request id (and its access line) → metrics → body limit → authentication
middleware → viewer → rate limit → GraphQL view → per-request context. Logs are JSON lines, redacted
(schema/observability.py); /metrics is Prometheus text (schema/metrics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.admission import BodyLimit, RateLimit
from auth.backend import BearerAuth, on_auth_error
from auth.passwords import Passwords
from auth.throttle import MemoryLoginThrottle, StoreLoginThrottle
from auth.tokens import TokenService
from models.db import claim_node, make_engine, make_session_factory, make_write_session_factory
from models.kv import KeyValueStore, RedisStore, build_store
from models.migrate import upgrade
from models.pii import PiiCipher
from resolvers.attendance import sweep_forever
from resolvers.certificate_pdf import ROUTES as CERTIFICATE_ROUTES
from resolvers.exports import ROUTES as EXPORT_ROUTES
from resolvers.supervision import supervise_forever
from resolvers.verifiers.worker import build_verifiers, close_verifiers, run_forever
from schema.context import Services
from schema.graphiql import assets as graphiql_assets
from schema.http_view import GraphQLView
from schema.metrics import CONTENT_TYPE, HttpMetrics, Metrics
from schema.observability import RequestId, configure_logging
from schema.persisted import PersistedQueries, load_manifest
from settings import Settings, get_settings

log = logging.getLogger("zhiyuan")


class _Asgi:
    """Marks a coroutine as a raw ASGI endpoint for Starlette's Route (the view exists only after start-up)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build_services(settings: Settings, engine: AsyncEngine, kv: KeyValueStore) -> Services:
    trusted = load_manifest(Path(settings.trusted_documents)) if settings.trusted_documents else None
    return Services(
        settings=settings,
        sessions=make_session_factory(engine),
        writes=make_write_session_factory(engine),
        cipher=PiiCipher(settings.pii_key),
        passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_cost),
        tokens=TokenService(settings.jwt_keys, settings.jwt_active_kid, settings.access_token_ttl),
        throttle=StoreLoginThrottle(
            kv, settings.login_max_failures, settings.login_lockout_seconds, settings.login_ip_max_failures
        )
        if settings.redis_url
        else MemoryLoginThrottle(
            settings.login_max_failures, settings.login_lockout_seconds, settings.login_ip_max_failures
        ),
        kv=kv,
        persisted=PersistedQueries(kv, trusted),
    )


def freeze_startup_heap() -> None:
    """Move what start-up built (the schema, the models, the engine, about a million objects) out of the cyclic
    collector's reach. A full collection runs when the objects that survived younger collections grow by a
    quarter of the old generation; with start-up counted in it, the reference cycles requests leave behind
    (results, futures, execution state) piled up for minutes before one ran, and the server's memory grew with
    them (bench/RESULTS.md, soak). Frozen, start-up stays out of every collection and full collections come at
    the pace requests make garbage."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Starlette:
    settings = settings or get_settings()
    if settings.is_production and settings.uses_dev_keys:
        raise RuntimeError(
            "refusing to run in production with development keys: set ZHIYUAN_PII_KEY, ZHIYUAN_JWT_KEY and ZHIYUAN_CERT_SIGNING_KEY (or their _FILE forms)"
        )
    kv: KeyValueStore = build_store(settings.redis_url)
    state: dict[str, Any] = {}
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if migrate:
            await asyncio.to_thread(upgrade, settings.database_url)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        await claim_node(engine, settings.node_id, settings.deployment_mode)
        Metrics.watch(engine)
        services = build_services(settings, engine, kv)
        state["services"] = services
        state["view"] = GraphQLView(services, graphql_ide="graphiql" if settings.serve_graphiql else None)
        app.state.engine = engine
        app.state.services = services
        app.state.metrics = metrics
        identity, legal = build_verifiers(settings, services.sessions)
        worker = None
        if settings.verification_interval > 0:
            worker = asyncio.create_task(
                run_forever(
                    services.sessions, services.cipher, identity, legal, settings.verification_interval
                )
            )
        sweeper = None
        if settings.attendance_sweep_interval > 0:
            sweeper = asyncio.create_task(sweep_forever(services, settings.attendance_sweep_interval))
        supervisor = None
        if settings.supervision_interval_minutes > 0:
            interval = settings.supervision_interval_minutes
            supervisor = asyncio.create_task(supervise_forever(services, kv, interval))
        freeze_startup_heap()
        try:
            yield
        finally:
            for task in (worker, sweeper, supervisor):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await close_verifiers([identity, legal])
            if isinstance(kv, RedisStore):
                await kv.aclose()
            await engine.dispose()

    async def graphql(scope: Scope, receive: Receive, send: Send) -> None:
        await state["view"](scope, receive, send)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            log.exception("readiness check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    ide: list[BaseRoute] = [graphiql_assets()] if settings.serve_graphiql else []

    services_tokens = TokenService(settings.jwt_keys, settings.jwt_active_kid, settings.access_token_ttl)
    return Starlette(
        routes=[
            Route("/graphql", _Asgi(graphql), methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *ide,
            *CERTIFICATE_ROUTES,
            *EXPORT_ROUTES,
        ],
        middleware=[
            Middleware(RequestId),
            Middleware(HttpMetrics, metrics=metrics),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(AuthenticationMiddleware, backend=BearerAuth(services_tokens), on_error=on_auth_error),
            Middleware(
                RateLimit,
                store=lambda: kv,
                anonymous_per_minute=settings.rate_limit_anonymous,
                signed_in_per_minute=settings.rate_limit_signed_in,
            ),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, json_logs=settings.json_logs)
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    uvicorn.run(  # log_config=None: uvicorn's loggers go through ours; RequestId writes the access lines
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
