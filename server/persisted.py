"""Automatic persisted queries (Apollo's APQ protocol), and an allow-list mode.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the
document; if the server knows the hash it runs that document (no document sent, and
the parsed one comes from server/documents.py's cache), otherwise it answers
`PERSISTED_QUERY_NOT_FOUND` and the client sends the document with its hash once,
which registers it. Registered documents live in Redis, shared by every API process.

`APOLLONIA_PERSISTED_QUERIES`:
- `auto` (default): the protocol above; documents sent in full run as always.
- `allowlist`: only the documents of the manifest `APOLLONIA_PERSISTED_QUERIES_FILE`
  run (by hash, or sent in full with the same text); nothing is registered from
  requests; anything else is `PERSISTED_QUERY_NOT_ALLOWED`.
- `off`: `extensions.persistedQuery` is refused as `PERSISTED_QUERY_NOT_SUPPORTED`.

The manifest is Apollo's persisted query manifest (`{"operations": [{"id", "body"}]}`,
as `generate-persisted-query-manifest` writes it) or a plain `{hash: document}` map.
"""

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from cachetools import LRUCache
from redis import asyncio as aioredis

from music.errors import DomainError
from server.settings import Settings

Mode = Literal["auto", "allowlist", "off"]
REDIS_PREFIX = "apollonia:apq:"
TTL_SECONDS = 30 * 86400
LOCAL_SIZE = 2048
MAX_DOCUMENT = 100_000


class PersistedQueryError(DomainError):
    """An APQ refusal; its code is what Apollo's link reacts to."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_manifest(path: str) -> dict[str, str]:
    """Hash -> document from an Apollo manifest or a plain map; each hash is checked."""
    raw = json.loads(Path(path).read_text())
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        pairs = [(op["id"], op["body"]) for op in raw["operations"]]
    else:
        pairs = list(raw.items())
    documents = {}
    for given, body in pairs:
        if document_hash(body) != given:
            raise ValueError(f"manifest entry {given}: the hash is not the document's SHA-256")
        documents[given] = body
    return documents


class PersistedQueries:
    """Turns a request's `extensions.persistedQuery` into its document text."""

    def __init__(
        self,
        redis: aioredis.Redis | None,
        mode: Mode = "auto",
        allowed: dict[str, str] | None = None,
    ) -> None:
        self.redis = redis
        self.mode = mode
        self.allowed = allowed or {}
        self._local: LRUCache[str, str] = LRUCache(LOCAL_SIZE)

    async def resolve(self, data: Any) -> Any:
        """`data` with its document filled in from the hash, or as it was; raises
        PersistedQueryError for a refusal."""
        if not isinstance(data, dict):
            return data
        extensions = data.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        query = data.get("query")
        if persisted is None:
            if self.mode == "allowlist" and not (
                isinstance(query, str) and document_hash(query) in self.allowed
            ):
                raise _not_allowed()
            return data
        if self.mode == "off":
            raise PersistedQueryError("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
        wanted = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(wanted, str)
            or len(wanted) != 64
        ):
            raise PersistedQueryError(
                "VALIDATION_ERROR", "'extensions.persistedQuery' needs version 1 and a sha256Hash."
            )
        wanted = wanted.lower()
        if isinstance(query, str) and query:
            if document_hash(query) != wanted:
                raise PersistedQueryError(
                    "VALIDATION_ERROR", "The sha256Hash is not the document's SHA-256."
                )
            if self.mode == "allowlist":
                if wanted not in self.allowed:
                    raise _not_allowed()
            elif len(query) <= MAX_DOCUMENT:
                await self._register(wanted, query)
            return data
        text = await self._lookup(wanted)
        if text is None:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        return {**data, "query": text}

    async def _lookup(self, digest: str) -> str | None:
        if self.mode == "allowlist":
            return self.allowed.get(digest)
        text = self._local.get(digest)
        if text is not None:
            return text
        if self.redis is None:
            return None
        stored = await self.redis.get(REDIS_PREFIX + digest)
        if stored is None:
            return None
        text = str(stored)
        self._local[digest] = text
        return text

    async def _register(self, digest: str, text: str) -> None:
        if digest in self._local:
            return
        self._local[digest] = text
        if self.redis is not None:
            await self.redis.set(REDIS_PREFIX + digest, text, ex=TTL_SECONDS)


def _not_allowed() -> PersistedQueryError:
    return PersistedQueryError(
        "PERSISTED_QUERY_NOT_ALLOWED", "Only registered documents run on this server."
    )


def persisted_queries(settings: Settings, redis: aioredis.Redis | None) -> PersistedQueries:
    """The settings' mode; allow-list mode needs its manifest (checked at start-up)."""
    mode = settings.persisted_queries
    if mode not in ("auto", "allowlist", "off"):
        raise ValueError("APOLLONIA_PERSISTED_QUERIES must be auto, allowlist or off")
    allowed: dict[str, str] = {}
    if mode == "allowlist":
        if not settings.persisted_queries_file:
            raise ValueError("allowlist mode needs APOLLONIA_PERSISTED_QUERIES_FILE")
        allowed = load_manifest(settings.persisted_queries_file)
    return PersistedQueries(redis, mode, allowed)  # type: ignore[arg-type]
