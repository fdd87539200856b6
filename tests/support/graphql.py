"""Calling the API as a client: GraphQL documents over HTTP, users with tokens, and the
count of Cypher round trips."""

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from graph import users
from graph.engine import GRAPH_QUERIES, GraphEngine
from server.auth.keys import token_config
from server.auth.tokens import ACCESS, Tokens
from server.settings import Settings


class GraphQLClient:
    """Posts documents to /graphql; `query` fails the test on any error."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    def as_(self, token: str | None) -> "GraphQLClient":
        """The same client, calling with another access token (None: anonymous)."""
        return GraphQLClient(self.http, token)

    async def raw(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": document, "variables": variables or {}},
            headers=self.headers,
        )
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    async def query(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        body = await self.raw(document, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The single error a document must produce; returns it."""
        body = await self.raw(document, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]


async def user_token(engine: GraphEngine, settings: Settings, role: str) -> tuple[str, str]:
    """A user of `role` made directly in the graph, and an access token for it.

    Tests that are not about sign-in skip argon2 and the sign-in round trip this way.
    """
    name = f"{role}{uuid.uuid4().hex[:8]}"
    user = await users.create_user(engine, f"{name}@example.com", name, "not-a-hash", role)
    issued = Tokens(token_config(settings)).issue(user["id"], ACCESS, role=role)
    return user["id"], issued.token


def graph_queries(engine_name: str) -> float:
    """Cypher queries sent so far by an engine, over every operation."""
    total = 0.0
    for metric in GRAPH_QUERIES.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("engine") == engine_name:
                total += sample.value
    return total


def on_reads(engine: GraphEngine, note: Callable[[str, str, Any], None], monkeypatch: Any) -> None:
    """Calls `note(operation, query, params)` for every graph read the engine sends from
    now on (it still sends them), in order; for the rest of the test (`monkeypatch`)."""
    read = engine.read

    async def recording(op: str, query: str, params: Any = None) -> Any:
        note(op, query, params)
        return await read(op, query, params)

    monkeypatch.setattr(engine, "read", recording)


def record_reads(engine: GraphEngine, operation: str, monkeypatch: Any) -> list[str]:
    """The text of every graph read of `operation` the engine sends from now on, in
    order (`on_reads`)."""
    sent: list[str] = []

    def note(op: str, query: str, params: Any) -> None:
        if op == operation:
            sent.append(query)

    on_reads(engine, note, monkeypatch)
    return sent
