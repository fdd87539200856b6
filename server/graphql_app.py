"""GraphQL over HTTP at /graphql: the executable schema and Ariadne's ASGI app."""

import uuid
from datetime import timedelta
from typing import Any

import orjson
from ariadne import make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.exceptions import HttpBadRequestError
from ariadne.explorer import ExplorerHttp405
from ariadne.graphql import handle_graphql_errors
from ariadne.types import GraphQLResult
from graphql import DocumentNode, GraphQLError, GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response

import resolvers
from graph.engine import GraphEngine
from resolvers.context import AdminApi, AuthApi, EventsApi, JobsApi, RequestContext
from resolvers.directives import DIRECTIVES, protect_root_fields
from resolvers.permissions import ANONYMOUS
from schema import load_sdl
from server.admin import guard_mutations
from server.documents import DocumentCache
from server.errors import format_error, production_format_error, request_id_var
from server.explorer import LocalGraphiQL
from server.persisted import PersistedQueries, PersistedQueryError
from server.query_limits import QueryLimits
from server.ratelimit import RateLimiter, Verdict, budget_of
from server.settings import Settings
from server.subscriptions import (
    LegacyWSHandler,
    SocketAuth,
    SubprotocolRouter,
    TransportWSHandler,
)


def build_schema() -> GraphQLSchema:
    """Bind every resolver to the SDL; a mismatch fails here, at start-up. Then put the
    permission checks in front of the root fields, and the maintenance check in front of
    the mutations."""
    schema = make_executable_schema(
        load_sdl(), *resolvers.bindables(), directives=DIRECTIVES, convert_names_case=True
    )
    return guard_mutations(protect_root_fields(schema))


def _retry_after(result: dict[str, Any]) -> int | None:
    """The longest wait a RATE_LIMITED error in `result` asks for, if any."""
    waits = [
        int(error["extensions"].get("retryAfter", 1))
        for error in result.get("errors") or ()
        if error.get("extensions", {}).get("code") == "RATE_LIMITED"
    ]
    return max(waits) if waits else None


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

    async def handle_request_override(self, request: Request) -> Response | None:
        # A persisted query by GET carries `extensions` and no `query`.
        if request.method == "GET" and "extensions" in request.query_params:
            return await self.graphql_http_server(request)
        return None

    async def extract_data_from_request(self, request: Request) -> Any:
        if request.method != "GET":
            return await super().extract_data_from_request(request)
        data: dict[str, Any] = {
            "query": request.query_params.get("query") or None,
            "operationName": request.query_params.get("operationName") or None,
        }
        for name in ("variables", "extensions"):
            text = request.query_params.get(name)
            try:
                data[name] = orjson.loads(text) if text else None
            except orjson.JSONDecodeError as e:
                raise HttpBadRequestError(f"'{name}' is not valid JSON") from e
        return data

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
        if self.limiter is not None and isinstance(request, Request):
            rejected = await self._charge(self.limiter, request, data, query_document)
            if rejected is not None:
                return False, {"errors": [self.error_formatter(rejected, self.debug)]}
        if parse_error is not None:
            return handle_graphql_errors(
                [parse_error],
                logger=self.logger,
                error_formatter=self.error_formatter,
                debug=self.debug,
            )
        return await super().execute_graphql_query(
            request, data, context_value=context_value, query_document=query_document
        )

    @staticmethod
    async def _charge(
        limiter: RateLimiter, request: Request, data: Any, document: DocumentNode | None
    ) -> GraphQLError | None:
        """Charge the request to its budget; the error to answer with when it is spent.

        The `login` resolver finds the per-account check in the request's state."""
        operation_name = data.get("operationName") if isinstance(data, dict) else None
        budget, logins = budget_of(
            document, operation_name if isinstance(operation_name, str) else None
        )
        principal = getattr(request.state, "principal", ANONYMOUS)
        client = request.client.host if request.client else "unknown"
        verdict = await limiter.admit(principal, client, budget, logins)
        request.state.rate_limit = verdict
        request.state.check_login = limiter.check_login
        if verdict is None or verdict.allowed:
            return None
        error = verdict.error()
        return GraphQLError(error.message, original_error=error)

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
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
            orjson.dumps(result), status_code=status, headers=headers, media_type="application/json"
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
    persisted: PersistedQueries | None = None,
) -> tuple[GraphQL, SubprotocolRouter | None]:
    """The ASGI apps serving /graphql over HTTP and (with `socket_auth`) WebSocket:
    documents within the settings' limits (depth, aliases, tokens, cost), callers within
    their rate limits when `limiter` is given."""
    documents = DocumentCache(settings.document_cache_size, max_tokens=settings.max_tokens)
    limits = QueryLimits(settings.max_depth, settings.max_aliases, settings.max_cost)

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
