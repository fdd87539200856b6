"""The REST shim at /api/v1: each route of server/rest/routes/ runs its GraphQL
document through the GraphQL app's own handler, so the document cache, query limits,
rate limits, context (the caller's principal from the auth middleware), permissions and
error formatting are exactly those of /graphql."""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from music.errors import DomainError, ValidationError
from server import json_body
from server.rest.body_check import check_body, check_query_names, field_in, is_graphql_text
from server.rest.errors import error_response, from_graphql_error, now_iso, seed_details
from server.rest.mapping import Call, Param, Route
from server.rest.routes import ROUTES
from server.rest.shapes import snake

PAGE_STEP = 100  # rows per step when walking a connection to reach an offset
MAX_OFFSET = 10_000
LIST_PARAMS = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    Param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
)


class GraphQLFailed(Exception):
    def __init__(self, error: dict[str, Any], headers: dict[str, str]) -> None:
        self.error = error
        self.headers = headers


def query_params(route: Route) -> tuple[Param, ...]:
    listed = route.listed or route.page is not None
    names = {p.name for p in route.query}
    extra = tuple(p for p in LIST_PARAMS if p.name not in names) if listed else ()
    return (*route.query, *extra)


def _has_nul(value: Any) -> bool:
    """FalkorDB cannot take a NUL character in a parameter: refuse it at the door."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _coerce(param: Param, values: list[str]) -> Any:
    if _has_nul(values):
        raise ValueError("NUL")
    schema = param.schema
    kind = schema.get("type")
    if kind == "array":
        allowed = schema.get("items", {}).get("enum")
        if allowed is not None and any(v not in allowed for v in values):
            raise ValueError(values)
        return values
    raw = values[-1]
    if kind == "integer":
        value: Any = int(raw)
    elif kind == "number":
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(raw)
    elif kind == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ValueError(raw)
        value = raw.lower() in ("true", "1")
    else:
        value = raw
    if isinstance(value, str) and not (
        schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    ):
        raise ValueError(raw)
    if "enum" in schema and value not in schema["enum"]:
        raise ValueError(raw)
    if "minimum" in schema and value < schema["minimum"]:
        raise ValueError(raw)
    if "maximum" in schema and value > schema["maximum"]:
        raise ValueError(raw)
    return value


def read_query(route: Route, request: Request) -> dict[str, Any]:
    """The route's query parameters, typed and within bounds (VALIDATION_ERROR if not)."""
    found: dict[str, Any] = {}
    params = query_params(route)
    check_query_names({p.name for p in params}, list(request.query_params.keys()))
    for param in params:
        values = request.query_params.getlist(param.name)
        if not values:
            if param.required:
                raise ValidationError(f"'{param.name}' is required.", field=param.name)
            if "default" in param.schema:
                found[param.name] = param.schema["default"]
            continue
        try:
            found[param.name] = _coerce(param, values)
        except ValueError:
            raise ValidationError(f"'{param.name}' is not valid here.", field=param.name) from None
    return found


async def read_body(route: Route, request: Request) -> tuple[Any, dict[str, list[Any]], Any]:
    """The JSON body, or the multipart fields and files; and what to close afterwards."""
    if route.body is None:
        return None, {}, None
    if route.multipart:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ValidationError("Send multipart/form-data.", field="body")
        form = await request.form()
        fields: dict[str, Any] = {}
        files: dict[str, list[Any]] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                # `files[]` (seed 002, PHP-style) is `files`.
                files.setdefault(name.removesuffix("[]"), []).append(value)
            else:
                fields[name] = value
        return fields, files, form
    raw = await request.body()
    if not raw:
        body: Any = {}
    else:
        try:
            body = json_body.loads(raw)
        except json_body.JSONRefused as e:
            error = DomainError(str(e))
            error.code = json_body.BAD_REQUEST
            raise error from None
    if _has_nul(body):
        raise ValidationError("The body must not contain NUL characters.", field="body")
    if route.body.get("type") == "object" and not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", field="body")
    check_body(route.body, body)
    return body, {}, None


def bearer_of(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    return authorization[7:].strip() or None if authorization[:7].lower() == "bearer " else None


def rest_error(error: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Code, message and details of a GraphQL error as a REST client sees them: the
    words graphql-core uses about the route's internal document (its variables, its
    argument names) become a plain VALIDATION_ERROR naming the field when it can."""
    code, message, details = from_graphql_error(error)
    if code in ("VALIDATION_ERROR", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED") and (
        is_graphql_text(message)
    ):
        field = details.get("field") or field_in(message)
        details = {"field": field} if field else {}
        message = f"'{field}' is missing or not valid." if field else "The request is not valid."
        return "VALIDATION_ERROR", message, details
    details.pop("path", None)
    return code, message, details


class RestApp:
    """Executes routes through the GraphQL app held in `state["graphql"]` (made at
    start-up)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    async def execute(
        self, request: Request, route: Route, variables: dict[str, Any]
    ) -> tuple[Any, dict[str, str]]:
        handler = self.state["graphql"].http_handler
        data = {"query": route.document, "variables": variables, "operationName": route.operation}
        if request.method == "GET" and route.document.startswith("mutation"):
            # A link in a mail (GET /auth/verify-email) changes state; the GraphQL handler
            # runs only queries for a GET, so it sees this one as the POST it stands for.
            request = Request({**request.scope, "method": "POST"}, request.receive)
        _, result = await handler.execute_graphql_query(request, data)
        headers: dict[str, str] = {}
        verdict = getattr(request.state, "rate_limit", None)
        if verdict is not None:
            headers.update(verdict.headers())
        errors = result.get("errors")
        if errors:
            raise GraphQLFailed(errors[0], headers)
        return result.get("data"), headers

    async def run(self, request: Request, route: Route) -> Response:
        form = None
        try:
            query = read_query(route, request)
            body, files, form = await read_body(route, request)
            call = Call(
                dict(request.path_params),
                query,
                body,
                files,
                limit=int(query.get("limit", 20)),
                offset=int(query.get("offset", 0)),
                bearer=bearer_of(request),
            )
            if (
                route.multipart
                and route.body
                and not all(
                    files.get(n) for n in route.body.get("required", []) if n != "webhook_url"
                )
            ):
                raise ValidationError("A file is required.", field="file")
            data, headers = await self._data(request, route, call)
            result = route.result(data, call)
        except GraphQLFailed as e:
            code, message, details = rest_error(e.error)
            if "retryAfter" in details:
                e.headers["retry-after"] = str(details["retryAfter"])
            return error_response(
                code, message, seed_details(route, code, message, snake(details)), e.headers
            )
        except DomainError as e:
            details = {k: v for k, v in e.details.items() if k in ("field", "key", "unknown")}
            return error_response(
                e.code, e.message, seed_details(route, e.code, e.message, details)
            )
        except (KeyError, TypeError, ValueError, AttributeError, orjson.JSONDecodeError):
            return error_response("VALIDATION_ERROR", "The request does not fit this route.")
        finally:
            if form is not None:
                await form.close()
        if route.status == 204:
            return Response(status_code=204, headers=headers)
        if route.envelope:
            result = {"success": True, "data": result, "timestamp": now_iso()}
        return Response(
            orjson.dumps(result), route.status, headers=headers, media_type="application/json"
        )

    async def _data(self, request: Request, route: Route, call: Call) -> tuple[Any, dict[str, str]]:
        variables = route.variables(call)
        if route.page is None:
            return await self.execute(request, route, variables)
        # A cursor connection: walk it to `offset`, PAGE_STEP rows per step.
        after, left = None, call.offset
        while left > 0:
            step = min(PAGE_STEP, left)
            data, _ = await self.execute(
                request, route, {**variables, "first": step, "after": after}
            )
            info = data[route.page]["pageInfo"]
            if not info["hasNextPage"]:
                data, headers = await self.execute(request, route, {**variables, "first": 1})
                data[route.page]["edges"] = []
                return data, headers
            after, left = info["endCursor"], left - step
        # Then the page itself, PAGE_STEP rows per step (seed 000 lets a page hold 500).
        data, headers = await self.execute(
            request, route, {**variables, "first": min(PAGE_STEP, call.limit), "after": after}
        )
        conn = data[route.page]
        while len(conn["edges"]) < call.limit and conn["pageInfo"]["hasNextPage"]:
            step = min(PAGE_STEP, call.limit - len(conn["edges"]))
            more, headers = await self.execute(
                request,
                route,
                {**variables, "first": step, "after": conn["pageInfo"]["endCursor"]},
            )
            conn["edges"].extend(more[route.page]["edges"])
            conn["pageInfo"] = more[route.page]["pageInfo"]
        return data, headers


def _endpoint(rest: RestApp, route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await rest.run(request, route)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    message = {404: "No such route.", 405: "This route does not take this method."}.get(
        status, "Bad request."
    )
    # A 405 keeps the `Allow` header Starlette puts on it.
    return error_response(code, message, headers=getattr(exc, "headers", None), status=status)


def rest_app(state: dict[str, Any]) -> Starlette:
    """The Starlette app to mount at /api/v1. Static paths come before the ones with
    parameters (`/tracks/without-metadata` before `/tracks/{id}`)."""
    rest = RestApp(state)
    ordered = sorted(ROUTES, key=lambda r: r.path.count("{"))
    routes = [
        StarletteRoute(r.path, _endpoint(rest, r), methods=[r.method], name=r.operation)
        for r in ordered
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
