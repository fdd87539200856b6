"""A GraphQL WebSocket client for tests, speaking either subprotocol, one operation at a
time: `graphql-transport-ws` (subscribe/next/complete) or the legacy `graphql-ws`
(start/data, keep-alive `ka` messages skipped)."""

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class GraphQLSocket:
    def __init__(self, ws: ClientConnection, subprotocol: str) -> None:
        self.ws = ws
        self.subprotocol = subprotocol
        self.count = 0

    async def recv(self, wait: float = 10) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        return message if message.get("type") != "ka" else await self.recv(wait)

    async def init(self, token: str | None = None) -> None:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert (await self.recv())["type"] == "connection_ack"

    async def send(self, payload: dict[str, Any]) -> str:
        """Start an operation with this payload (`query`, `variables`, `extensions`…);
        its id."""
        self.count += 1
        kind = "subscribe" if self.subprotocol == TRANSPORT_WS else "start"
        await self.ws.send(json.dumps({"type": kind, "id": str(self.count), "payload": payload}))
        return str(self.count)

    async def start(self, document: str, variables: dict[str, Any] | None = None) -> str:
        return await self.send({"query": document, "variables": variables or {}})

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The operation's result: `{"data"…}`, or `{"errors": […]}` when refused."""
        await self.start(document, variables)
        message = await self.recv()
        if message["type"] == "error":
            payload = message["payload"]
            return {"errors": payload if isinstance(payload, list) else [payload]}
        assert message["type"] in ("next", "data"), message
        assert (await self.recv())["type"] == "complete"
        return message["payload"]

    async def result(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A query's result (`{"data"…}` or `{"errors"…}` from a next/data message, then
        complete), or `{"refused": [errors]}` from an error message."""
        sent = await self.send(payload)
        message = await self.recv()
        assert message["id"] == sent, message
        if message["type"] == "error":
            errors = message["payload"]
            return {"refused": errors if isinstance(errors, list) else [errors]}
        assert message["type"] in ("next", "data"), message
        result: dict[str, Any] = message["payload"]
        # Both subprotocols end a query's result with `complete` (Ariadne's graphql-ws
        # handler alone did not: server/subscriptions.py LegacyWSHandler).
        assert (await self.recv()) == {"type": "complete", "id": sent}
        return result


async def open_socket(base_url: str, subprotocol: str, token: str | None = None) -> GraphQLSocket:
    """A socket to `base_url`'s /graphql, past `connection_ack`."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    ws = await connect(url, subprotocols=[subprotocol])  # type: ignore[list-item]
    socket = GraphQLSocket(ws, subprotocol)
    await socket.init(token)
    return socket
