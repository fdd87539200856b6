"""The Starlette application factory."""

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.engine import GraphEngine, connect
from graph.migrations import migrate
from server.auth.keys import token_config
from server.auth.middleware import AuthMiddleware
from server.auth.passwords import Passwords
from server.auth.service import AuthService
from server.auth.tokens import Tokens
from server.body_limit import BodyLimitMiddleware
from server.errors import request_id_var
from server.graphql_app import build_schema, graphql_app
from server.ratelimit import RateLimiter
from server.redis import connect_redis
from server.settings import Settings

log = logging.getLogger("apollonia")


class RequestIdMiddleware:
    """Accept a sane `X-Request-ID` or make one; echo it back; expose it to logs.

    Also reports the time the app took until the response started as
    `Server-Timing: app;dur=<ms>`, which the benchmarks read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_var.set(request_id)
        started = time.perf_counter()

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                    (b"server-timing", f"app;dur={elapsed:.3f}".encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


class _Delegate:
    """An ASGI app that forwards to one built at start-up (it needs the engine)."""

    def __init__(self, state: dict[str, Any], key: str) -> None:
        self.state = state
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.state[self.key](scope, receive, send)


async def metrics(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(
    settings: Settings | None = None,
    engine: GraphEngine | None = None,
    rate_limit_prefix: str | None = None,
) -> Starlette:
    """Build the app. At start-up it connects to the graph (unless given `engine`) and
    migrates it, connects to Redis, and builds the auth service and GraphQL app.

    Rate-limit counters live in Redis under `rate_limit_prefix`, by default one per
    graph: every process serving the same graph shares the budgets."""
    settings = settings or Settings.from_env()
    schema = build_schema()
    tokens = Tokens(token_config(settings))
    passwords = Passwords(settings.password_memory_kib, settings.password_time_cost)
    state: dict[str, Any] = {"engine": engine}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = state["engine"] is None
        if owned:
            state["engine"] = await connect(
                settings.resolved_graph_url,
                graph_name=settings.graph_name,
                username=settings.graph_username,
                password=settings.graph_password,
            )
            await migrate(state["engine"])
        redis = connect_redis(settings.resolved_redis_url)
        auth = AuthService(state["engine"], redis, tokens, passwords)
        state["auth"] = auth
        graph_name = getattr(state["engine"], "graph_name", settings.graph_name)
        limiter = RateLimiter.for_settings(
            settings,
            rate_limit_prefix or f"apollonia:ratelimit:{graph_name}",
            connection_pool=redis.connection_pool,
        )
        state["graphql"] = graphql_app(settings, schema, state["engine"], auth, limiter)
        try:
            yield
        finally:
            await redis.aclose()
            if owned:
                await state["engine"].close()

    async def health(_: Request) -> Response:
        up = state["engine"] is not None and await state["engine"].ping()
        body = {"status": "ok" if up else "degraded", "components": {"graph": up}}
        return JSONResponse(body, status_code=200 if up else 503)

    app = Starlette(
        routes=[
            Route("/graphql", _Delegate(state, "graphql"), methods=["GET", "POST", "OPTIONS"]),
            Route("/metrics", metrics),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(
        AuthMiddleware, state=state, allow_anonymous_read=settings.allow_anonymous_read
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
