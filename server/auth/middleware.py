"""Who is calling: every HTTP request gets a principal before any route runs.

A credential comes as `Authorization: Bearer <JWT or API key>` or `X-API-Key`. A bad
one is refused at once with 401 and code UNAUTHENTICATED: it never falls back to
anonymous access. Without one, the caller is a guest when anonymous reading is
allowed, else anonymous with no permission at all.
"""

import asyncio
import random
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from music.errors import DomainError, UnauthenticatedError
from resolvers.permissions import ANONYMOUS, ANONYMOUS_GUEST, Principal
from server.auth.service import AuthService
from server.security_headers import OPERATOR_PATHS, is_metrics_token


def credential_of(headers: dict[bytes, bytes]) -> str | None:
    api_key = headers.get(b"x-api-key")
    if api_key:
        return api_key.decode("latin-1").strip()
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    if authorization:
        return ""  # some other scheme: refused, not ignored
    return None


async def unauthenticated(send: Send, message: str) -> None:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="apollonia"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def unavailable(send: Send) -> None:
    """503 while the credential cannot be checked (the graph or Redis is down, e.g. while
    the embedded database restarts): the client may retry; no internal text."""
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": "The service is unavailable; try again shortly.",
                    "extensions": {"code": "SERVICE_UNAVAILABLE"},
                }
            ]
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", b"1"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# Routes whose `Authorization: Bearer` carries the input rather than the caller's
# identity: seeds 000 and 004 send the refresh token that way.
CREDENTIAL_IS_INPUT = frozenset({"/api/v1/auth/refresh"})

# How often a long-lived connection (WebSocket) re-checks its token for revocation.
WATCH_SECONDS = 30.0


class Authenticator:
    """Turns request headers into a principal; shared by HTTP and WebSocket endpoints."""

    def __init__(self, state: dict[str, Any], allow_anonymous_read: bool) -> None:
        self.state = state  # holds "auth" once the app has started
        self.anonymous = ANONYMOUS_GUEST if allow_anonymous_read else ANONYMOUS

    @property
    def auth(self) -> AuthService:
        return self.state["auth"]  # type: ignore[no-any-return]

    async def principal(self, headers: dict[bytes, bytes]) -> Principal:
        credential = credential_of(headers)
        if credential is None:
            return self.anonymous
        if not credential or len(credential) > 4096:
            raise UnauthenticatedError("The credential is not valid.")
        return await self.auth.authenticate(credential)

    async def until_invalid(self, principal: Principal) -> None:
        """Return once the principal's access token has expired or been revoked, checking
        at least every WATCH_SECONDS (it never returns for API keys and anonymous)."""
        if principal.via != "jwt" or principal.jti is None:
            await asyncio.Event().wait()
        delay = random.uniform(0, WATCH_SECONDS)  # sockets that opened together spread out
        while True:
            left = (principal.expires_at or 0) - time.time()
            await asyncio.sleep(max(0.0, min(delay, left)))
            delay = WATCH_SECONDS
            if principal.expires_at is not None and time.time() >= principal.expires_at:
                return
            try:
                revocations = self.auth.revocations
                if await revocations.is_revoked(
                    str(principal.jti), principal.user_id, principal.family
                ):
                    return
            except DomainError:
                # Neither Redis nor the graph could answer: ask again soon rather than
                # stop watching, which would let a revoked token stream on.
                delay = min(WATCH_SECONDS, 2.0)

    async def token(self, token: str) -> Principal:
        """The principal of a bare token or API key (WebSocket payloads, `?token=`)."""
        return await self.principal(
            {b"authorization": f"Bearer {token}".encode("latin-1", "replace")}
        )


class AuthMiddleware:
    """Sets the request's principal. On the operator paths (`/metrics`, `/health`) the
    metrics token is also a credential: it marks the request (`metrics_token` in its
    state) and leaves it anonymous otherwise."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, metrics_token: str = "") -> None:
        self.app = app
        self.authenticator = authenticator
        self.metrics_token = metrics_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in OPERATOR_PATHS and is_metrics_token(
            credential_of(dict(scope["headers"])), self.metrics_token
        ):
            state = scope.setdefault("state", {})
            state["principal"] = ANONYMOUS
            state["metrics_token"] = True
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.authenticator.principal(dict(scope["headers"]))
        except UnauthenticatedError as e:
            if scope["path"] not in CREDENTIAL_IS_INPUT:
                await unauthenticated(send, e.message)
                return
            # The route reads the bearer itself (a refresh token) and judges it.
            principal = ANONYMOUS
        except DomainError:
            await unavailable(send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
