"""GraphQL over WebSocket at /graphql, in both subprotocols.

- `graphql-transport-ws` (the graphql-ws library; current) and
- `graphql-ws` (subscriptions-transport-ws; Apollo's legacy clients),
chosen by the subprotocol the client offers. The credential comes in the
`connection_init` payload (`{"authorization": "Bearer …"}`); a bad one closes the
socket with 4403. A watchdog closes it with 4403 too once the token expires or is
revoked (re-checked every `WATCH_SECONDS`, see server/auth/middleware.py). Each
socket holds at most `max_subscriptions`.

Every operation a socket sends is charged to the caller's rate-limit budgets exactly as
over HTTP (server/ratelimit.py): queries and mutations by the HTTP handler that runs
them, subscriptions here; a refused one gets an `error` message with RATE_LIMITED, and
the socket stays open. A message nesting JSON too deep closes the socket with 4400.

Persisted queries (server/persisted.py) work over both subprotocols as over HTTP: an
operation may carry `extensions.persistedQuery` instead of its document, and in
allow-list mode only registered documents run, subscriptions included. An unknown hash
is answered as HTTP answers it, with a result holding PERSISTED_QUERY_NOT_FOUND (then
`complete`), which Apollo's persisted-queries link takes as its cue to send the document.
"""

import asyncio
import contextlib
import logging
from typing import Any

from ariadne.asgi.handlers import GraphQLTransportWSHandler, GraphQLWSHandler
from graphql import DocumentNode, GraphQLError, OperationType
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from music.errors import UnauthenticatedError
from resolvers.permissions import Principal
from server import json_body
from server.auth.middleware import Authenticator
from server.metrics import SUBSCRIPTIONS
from server.persisted import PersistedQueryError
from server.ratelimit import chosen_operation

log = logging.getLogger(__name__)

TOO_MANY = "TOO_MANY_SUBSCRIPTIONS"


def _credential(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("authorization", "Authorization"):
        value = payload.get(key)
        if isinstance(value, str):
            return value[7:].strip() if value[:7].lower() == "bearer " else value.strip()
    token = payload.get("token") or payload.get("apiKey")
    return token if isinstance(token, str) else None


class SocketAuth:
    """Authenticates a `connection_init` payload and watches the credential after."""

    def __init__(self, authenticator: Authenticator, max_subscriptions: int) -> None:
        self.authenticator = authenticator
        self.max_subscriptions = max_subscriptions

    async def principal(self, payload: Any) -> Principal:
        credential = _credential(payload)
        if credential is None:
            return self.authenticator.anonymous
        return await self.authenticator.token(credential)

    async def _watch(self, websocket: WebSocket, principal: Principal) -> None:
        await self.authenticator.until_invalid(principal)
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=4403, reason="Token expired or revoked")

    def watch(self, websocket: WebSocket, principal: Principal) -> None:
        if principal.via == "jwt":
            websocket.state.watchdog = asyncio.create_task(self._watch(websocket, principal))

    @staticmethod
    def stop(websocket: WebSocket) -> None:
        """Cancel the connection's background tasks (on disconnect)."""
        for name in ("watchdog", "keepalive"):
            task = getattr(websocket.state, name, None)
            if task is not None:
                task.cancel()


def _too_many(limit: int) -> list[dict[str, Any]]:
    return [
        {
            "message": f"At most {limit} subscriptions per connection.",
            "extensions": {"code": TOO_MANY},
        }
    ]


class _Authenticated:
    """What both subprotocol handlers add: the socket's auth, its background tasks
    cancelled when the socket goes, and its running subscriptions counted."""

    protocol = ""
    result_type = ""  # the message type carrying a result
    errors_as_list = True  # an `error` message's payload: a list of errors, or one

    def __init__(self, auth: SocketAuth, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket_auth = auth

    async def observe_async_results(self, *args: Any, **kwargs: Any) -> None:
        with SUBSCRIPTIONS.labels(self.protocol).track_inprogress():
            await super().observe_async_results(*args, **kwargs)  # type: ignore[misc]

    async def handle_websocket(self, websocket: WebSocket) -> None:
        try:
            await super().handle_websocket(websocket)  # type: ignore[misc]
        finally:
            self.socket_auth.stop(websocket)

    async def persisted(self, websocket: WebSocket, data: Any, operation_id: str) -> Any:
        """`data` with the document of its persisted-query hash filled in (and checked
        against the allow-list), or None once the refusal is sent: an unknown hash as a
        result (then `complete`), as HTTP answers it with a 200; any other as an error."""
        handler: Any = getattr(self, "http_handler", None)
        persisted = getattr(handler, "persisted", None)
        if persisted is None:
            return data
        try:
            return await persisted.resolve(data)
        except PersistedQueryError as e:
            refused = e
        cause = GraphQLError(refused.message, original_error=refused)
        error = handler.error_formatter(cause, False)
        if refused.code == "PERSISTED_QUERY_NOT_FOUND":
            result = {"type": self.result_type, "id": operation_id, "payload": {"errors": [error]}}
            await websocket.send_json(result)
            await websocket.send_json({"type": "complete", "id": operation_id})
        else:
            payload = [error] if self.errors_as_list else error
            await websocket.send_json({"type": "error", "id": operation_id, "payload": payload})
        return None

    def parsed(
        self, data: Any, document: DocumentNode | None = None
    ) -> tuple[DocumentNode, OperationType | None] | None:
        """The document `data` runs (parsed through the HTTP handler's cache unless
        given) and the type of its chosen operation (None: no such operation); None when
        there is no document that parses, which the handler answers itself."""
        handler: Any = getattr(self, "http_handler", None)
        if not isinstance(data, dict) or not hasattr(handler, "documents"):
            return None
        if document is None:
            if not isinstance(data.get("query"), str):
                return None
            try:
                document = handler.documents.parse(None, data)
            except GraphQLError:
                return None
        name = data.get("operationName")
        operation = chosen_operation(document, name if isinstance(name, str) else None)
        return document, None if operation is None else operation.operation

    async def charge_subscription(
        self, websocket: WebSocket, data: Any, document: DocumentNode | None = None
    ) -> dict[str, Any] | None:
        """Charge a subscription to the caller's query budget, as HTTP charges a query;
        the formatted error when the budget is spent. Queries and mutations sent over
        the socket are charged by the HTTP handler that executes them."""
        handler: Any = getattr(self, "http_handler", None)
        if not hasattr(handler, "charge"):
            return None
        parsed = self.parsed(data, document)
        if parsed is None or parsed[1] is not OperationType.SUBSCRIPTION:
            return None
        rejected = await handler.charge(websocket, data, parsed[0])
        if rejected is None:
            return None
        return handler.error_formatter(rejected, False)  # type: ignore[no-any-return]


class TransportWSHandler(_Authenticated, GraphQLTransportWSHandler):
    protocol = "graphql-transport-ws"
    result_type = "next"

    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, Any], client_context: Any
    ) -> None:
        if client_context.connection_init_received:
            await websocket.close(code=4429)
            return
        client_context.connection_init_received = True
        try:
            principal = await self.socket_auth.principal(message.get("payload"))
        except UnauthenticatedError as e:
            await websocket.close(code=4403, reason=e.message)
            return
        websocket.state.principal = principal
        self.socket_auth.watch(websocket, principal)
        await websocket.send_json({"type": self.GQL_CONNECTION_ACK})
        client_context.connection_acknowledged = True

    async def handle_websocket_subscribe(
        self, websocket: WebSocket, data: Any, operation_id: str, client_context: Any
    ) -> None:
        limit = self.socket_auth.max_subscriptions
        if (
            client_context.connection_acknowledged
            and operation_id not in client_context.operations
            and len(client_context.operations) >= limit
        ):
            await websocket.send_json(
                {"type": self.GQL_ERROR, "id": operation_id, "payload": _too_many(limit)}
            )
            return
        if client_context.connection_acknowledged and operation_id not in client_context.operations:
            data = await self.persisted(websocket, data, operation_id)
            if data is None:
                return
            limited = await self.charge_subscription(websocket, data)
            if limited is not None:
                await websocket.send_json(
                    {"type": self.GQL_ERROR, "id": operation_id, "payload": [limited]}
                )
                return
        await super().handle_websocket_subscribe(websocket, data, operation_id, client_context)


class LegacyWSHandler(_Authenticated, GraphQLWSHandler):
    protocol = "graphql-ws"
    result_type = "data"
    errors_as_list = False

    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, Any]
    ) -> None:
        try:
            principal = await self.socket_auth.principal(message.get("payload"))
        except UnauthenticatedError as e:
            await websocket.send_json(
                {"type": self.GQL_CONNECTION_ERROR, "payload": {"message": e.message}}
            )
            await websocket.close(code=4403, reason=e.message)
            return
        websocket.state.principal = principal
        self.socket_auth.watch(websocket, principal)
        await websocket.send_json({"type": self.GQL_CONNECTION_ACK})
        websocket.state.keepalive = asyncio.create_task(self.keep_websocket_alive(websocket))

    async def process_single_message(
        self, websocket: WebSocket, data: Any, operation_id: str, operations: dict[str, Any]
    ) -> None:
        data = await self.persisted(websocket, data, operation_id)
        if data is None:
            return
        await super().process_single_message(websocket, data, operation_id, operations)
        parsed = self.parsed(data)
        if parsed is None or parsed[1] is OperationType.SUBSCRIPTION:
            return  # answered with `error`, or a subscription, which completes itself
        # Ariadne answers a query or mutation with `data` alone; the protocol ends every
        # operation with `complete`, without which a legacy client's operation never ends.
        if WebSocketState.DISCONNECTED not in (websocket.client_state, websocket.application_state):
            await websocket.send_json({"type": self.GQL_COMPLETE, "id": operation_id})

    async def start_websocket_operation(
        self,
        websocket: WebSocket,
        data: Any,
        context_value: Any,
        query_document: Any,
        operation_id: str,
        operations: dict[str, Any],
    ) -> None:
        limit = self.socket_auth.max_subscriptions
        if operation_id not in operations and len(operations) >= limit:
            await websocket.send_json(
                {"type": self.GQL_ERROR, "id": operation_id, "payload": _too_many(limit)[0]}
            )
            return
        limited = await self.charge_subscription(websocket, data, query_document)
        if limited is not None:
            await websocket.send_json(
                {"type": self.GQL_ERROR, "id": operation_id, "payload": limited}
            )
            return
        await super().start_websocket_operation(
            websocket, data, context_value, query_document, operation_id, operations
        )


def _bounded(receive: Receive, send: Send) -> Receive:
    """`receive` that closes the socket with 4400 (the protocol's "invalid message") on
    a message nesting JSON deeper than json_body.MAX_DEPTH, before the handler's own
    parser (the standard library's, recursive) reads it."""

    async def bounded_receive() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            raw = message.get("text") or message.get("bytes")
            if raw and json_body.too_deep(raw):
                await send({"type": "websocket.close", "code": 4400, "reason": "JSON too deep"})
                return {"type": "websocket.disconnect", "code": 4400}
        return message

    return bounded_receive


class SubprotocolRouter:
    """Sends a WebSocket to the app of the subprotocol it offers (current one first)."""

    def __init__(self, transport_ws: Any, legacy_ws: Any) -> None:
        self.transport_ws = transport_ws
        self.legacy_ws = legacy_ws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        offered = scope.get("subprotocols") or []
        if "graphql-transport-ws" in offered:
            await self.transport_ws(scope, _bounded(receive, send), send)
        elif "graphql-ws" in offered:
            await self.legacy_ws(scope, _bounded(receive, send), send)
        else:
            websocket = WebSocket(scope, receive, send)
            # 4406: the client offered no subprotocol this server speaks.
            await websocket.close(code=4406, reason="Use graphql-transport-ws or graphql-ws")
