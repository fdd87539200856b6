"""The Starlette application factory."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from events import SYSTEM_STATUS, Events
from graph import collection_store
from graph._batch import share_reads
from graph.engine import GraphEngine, connect
from graph.migrations import migrate
from resolvers.loaders import viewer_of
from resolvers.permissions import Principal
from resolvers.server_key import server_key
from schema import load_sdl
from server.admin import Admin
from server.artwork import Artwork, artwork_routes
from server.auth.keys import token_config
from server.auth.middleware import Authenticator, AuthMiddleware
from server.auth.passwords import Passwords
from server.auth.service import AuthService
from server.auth.tokens import Tokens
from server.envelope import RequestEnvelope
from server.explore_page import explore_routes
from server.graphql_app import build_schema, graphql_app
from server.health import Health
from server.logs import configure_logging
from server.mail import mail_sender
from server.media import MediaService
from server.metrics import TALLY, metrics_endpoint, process_stopped
from server.persisted import persisted_queries
from server.ratelimit import RateLimiter
from server.redis import connect_redis
from server.rest.app import rest_app
from server.rest.openapi import api_routes
from server.settings import Settings
from server.streaming import Streaming, streaming_routes
from server.subscriptions import SocketAuth
from server.subsonic.app import subsonic_routes
from server.usage import UsageCounter
from server.ws_events import EventSocket
from taskqueue import JobQueue, broker_for

log = logging.getLogger("apollonia")


GC_THRESHOLDS = (10_000, 10, 1000)  # see the lifespan in create_app

# The methods of /graphql that go straight to the GraphQL app (see `_App`); HEAD and
# OPTIONS take Starlette's way.
_DIRECT_METHODS = frozenset({"GET", "POST"})


class _App(Starlette):
    """Starlette, except that `GET`/`POST /graphql` go straight to `graphql_direct`: the
    request envelope, authentication and the GraphQL app, the same layers as on every
    route, past Starlette's two exception middlewares and its router, which the GraphQL
    app does not use (it answers its own errors; no endpoint function or HTTPException
    there). On `track(id)` at 32 clients, side by side: 1.04x the requests/s, 0.248
    against 0.258 ms of CPU a request (README). An exception escaping the GraphQL app
    reaches uvicorn, which logs it and answers 500 "Internal Server Error" if nothing was
    sent, as Starlette's ServerErrorMiddleware did (this app sets no handler for it)."""

    graphql_direct: ASGIApp | None = None
    graphql_route: Route | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.graphql_direct is not None
            and scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] in _DIRECT_METHODS
        ):
            # What Starlette and its router would have set on the way.
            scope["app"] = self
            scope["router"] = self.router
            scope["route"] = self.graphql_route
            scope["path_params"] = {}
            await self.graphql_direct(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _Delegate:
    """An ASGI app that forwards to one built at start-up (it needs the engine)."""

    def __init__(self, state: dict[str, Any], key: str) -> None:
        self.state = state
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.state[self.key](scope, receive, send)


SHUTDOWN_STEP_SECONDS = 5.0


async def _bounded(step: Awaitable[Any], what: str) -> None:
    """One step of the shutdown, given SHUTDOWN_STEP_SECONDS; its failure is logged, not
    raised (the steps after it still run)."""
    try:
        await asyncio.wait_for(step, SHUTDOWN_STEP_SECONDS)
    except TimeoutError:
        log.warning("shutdown: closing %s took over %.0f s; going on", what, SHUTDOWN_STEP_SECONDS)
    except (RedisError, OSError) as e:
        log.warning("shutdown: closing %s failed: %s", what, type(e).__name__)


def create_app(
    settings: Settings | None = None,
    engine: GraphEngine | None = None,
    rate_limit_prefix: str | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """Build the app. At start-up it connects to the graph (unless given `engine`) and
    migrates it, connects to Redis, and builds the auth service and GraphQL app.

    Rate-limit counters live in Redis under `rate_limit_prefix`, by default one per
    graph: every process serving the same graph shares the budgets."""
    settings = settings or Settings.from_env()
    configure_logging(settings.resolved_log_format, settings.log_level)
    share_reads(settings.shared_reads)
    schema = build_schema()
    sdl = load_sdl()
    tokens = Tokens(token_config(settings))
    # Like the JWT secret: production refuses to start without it, rather than failing
    # every streamUrl and coverUrl later.
    server_key(settings)
    passwords = Passwords(settings.password_memory_kib, settings.password_time_cost)
    state: dict[str, Any] = {"engine": engine}
    authenticator = Authenticator(state, settings.allow_anonymous_read)
    usage = UsageCounter(
        lambda: state.get("redis"),
        lambda: getattr(state["engine"], "graph_name", None) or settings.graph_name,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # uvicorn has set up its loggers by now: put them on our handler.
        configure_logging(settings.resolved_log_format, settings.log_level)
        owned = state["engine"] is None
        if owned:
            state["engine"] = await connect(
                settings.resolved_graph_url,
                graph_name=settings.graph_name,
                username=settings.graph_username,
                password=settings.graph_password,
                database=settings.graph_database or None,
            )
            await migrate(state["engine"])
        redis = connect_redis(settings.resolved_redis_url)
        state["redis"] = redis
        mail = mail_sender(settings.smtp_url, settings.resolved_mail_outbox, settings.mail_from)
        auth = AuthService(
            state["engine"],
            redis,
            tokens,
            passwords,
            mail,
            settings.public_url,
            refresh_grace_ms=int(settings.refresh_grace_seconds * 1000),
        )
        state["auth"] = auth
        graph_name = getattr(state["engine"], "graph_name", settings.graph_name)
        limiter = RateLimiter.for_settings(
            settings,
            rate_limit_prefix or f"apollonia:ratelimit:{graph_name}",
            connection_pool=redis.connection_pool,
        )
        state["limiter"] = limiter  # the Subsonic API charges its failed sign-ins too
        events: Events | None = Events(settings.resolved_redis_url, settings.ws_queue_size)
        try:
            await events.__aenter__()  # type: ignore[union-attr]
            await events.publish(  # type: ignore[union-attr]
                SYSTEM_STATUS, SYSTEM_STATUS, {"status": "up", "message": None}
            )
        except (RedisError, OSError) as e:
            # Serve without events rather than not at all; /health shows Redis down.
            log.error("event bus unavailable, no events or subscriptions: %s", e)
            events = None
        state["events"] = events
        socket_auth = SocketAuth(authenticator, settings.ws_max_subscriptions)
        jobs = JobQueue(broker_for(settings))
        state["jobs"] = jobs
        state["graphql"], state["graphql_ws"] = graphql_app(
            settings,
            schema,
            state["engine"],
            auth,
            limiter,
            events,
            socket_auth,
            jobs,
            admin=Admin(settings, state, redis),
            media=MediaService(settings),
            persisted=persisted_queries(settings, redis),
            usage=usage,
        )
        # Start-up objects (schema, modules, pools) never die: keep them out of the
        # collector's way, so that full collections under load stay short.
        gc.collect()
        gc.freeze()
        # Full collections walk every live object, every socket's tasks and queues
        # included: at 10k WebSockets one took 2.2 s at the default threshold and 78 ms
        # at this one (bench/fanout.py). The youngest generation is collected after
        # 10,000 allocations rather than 700: a request's objects mostly die before a
        # collection walks them, instead of being walked and promoted several times while
        # the request runs (`track(id)` at 32 clients: 1.09x requests/s, 0.234 against
        # 0.252 ms of CPU a request; bench figures in the README).
        gc.set_threshold(*GC_THRESHOLDS)
        flusher = asyncio.create_task(TALLY.run(), name="metrics-flush")
        try:
            yield
        finally:
            flusher.cancel()
            try:
                # Each step bounded: one that hangs (a full-suite run saw shutdown stop
                # after "Waiting for application shutdown" until `serve` was killed,
                # leaving its worker and database behind) must not keep `on_shutdown`,
                # which stops them, from running.
                if events is not None:
                    await _bounded(
                        events.publish(
                            SYSTEM_STATUS, SYSTEM_STATUS, {"status": "stopping", "message": None}
                        ),
                        "the stopping event",
                    )
                    await _bounded(events.__aexit__(), "the event bus")
                jobs.close()
                await _bounded(usage.close(), "the usage counters")
                process_stopped()
                await _bounded(redis.aclose(), "Redis")
                if owned:
                    await _bounded(state["engine"].close(), "the graph")
            finally:
                if on_shutdown is not None:
                    on_shutdown()

    health = Health(settings, state)
    streaming = Streaming(settings, state)

    async def schema_sdl(_: Request) -> Response:
        # The schema is as secret as introspection makes it (off in production).
        if not settings.introspection:
            return PlainTextResponse("Not Found", status_code=404)
        return PlainTextResponse(
            sdl,
            headers={"content-disposition": 'attachment; filename="schema.graphql"'},
        )

    async def can_see_collection(principal: Principal, collection_id: str) -> bool:
        [row] = await collection_store.collections_by_id(
            state["engine"], viewer_of(principal), [collection_id]
        )
        return row is not None

    async def event_socket(websocket: WebSocket) -> None:
        if state.get("events") is None:
            await websocket.close(code=1011, reason="Events are unavailable")
            return
        await EventSocket(
            websocket,
            authenticator,
            state["events"],
            settings.ws_max_subscriptions,
            can_see_collection,
            state.get("limiter"),
        ).run()

    graphql_route = Route(
        "/graphql", _Delegate(state, "graphql"), methods=["GET", "POST", "OPTIONS"]
    )
    app = _App(
        routes=[
            graphql_route,
            WebSocketRoute("/graphql", _Delegate(state, "graphql_ws")),
            WebSocketRoute("/ws", event_socket),
            # Seed 004 names the client in the path; the socket is the same.
            WebSocketRoute("/ws/{client_id}", event_socket),
            Route("/graphql/schema.graphql", schema_sdl, methods=["GET"]),
            Route(
                "/metrics",
                metrics_endpoint(
                    lambda: state["engine"], settings.production, settings.metrics_token
                ),
            ),
            *(Route(path, endpoint) for path, endpoint in health.routes()),
            *streaming_routes(streaming),
            *artwork_routes(Artwork(streaming)),
            *subsonic_routes(settings, state, streaming),
            *api_routes(schema, settings, rest_app(state)),
            *explore_routes(),
        ],
        lifespan=lifespan,
    )
    app.state.components = state  # for tests and diagnostics
    routes = app.routes

    def layers(inner: ASGIApp) -> ASGIApp:
        """The layers in front of every route: the request envelope, then authentication."""
        return RequestEnvelope(
            AuthMiddleware(
                inner, authenticator=authenticator, metrics_token=settings.metrics_token
            ),
            routes=routes,
            usage=usage,
            production=settings.production,
            max_body_bytes=settings.max_body_bytes,
        )

    app.add_middleware(layers)
    app.graphql_route = graphql_route
    app.graphql_direct = layers(_Delegate(state, "graphql"))
    return app
