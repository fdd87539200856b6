"""GraphQL over HTTP at /graphql: the executable schema and Ariadne's ASGI app."""

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, TypeGuard

import orjson
from ariadne import make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.exceptions import HttpBadRequestError, HttpError
from ariadne.explorer import ExplorerHttp405
from ariadne.graphql import handle_graphql_errors
from ariadne.types import GraphQLResult
from graphql import DocumentNode, GraphQLError, GraphQLResolveInfoHelpers, GraphQLSchema
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.pyutils.is_awaitable import is_awaitable as default_is_awaitable
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

import resolvers
from graph.engine import GraphEngine
from resolvers.context import (
    AdminApi,
    AuthApi,
    EventsApi,
    JobsApi,
    MediaApi,
    RequestContext,
    UsageApi,
)
from resolvers.directives import DIRECTIVES, protect_root_fields
from resolvers.permissions import ANONYMOUS
from schema import load_sdl
from server import json_body
from server.admin import guard_mutations
from server.documents import DocumentCache
from server.errors import format_error, production_format_error, request_id_var
from server.explorer import LocalGraphiQL
from server.persisted import PersistedQueries, PersistedQueryError
from server.plain_fields import PlainFields
from server.query_limits import QueryLimits, multiplier_arguments
from server.ratelimit import RateLimiter, Verdict, charge_of
from server.settings import Settings
from server.subscriptions import LegacyWSHandler, SocketAuth, SubprotocolRouter, TransportWSHandler


def build_schema() -> GraphQLSchema:
    """Bind every resolver to the SDL; a mismatch fails here, at start-up. Then put the
    permission checks in front of the root fields, and the maintenance check in front of
    the mutations."""
    schema = make_executable_schema(
        load_sdl(), *resolvers.bindables(), directives=DIRECTIVES, convert_names_case=True
    )
    return guard_mutations(protect_root_fields(schema))


GRAPHQL_RESPONSE = "application/graphql-response+json"


def response_media_type(accept: str) -> str:
    """`application/graphql-response+json` when the client prefers it (GraphQL over HTTP),
    else `application/json`, which legacy clients expect; by `q` value, then order."""
    best, best_q = "application/json", -1.0
    for position, part in enumerate(accept.split(",")):
        kind, _, rest = part.strip().partition(";")
        kind = kind.strip().lower()
        if kind not in (GRAPHQL_RESPONSE, "application/json", "application/*", "*/*"):
            continue
        q = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weight = q - position * 1e-6  # earlier wins a tie
        if q > 0 and weight > best_q:
            best_q = weight
            best = GRAPHQL_RESPONSE if kind == GRAPHQL_RESPONSE else "application/json"
    return best


def _retry_after(result: dict[str, Any]) -> int | None:
    """The longest wait a RATE_LIMITED error in `result` asks for, if any."""
    waits = [
        int(error["extensions"].get("retryAfter", 1))
        for error in result.get("errors") or ()
        if error.get("extensions", {}).get("code") == "RATE_LIMITED"
    ]
    return max(waits) if waits else None


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), dict, list, tuple})


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's check, after a type lookup that answers for the plain values most
    fields resolve to (it runs once per field: 3-4% of a 50-track page)."""
    return type(value) not in _PLAIN_TYPES and default_is_awaitable(value)


# The executors of the request being answered, released once its response is built.
_EXECUTORS: ContextVar[list["PlainFirstExecutor"] | None] = ContextVar("executors", default=None)
# Awaitables handed to `track` after their execution ended, kept until settled.
_STRAGGLERS: set[asyncio.Future[list[Any]]] = set()


class PlainFirstExecutor(PlainFields, IncrementalExecutor):
    """graphql-core's executor with `_is_awaitable`, plain fields completed without its
    per-field steps (server/plain_fields.py), and resolver helpers that do not hold it
    in a reference cycle.

    graphql-core 3.3 gives every executor `async_helpers` made of its own bound methods:
    executor -> helpers -> method -> executor. That cycle kept each request's whole
    object graph (the request, its context, loaders and execution state: about 80
    objects) alive until a full collection, which the app's GC thresholds make rare:
    28 MB more every 6,400 `track(id)` requests, walked in one long pause. Here the
    helpers reach the executor through a weak reference, so a request's objects are freed
    by reference counting when it ends (tests/test_graphql_memory.py).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = _is_awaitable
        executor = weakref.ref(self)

        def track(values: Sequence[Any]) -> None:
            alive = executor()
            if alive is not None:
                alive.track_async_work(values)
            else:  # execution has ended: settle the stragglers, as it would have
                settle = [v for v in values if _is_awaitable(v)]
                if settle:
                    future = asyncio.gather(*settle, return_exceptions=True)
                    _STRAGGLERS.add(future)
                    future.add_done_callback(_STRAGGLERS.discard)

        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            return gather_with_cancel(*values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)

        executors = _EXECUTORS.get()
        if executors is not None:
            executors.append(self)

    def release(self) -> None:
        """Drop the tracebacks of the errors this execution collected, once they have
        been formatted and logged. A resolver's error holds its traceback, whose frames
        hold this executor, which holds the error: without this, the same cycle kept
        every failed request's objects alive."""
        for error in self.collected_errors.errors:
            _drop_tracebacks(error)


def _drop_tracebacks(error: BaseException) -> None:
    """Remove the tracebacks of `error` and of its causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
        if isinstance(current, GraphQLError):
            pending.append(current.original_error)


class JSONHandler(GraphQLHTTPHandler):
    """Ariadne's HTTP handler, answering with orjson (a 50-track page is ~60 kB).

    It parses the document once, through the DocumentCache, before execution: the
    operation names the rate-limit budget to charge. A request over its budget, or a
    `login` over the account's, is answered with 429 and `Retry-After`; every charged
    request carries the `X-RateLimit-*` headers of its budget.
    """

    def __init__(
        self,
        documents: DocumentCache,
        limiter: RateLimiter | None = None,
        persisted: PersistedQueries | None = None,
    ) -> None:
        super().__init__()
        self.documents = documents
        self.limiter = limiter
        self.persisted = persisted

    def configure(self, *args: Any, **kwargs: Any) -> None:
        super().configure(*args, **kwargs)
        if self.execution_context_class is None:
            self.execution_context_class = PlainFirstExecutor

    async def handle_request_override(self, request: Request) -> Response | None:
        # A persisted query by GET carries `extensions` and no `query`.
        if request.method == "GET" and "extensions" in request.query_params:
            return await self.graphql_http_server(request)
        return None

    async def execute_graphql_query(
        self,
        request: Any,
        data: Any,
        *,
        context_value: Any = None,
        query_document: DocumentNode | None = None,
    ) -> GraphQLResult:
        parse_error: GraphQLError | None = None
        if self.persisted is not None:
            try:
                data = await self.persisted.resolve(data)
            except PersistedQueryError as e:
                error = self.error_formatter(GraphQLError(e.message, original_error=e), False)
                # Not found is a normal step of the protocol: 200, as Apollo's link expects.
                return e.code == "PERSISTED_QUERY_NOT_FOUND", {"errors": [error]}
        query = data.get("query") if isinstance(data, dict) else None
        if query_document is None and query and isinstance(query, str):
            try:
                query_document = self.documents.parse(None, data)
            except GraphQLError as e:
                parse_error = e
        if isinstance(request, HTTPConnection):
            rejected = await self.charge(request, data, query_document)
            if rejected is not None:
                return False, {"errors": [self.error_formatter(rejected, self.debug)]}
        if parse_error is not None:
            return handle_graphql_errors(
                [parse_error],
                logger=self.logger,
                error_formatter=self.error_formatter,
                debug=self.debug,
            )
        executors: list[PlainFirstExecutor] = []
        token = _EXECUTORS.set(executors)
        try:
            return await super().execute_graphql_query(
                request, data, context_value=context_value, query_document=query_document
            )
        finally:
            _EXECUTORS.reset(token)
            for executor in executors:
                executor.release()

    async def graphql_http_server(self, request: Request) -> Response:
        # Ariadne's own, but a body it cannot read is answered in JSON with a code, not
        # in plain text. (No HTTP subscription handlers are configured here.)
        try:
            data = await self.extract_data_from_request(request)
        except HttpError as e:
            return Response(
                json_body.bad_request(e.message or "Bad request."),
                status_code=400,
                media_type="application/json",
            )
        success, result = await self.execute_graphql_query(request, data)
        return await self.create_json_response(request, result, success)

    async def extract_data_from_request(self, request: Request) -> Any:
        try:
            if request.method == "GET":
                return self.extract_data_from_get_request(request)
            return await super().extract_data_from_request(request)
        except json_body.JSONRefused as e:
            raise HttpBadRequestError(str(e)) from None

    async def extract_data_from_json_request(self, request: Request) -> Any:
        return json_body.loads(await request.body())

    async def extract_data_from_multipart_request(
        self, request: Request
    ) -> dict[str, Any] | list[Any]:
        form = await request.form()  # Starlette keeps it: Ariadne's read below reuses it
        for field in ("operations", "map"):
            value = form.get(field)
            if isinstance(value, str):
                json_body.loads(value)
        return await super().extract_data_from_multipart_request(request)

    def extract_data_from_get_request(self, request: Request) -> dict[str, Any]:
        # `extensions` too: a persisted query by GET carries its hash there.
        data: dict[str, Any] = {
            "query": request.query_params.get("query") or None,
            "operationName": request.query_params.get("operationName") or None,
        }
        for name in ("variables", "extensions"):
            text = request.query_params.get(name, "").strip()
            data[name] = json_body.loads(text) if text else None
        return data

    async def charge(
        self, connection: HTTPConnection, data: Any, document: DocumentNode | None
    ) -> GraphQLError | None:
        """Charge one operation to its budget; the error to answer with when it is spent.

        `connection` is the HTTP request, or the WebSocket that sent the operation:
        both are charged alike, to the caller's principal (a socket's is set at
        `connection_init`) or client address. The `login` resolver finds the
        per-account check in the connection's state."""
        if self.limiter is None:
            return None
        operation_name = data.get("operationName") if isinstance(data, dict) else None
        charge = charge_of(document, operation_name if isinstance(operation_name, str) else None)
        principal = getattr(connection.state, "principal", ANONYMOUS)
        client = connection.client.host if connection.client else "unknown"
        verdict = await self.limiter.admit(principal, client, charge)
        connection.state.rate_limit = verdict
        connection.state.check_login = self.limiter.check_login
        if verdict is None or verdict.allowed:
            return None
        error = verdict.error()
        return GraphQLError(error.message, original_error=error)

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
        media_type = response_media_type(request.headers.get("accept", ""))
        if media_type == GRAPHQL_RESPONSE:
            # GraphQL over HTTP: with this media type a request error (no `data` entry)
            # is a 4xx, and a response with `data`, even null, is a 200.
            status = 200 if "data" in result else 400
        else:
            status = 200 if success or result.get("data") is not None else 400
        headers: dict[str, str] = {}
        verdict: Verdict | None = getattr(request.state, "rate_limit", None)
        if verdict is not None:
            headers.update(verdict.headers())
        retry_after = _retry_after(result)
        if retry_after is not None:
            status = 429
            headers["retry-after"] = str(retry_after)
        return Response(
            orjson.dumps(result), status_code=status, headers=headers, media_type=media_type
        )


def graphql_app(
    settings: Settings,
    schema: GraphQLSchema,
    engine: GraphEngine,
    auth: AuthApi,
    limiter: RateLimiter | None = None,
    events: EventsApi | None = None,
    socket_auth: SocketAuth | None = None,
    jobs: JobsApi | None = None,
    admin: AdminApi | None = None,
    media: MediaApi | None = None,
    persisted: PersistedQueries | None = None,
    usage: UsageApi | None = None,
) -> tuple[GraphQL, SubprotocolRouter | None]:
    """The ASGI apps serving /graphql over HTTP and (with `socket_auth`) WebSocket:
    documents within the settings' limits (depth, aliases, tokens, cost), callers within
    their rate limits when `limiter` is given."""
    documents = DocumentCache(settings.document_cache_size, max_tokens=settings.max_tokens)
    limits = QueryLimits(
        settings.max_depth,
        settings.max_aliases,
        settings.max_cost,
        multiplier_arguments(schema),
        settings.document_cache_size,
    )

    def context(request: Request, data: Any) -> RequestContext:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        request_id_var.set(request_id)
        return RequestContext(
            engine=engine,
            request_id=request_id,
            principal=getattr(request.state, "principal", ANONYMOUS),
            auth=auth,
            events=events,
            request=request,
            jobs=jobs,
            settings=settings,
            admin=admin,
            media=media,
            usage=usage,
        )

    def app(websocket_handler: Any = None) -> GraphQL:
        return GraphQL(
            schema,
            context_value=context,
            query_parser=documents.parse,
            query_validator=documents.validate,
            validation_rules=limits.rules,
            execute_get_queries=True,
            debug=False,
            introspection=settings.introspection,
            explorer=LocalGraphiQL(title="Apollonia") if settings.explorer else ExplorerHttp405(),
            error_formatter=production_format_error if settings.production else format_error,
            http_handler=JSONHandler(documents, limiter, persisted),
            websocket_handler=websocket_handler,
            logger="apollonia.graphql",
        )

    if socket_auth is None:
        return app(), None
    init_timeout = timedelta(seconds=settings.ws_init_timeout)
    transport_ws = app(TransportWSHandler(socket_auth, connection_init_wait_timeout=init_timeout))
    legacy_ws = app(LegacyWSHandler(socket_auth, keepalive=settings.ws_keepalive))
    return transport_ws, SubprotocolRouter(transport_ws, legacy_ws)
