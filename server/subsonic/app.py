"""The OpenSubsonic API at `/rest/<method>` and `/rest/<method>.view`, GET or form POST.

Like the REST shim, the endpoints decide nothing of their own: each runs GraphQL
documents through the GraphQL app's own handler with the caller's principal, so the
permissions, limits and rate limits are those of `/graphql`; this package only maps
Subsonic's parameters and shapes onto them.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resolvers.permissions import ANONYMOUS, Principal
from server.streaming import Streaming
from server.subsonic.auth import SubsonicAuth
from server.subsonic.responses import (
    FROM_GRAPHQL_CODE,
    GENERIC,
    MISSING_PARAMETER,
    NOT_FOUND,
    SubsonicError,
    failed,
    ok,
)

Payload = dict[str, Any] | Response | None
Handler = Callable[["Call"], Awaitable[Payload]]


@dataclass
class Call:
    """One Subsonic request: its parameters, caller and the way to run GraphQL."""

    request: Request
    params: ImmutableMultiDict[str, str]
    principal: Principal
    streaming: Streaming
    state: dict[str, Any]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def required(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise SubsonicError(MISSING_PARAMETER, f"Required parameter is missing: {name}.")
        return value

    def all(self, name: str) -> list[str]:
        return [v for v in self.params.getlist(name) if v != ""]

    def integer(self, name: str, default: int, low: int = 0, high: int = 10_000) -> int:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SubsonicError(GENERIC, f"Parameter {name} is not a number.") from None
        return max(low, min(high, value))

    def flag(self, name: str, default: bool) -> bool:
        raw = self.params.get(name)
        return default if raw is None else raw.lower() in ("true", "1")

    async def graphql(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        """The document's data; its first error becomes a SubsonicError."""
        handler = self.state["graphql"].http_handler
        data = {"query": document, "variables": variables or {}}
        # Ariadne runs only queries for a GET (against cross-site requests riding on
        # cookies); Subsonic clients send every call as a GET with its credential in the
        # parameters, so the documents run as from a POST. The state is shared.
        request = Request({**self.request.scope, "method": "POST"}, self.request.receive)
        _, result = await handler.execute_graphql_query(request, data)
        errors = result.get("errors")
        if errors:
            code = (errors[0].get("extensions") or {}).get("code", "INTERNAL")
            message = errors[0].get("message", "The request failed.")
            if code == "INTERNAL":
                message = "The request failed."
            raise SubsonicError(FROM_GRAPHQL_CODE.get(code, GENERIC), message)
        return result.get("data")


async def _params(request: Request) -> ImmutableMultiDict[str, str]:
    """Query parameters and, for a form POST (the formPost extension), the form fields."""
    items = list(request.query_params.multi_items())
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form()
        items += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    if any("\x00" in k or "\x00" in v for k, v in items):
        raise SubsonicError(GENERIC, "Parameters must not contain NUL characters.")
    return ImmutableMultiDict(items)


class SubsonicApp:
    def __init__(
        self,
        settings: Any,
        state: dict[str, Any],
        streaming: Streaming,
        handlers: dict[str, Handler],
    ) -> None:
        self.auth = SubsonicAuth(settings, state)
        self.state = state
        self.streaming = streaming
        self.handlers = handlers

    async def endpoint(self, request: Request) -> Response:
        method = request.path_params["method"].removesuffix(".view")
        fmt, callback = "xml", None
        try:
            params = await _params(request)
            fmt = (params.get("f") or "xml").lower()
            callback = params.get("callback")
            handler = self.handlers.get(method)
            if handler is None:
                raise SubsonicError(NOT_FOUND, f"Unknown method: {method[:64]}.")
            from_headers: Principal = getattr(request.state, "principal", ANONYMOUS)
            client = request.client.host if request.client else "unknown"
            principal = await self.auth.principal(params, from_headers, client)
            request.state.principal = principal  # GraphQL's context reads it from here
            call = Call(request, params, principal, self.streaming, self.state)
            payload = await handler(call)
        except SubsonicError as e:
            return failed(e, fmt, callback)
        if isinstance(payload, Response):
            return payload
        return ok(payload, fmt, callback)


def subsonic_routes(settings: Any, state: dict[str, Any], streaming: Streaming) -> list[Route]:
    from server.subsonic.handlers import HANDLERS

    app = SubsonicApp(settings, state, streaming, HANDLERS)
    return [Route("/rest/{method}", app.endpoint, methods=["GET", "POST"])]
