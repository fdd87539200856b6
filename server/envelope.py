"""What every request gets on its way in and out, in one ASGI layer.

Outermost first, as six middlewares did it until 2026-12-04:
- a request id: a sane `X-Request-ID` of the caller's, else one made here; echoed back
  with `Server-Timing: app;dur=<ms>, graph;dur=<ms>;desc="<n> calls"` (the time until
  the response started, and how long and how often the request waited on the graph
  database until then: `graph.engine.GraphClock`; the benchmarks read both) and set
  for the logs (`request_id_var`);
- the security headers a response does not set itself (`server.security_headers`);
- the HTTP and GraphQL metrics, and the count of open WebSockets (`server.metrics`);
- the usage of a signed-in caller, once answered (`server.usage`);
- GraphQL-shaped error answers under `/api/` put in the REST envelope
  (`server.rest.errors`);
- the body cap: a declared `Content-Length` over it refused with 413 before a byte is
  read, a body without one counted as the app reads it (`server.body_limit`).

Six layers cost a coroutine frame each on every resumption of a request, and a
wrapper of `send` each on every message: measured, 14% of the API process's CPU on
`track(id)` (0.284 against 0.245 ms a request without them). In one layer the same
work costs one frame, one wrapper of `send` and at most one of `receive`.
"""

import secrets
import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.engine import GRAPH_CLOCK, GraphClock
from server.body_limit import BodyTooLarge, declared_length, payload_too_large
from server.errors import request_id_var
from server.metrics import PEEK_BYTES, counted_websocket, record_http, route_template
from server.rest.errors import send_shaped
from server.security_headers import with_security_headers
from server.usage import UsageCounter

REST_PREFIX = "/api/"
_MAX_GIVEN_ID = 64


def request_id(scope: Scope) -> str:
    """The request's id (the caller's `X-Request-ID` when sane, else 16 random bytes in
    hex: 0.5 us, where uuid4 and its object took 1.8), kept in the scope's state and set
    for the logs. Random, not a counter: an id must not tell how many requests a process
    has served."""
    given = b""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value
            break
    text = given.decode("latin-1")
    sane = 0 < len(text) <= _MAX_GIVEN_ID and text.isprintable()
    chosen = text if sane else secrets.token_hex(16)
    scope.setdefault("state", {})["request_id"] = chosen
    request_id_var.set(chosen)
    return chosen


class RequestEnvelope:
    """Pure ASGI; see the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[BaseRoute],
        usage: UsageCounter,
        production: bool,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.routes = routes
        self.usage = usage
        self.production = production
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            request_id(scope)  # no response headers to add: the socket's messages go as they are
            await counted_websocket(self.app, self.routes, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id(scope).encode("latin-1")
        started = time.perf_counter()
        production = self.production
        cap = self.max_body_bytes
        rest = scope["path"].startswith(REST_PREFIX)
        peeked = bytearray() if scope["path"] == "/graphql" else None
        status = 500
        answered = False  # a response started on the way out
        app_started = False  # the app (or the layers inside) started one
        held: list[Message] = []
        clock = GraphClock()
        timed = GRAPH_CLOCK.set(clock)

        async def emit(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = int(message["status"])
                answered = True
                elapsed = (time.perf_counter() - started) * 1000
                headers = with_security_headers(message.get("headers", []), production)
                headers.append((b"x-request-id", rid))
                timing = (
                    f'app;dur={elapsed:.3f}, graph;dur={clock.total() * 1000:.3f};desc="'
                    f'{clock.calls} calls"'
                )
                headers.append((b"server-timing", timing.encode()))
                message["headers"] = headers
            await send(message)

        async def out(message: Message) -> None:
            nonlocal app_started
            if message["type"] == "http.response.start":
                app_started = True
                if rest and message["status"] >= 400:
                    held.append(message)
                    return
            elif held and message["type"] == "http.response.body":
                held.append(message)
                if not message.get("more_body"):
                    await send_shaped(emit, held)
                    held.clear()
                return
            await emit(message)

        declared = declared_length(scope)
        received = 0

        async def receiving() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if peeked is not None and len(peeked) < PEEK_BYTES:
                    peeked.extend(chunk[: PEEK_BYTES - len(peeked)])
                received += len(chunk)
                if received > cap:
                    raise BodyTooLarge
            return message

        try:
            if declared is not None and declared > cap:
                await payload_too_large(out, cap)
                return
            try:
                await self.app(scope, receiving, out)
            except BodyTooLarge:
                if app_started:
                    raise
                await payload_too_large(out, cap)
        finally:
            GRAPH_CLOCK.reset(timed)
            record_http(scope, self.routes, status, time.perf_counter() - started, peeked)
            principal = scope.get("state", {}).get("principal")
            user_id = getattr(principal, "user_id", None)
            if answered and user_id:
                await self.usage.record(str(user_id), route_template(scope, self.routes))
