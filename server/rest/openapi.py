"""The OpenAPI 3.1 document of the REST API, generated from the route table and the
GraphQL schema (each route's auth is that of the root fields its document selects), and
the Swagger UI and ReDoc pages, whose assets the app serves itself (no CDN)."""

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from resolvers.directives import field_rule
from resolvers.permissions import READ_MEDIA
from server.health import version
from server.rest.app import query_params
from server.rest.errors import COMMON_STATUSES
from server.rest.mapping import Route as RestRoute
from server.rest.routes import ROUTES
from server.rest.shapes import SCHEMAS
from server.settings import Settings

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
# Our own files for the documentation pages (ReDoc's start-up module and logo).
DOCS_ASSETS = VENDOR.parent / "api-docs"
_PATH_PARAM = re.compile(r"{(\w+)}")
_ERROR = {"$ref": "#/components/schemas/Error"}
_STATUS_TEXT = {
    400: "Malformed request",
    401: "Not signed in, or a bad credential",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Rate limited",
    500: "Internal error",
    503: "Maintenance mode: writes are refused",
}


_TIME = {"type": "string", "format": "date-time"}


def route_permission(schema: GraphQLSchema, route: RestRoute) -> str:
    """The permission a route needs: that of the root fields of its document ("public"
    when every one is public), unless the route names its own."""
    if route.permission is not None:
        return route.permission
    document = parse(route.document)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    root = (
        schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    )
    assert root is not None
    rules = {
        field_rule(root.fields[selection.name.value])  # type: ignore[attr-defined]
        for selection in operation.selection_set.selections
    }
    rules.discard("public")
    return sorted(r for r in rules if r)[0] if rules else "public"


def _operation(route: RestRoute, permission: str, anonymous_read: bool) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    params += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "schema": p.schema,
            **({"description": p.description} if p.description else {}),
            **({"style": "form", "explode": True} if p.schema.get("type") == "array" else {}),
        }
        for p in query_params(route)
    ]
    ok: dict[str, Any] = {"description": "Success"}
    if route.status != 204:
        body = route.response or {}
        if route.envelope:
            body = {
                "type": "object",
                "properties": {"success": {"const": True}, "data": body, "timestamp": _TIME},
                "required": ["success", "data", "timestamp"],
            }
        ok["content"] = {"application/json": {"schema": body}}
    responses: dict[str, Any] = {str(route.status): ok}
    for status in COMMON_STATUSES:
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": _ERROR}},
        }
    if permission == "public":
        security: list[dict[str, list[str]]] = []
        note = "No sign-in needed."
    else:
        security = [{"bearerAuth": []}, {"apiKeyAuth": []}]
        if permission == READ_MEDIA and anonymous_read:
            security.insert(0, {})  # anonymous callers read as guests here
        note = f"Needs `{permission}`."
    operation: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "description": f"{note} Runs the GraphQL operation `{route.operation}`.",
        "tags": [route.tag],
        "parameters": params,
        "responses": responses,
        "security": security,
    }
    if route.body is not None:
        media = "multipart/form-data" if route.multipart else "application/json"
        operation["requestBody"] = {
            "required": bool(route.body.get("required")) or route.multipart,
            "content": {media: {"schema": route.body}},
        }
    return operation


def openapi_document(schema: GraphQLSchema, settings: Settings) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        permission = route_permission(schema, route)
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, permission, settings.allow_anonymous_read
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Apollonia REST API",
            "version": version(),
            "description": (
                "A thin REST layer over the GraphQL API at /graphql: each route runs one "
                "GraphQL operation, with the same permissions, limits and errors. Lists are "
                "`{items, total, limit, offset}`; errors are `{success: false, error: {code, "
                "message, details, timestamp, request_id}}`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


_SWAGGER_BOOT = 'window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui"});'
_SWAGGER = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Apollonia REST API</title>
<link rel="stylesheet" href="/api/static/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/static/swagger-ui/swagger-ui-bundle.js"></script>
<script>{_SWAGGER_BOOT}</script>
</body></html>"""
# Scripts from this server only, plus Swagger UI's one inline line by its hash; both
# libraries style elements inline, draw with data: images and ReDoc searches in a
# blob: worker.
DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'sha256-"
    + base64.b64encode(hashlib.sha256(_SWAGGER_BOOT.encode()).digest()).decode()
    + "'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

# ReDoc 3 is an ES module started by our own module file (server/static/api-docs/), with
# its telemetry off; a <redoc> element would start it with telemetry on.
_REDOC = """<!doctype html>
<html><head><meta charset="utf-8"><title>Apollonia REST API</title></head>
<body><div id="redoc"></div>
<script type="module" src="/api/static/docs/redoc-init.js"></script>
</body></html>"""


def api_routes(schema: GraphQLSchema, settings: Settings, rest: Any) -> list[BaseRoute]:
    """/api/v1 (the REST app), /api/openapi.json, /api/docs, /api/redoc (also at /openapi.json,
    /docs and /redoc) and their assets."""
    document = openapi_document(schema, settings)

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return HTMLResponse(_SWAGGER, headers={"content-security-policy": DOCS_CSP})

    async def redoc(_: Request) -> Response:
        return HTMLResponse(_REDOC, headers={"content-security-policy": DOCS_CSP})

    return [
        Route("/api/openapi.json", openapi),
        Route("/api/docs", docs),
        Route("/api/redoc", redoc),
        # Seed 000's FastAPI defaults; seed 004 uses the /api/ paths above.
        Route("/openapi.json", openapi),
        Route("/docs", docs),
        Route("/redoc", redoc),
        Mount("/api/static/docs", StaticFiles(directory=DOCS_ASSETS)),
        Mount("/api/static", StaticFiles(directory=VENDOR)),
        Mount("/api/v1", rest),
    ]
