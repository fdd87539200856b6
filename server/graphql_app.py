"""GraphQL over HTTP at /graphql: the executable schema and Ariadne's ASGI app."""

import uuid
from typing import Any

import orjson
from ariadne import make_executable_schema
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.explorer import ExplorerGraphiQL, ExplorerHttp405
from graphql import GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response

import resolvers
from graph.engine import GraphEngine
from resolvers.context import AuthApi, RequestContext
from resolvers.directives import DIRECTIVES, protect_root_fields
from resolvers.permissions import ANONYMOUS
from schema import load_sdl
from server.documents import DocumentCache
from server.errors import format_error, production_format_error, request_id_var
from server.settings import Settings


def build_schema() -> GraphQLSchema:
    """Bind every resolver to the SDL; a mismatch fails here, at start-up. Then put the
    permission checks in front of the root fields."""
    schema = make_executable_schema(
        load_sdl(), *resolvers.bindables(), directives=DIRECTIVES, convert_names_case=True
    )
    return protect_root_fields(schema)


class JSONHandler(GraphQLHTTPHandler):
    """Ariadne's HTTP handler, answering with orjson (a 50-track page is ~60 kB)."""

    async def create_json_response(
        self, request: Request, result: dict[str, Any], success: bool
    ) -> Response:
        status = 200 if success or result.get("data") is not None else 400
        return Response(orjson.dumps(result), status_code=status, media_type="application/json")


def graphql_app(
    settings: Settings, schema: GraphQLSchema, engine: GraphEngine, auth: AuthApi
) -> GraphQL:
    """The ASGI app serving /graphql."""
    documents = DocumentCache(settings.document_cache_size)

    def context(request: Request, data: Any) -> RequestContext:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        request_id_var.set(request_id)
        return RequestContext(
            engine=engine,
            request_id=request_id,
            principal=getattr(request.state, "principal", ANONYMOUS),
            auth=auth,
            request=request,
        )

    return GraphQL(
        schema,
        context_value=context,
        query_parser=documents.parse,
        query_validator=documents.validate,
        execute_get_queries=True,
        debug=False,
        introspection=settings.introspection,
        explorer=ExplorerGraphiQL(title="Apollonia") if settings.explorer else ExplorerHttp405(),
        error_formatter=production_format_error if settings.production else format_error,
        http_handler=JSONHandler(),
        logger="apollonia.graphql",
    )
