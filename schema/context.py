"""The typed per-request context and the long-lived services it points to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from auth.passwords import Passwords
from auth.throttle import LoginThrottle
from auth.tokens import TokenService
from auth.viewer import Viewer
from loaders import DataLoaders
from models.db import SessionFactory
from models.kv import KeyValueStore
from models.pii import PiiCipher
from schema.persisted import PersistedQueries
from settings import Settings


@dataclass
class Services:
    """Built once in the app's lifespan; shared by all requests."""

    settings: Settings
    sessions: SessionFactory
    writes: SessionFactory
    """For transactions that read then write (BEGIN IMMEDIATE on SQLite); ``sessions`` for reads."""
    cipher: PiiCipher
    passwords: Passwords
    tokens: TokenService
    throttle: LoginThrottle
    kv: KeyValueStore
    persisted: PersistedQueries


@dataclass
class Context:
    request: Request
    response: Response
    viewer: Viewer
    services: Services
    loaders: DataLoaders
    locale: str = "zh"
    request_id: str = ""
    audit: list[dict[str, Any]] = field(default_factory=list)
    """Audit events gathered while resolving (e.g. unmasked reads), written in one INSERT after execution."""

    _other_loaders: dict[Viewer, DataLoaders] = field(default_factory=dict)

    def loaders_for(self, viewer: Viewer) -> DataLoaders:
        """The loaders scoped to ``viewer``: the request's own, or (for a session just started by a sign-in
        or registration in this request) a separate set, so nothing is shared across viewers."""
        if viewer == self.viewer:
            return self.loaders
        if viewer not in self._other_loaders:
            self._other_loaders[viewer] = DataLoaders(self.services.sessions, viewer)
        return self._other_loaders[viewer]

    @property
    def sessions(self) -> SessionFactory:
        return self.services.sessions

    @property
    def client_ip(self) -> str:
        return self.request.client.host if self.request.client else ""


Info = StrawberryInfo[Context, None]
