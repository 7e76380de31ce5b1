"""Persisted queries for mobile clients.

* Automatic persisted queries (Apollo's protocol): a request may carry only
  ``extensions.persistedQuery = {version: 1, sha256Hash}``; a known hash runs its stored document, an unknown
  one answers ``PERSISTED_QUERY_NOT_FOUND`` and the client retries with the text, which is stored after its
  hash is checked.
* Trusted documents (production): with ``ZHIYUAN_TRUSTED_DOCUMENTS`` pointing at an Apollo persisted-query
  manifest (``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", …}]}``)
  only those operations run; any other text is ``PERSISTED_QUERY_NOT_ALLOWED``. Requests from the federation
  gateway (``X-Zhiyuan-Gateway`` equal to ``ZHIYUAN_GATEWAY_SECRET``) are exempt: the gateway builds its
  ``_entities`` queries itself and enforces the clients' trusted documents at the edge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.kv import KeyValueStore

PREFIX = "apq:"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    manifest = json.loads(path.read_text())
    if manifest.get("format") != "apollo-persisted-query-manifest":
        raise ValueError(f"{path} is not an Apollo persisted-query manifest")
    documents = {op["id"]: op["body"] for op in manifest["operations"]}
    for digest, body in documents.items():
        if sha256(body) != digest:
            raise ValueError(f"{path}: operation {digest} does not hash to its id")
    return documents


@dataclass(frozen=True)
class Outcome:
    query: str | None
    error: str | None = None
    """PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_NOT_ALLOWED, PERSISTED_QUERY_HASH_MISMATCH or
    PERSISTED_QUERY_VERSION."""


class PersistedQueries:
    def __init__(self, store: KeyValueStore, trusted: dict[str, str] | None = None, ttl: int = 30 * 86400):
        self.store, self.trusted, self.ttl = store, trusted, ttl

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, from_gateway: bool = False
    ) -> Outcome:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.trusted is not None and query is not None and not from_gateway:
                known = self.trusted.get(sha256(query))
                return Outcome(known) if known else Outcome(None, "PERSISTED_QUERY_NOT_ALLOWED")
            return Outcome(query)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return Outcome(None, "PERSISTED_QUERY_VERSION")
        digest = str(persisted.get("sha256Hash", ""))
        if self.trusted is not None:
            known = self.trusted.get(digest)
            return Outcome(known) if known else Outcome(None, "PERSISTED_QUERY_NOT_FOUND")
        if query is None:
            stored = await self.store.get(PREFIX + digest)
            return Outcome(stored) if stored else Outcome(None, "PERSISTED_QUERY_NOT_FOUND")
        if sha256(query) != digest:
            return Outcome(None, "PERSISTED_QUERY_HASH_MISMATCH")
        await self.store.set(PREFIX + digest, query, self.ttl)
        return Outcome(query)
