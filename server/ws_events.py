"""`/ws`: the plain event socket for clients that do not speak GraphQL.

Authentication: a `token` query parameter, or a first message
`{"type": "auth", "token": …}` within AUTH_SECONDS; failure closes with 4001.
Messages:
  {"type": "subscribe", "event_type": "media.added"}  -> {"type": "subscription_confirmed", …}
  ({"type": "subscribe", "channel": …} too, as seed 004's clients send it)
  {"type": "unsubscribe", "event_type": …}            -> {"type": "unsubscribed", …}
  {"type": "ping"}                                     -> {"type": "pong", "timestamp": …}
Each subscribe and unsubscribe is charged to the caller's query budget (RATE_LIMITED
past it). Events arrive in the bus's envelope plus `event_type` (the channel). Unknown or
malformed messages are answered with {"type": "error", "code": …} and the socket
stays open.
"""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from events import RAW, SYSTEM_STATUS, Events, SlowConsumer, is_channel
from music.errors import DomainError, UnauthenticatedError
from resolvers.permissions import ADMIN_ACCESS, READ_MEDIA, Principal
from server.auth.middleware import Authenticator
from server.metrics import SUBSCRIPTIONS
from server.ratelimit import QUERY, Charge, RateLimiter

AUTH_SECONDS = 10.0
MAX_MESSAGE = 4096


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventSocket:
    """One `/ws` connection."""

    def __init__(
        self,
        websocket: WebSocket,
        authenticator: Authenticator,
        events: Events,
        max_subscriptions: int,
        can_see_collection: Any,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.websocket = websocket
        self.limiter = limiter
        self.authenticator = authenticator
        self.events = events
        self.max_subscriptions = max_subscriptions
        self.can_see_collection = can_see_collection
        self.principal: Principal | None = None
        self.subscriptions: dict[str, asyncio.Task[None]] = {}
        self.send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    async def authenticate(self) -> bool:
        token = self.websocket.query_params.get("token")
        if token is None:
            try:
                raw = await asyncio.wait_for(self.websocket.receive_text(), AUTH_SECONDS)
                first = orjson.loads(raw)
                if not isinstance(first, dict) or first.get("type") != "auth":
                    raise ValueError("expected an auth message")
                token = first.get("token")
            except (TimeoutError, ValueError, orjson.JSONDecodeError):
                token = None
        if not isinstance(token, str) or not token:
            await self.websocket.close(code=4001, reason="Authentication required")
            return False
        try:
            self.principal = await self.authenticator.token(token)
        except UnauthenticatedError as e:
            await self.websocket.close(code=4001, reason=e.message)
            return False
        await self.send({"type": "authenticated", "role": self.principal.role})
        return True

    async def watch(self) -> None:
        """Close with 4001 once the token expires or is revoked."""
        if self.principal is None:
            return
        await self.authenticator.until_invalid(self.principal)
        with contextlib.suppress(RuntimeError):
            await self.websocket.close(code=4001, reason="Token expired or revoked")

    async def allowed(self, channel: str) -> str | None:
        """None if the caller may subscribe to `channel`, else an error code."""
        assert self.principal is not None
        needed = ADMIN_ACCESS if channel == SYSTEM_STATUS else READ_MEDIA
        if needed not in self.principal.permissions:
            return "FORBIDDEN"
        if channel.startswith("collection.") and not await self.can_see_collection(
            self.principal, channel.split(".", 1)[1]
        ):
            return "NOT_FOUND"
        return None

    async def forward(self, channel: str) -> None:
        try:
            with SUBSCRIPTIONS.labels("ws").track_inprogress():
                async with self.events.subscribe(channel) as stream:
                    await self.send({"type": "subscription_confirmed", "event_type": channel})
                    async for event in stream:
                        # The envelope as published: encoded once for every socket.
                        async with self.send_lock:
                            await self.websocket.send_text(event[RAW])
        except SlowConsumer:
            self.subscriptions.pop(channel, None)
            await self.error(
                "SLOW_CONSUMER", "Too far behind; subscribe again.", event_type=channel
            )

    async def within_budget(self, channel: str) -> bool:
        """Charge a (un)subscription to the caller's query budget, as a GraphQL
        subscription is charged; answer RATE_LIMITED when it is spent."""
        if self.limiter is None or self.principal is None:
            return True
        client = self.websocket.client.host if self.websocket.client else "unknown"
        verdict = await self.limiter.admit(self.principal, client, Charge(QUERY))
        if verdict is None or verdict.allowed:
            return True
        error = verdict.error()
        await self.error(
            error.code, error.message, event_type=channel, retryAfter=verdict.retry_after
        )
        return False

    async def handle(self, raw: str) -> None:
        if len(raw) > MAX_MESSAGE:
            await self.error("MESSAGE_TOO_LARGE", f"Messages are at most {MAX_MESSAGE} bytes.")
            return
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.error("INVALID_JSON", "Messages are JSON objects.")
            return
        if not isinstance(message, dict):
            await self.error("INVALID_MESSAGE", "Messages are JSON objects.")
            return
        kind = message.get("type")
        if kind == "ping":
            await self.send({"type": "pong", "timestamp": _now()})
            return
        if kind not in ("subscribe", "unsubscribe"):
            await self.error("UNKNOWN_TYPE", "Known types: subscribe, unsubscribe, ping.")
            return
        # Seed 004's clients name it `channel`.
        channel = message.get("event_type", message.get("channel"))
        if not isinstance(channel, str) or not is_channel(channel):
            await self.error("INVALID_EVENT_TYPE", "Unknown event type.", event_type=channel)
            return
        if not await self.within_budget(channel):
            return
        if kind == "unsubscribe":
            task = self.subscriptions.pop(channel, None)
            if task is not None:
                task.cancel()
            await self.send({"type": "unsubscribed", "event_type": channel})
            return
        if channel in self.subscriptions:
            await self.send({"type": "subscription_confirmed", "event_type": channel})
            return
        if len(self.subscriptions) >= self.max_subscriptions:
            await self.error(
                "TOO_MANY_SUBSCRIPTIONS",
                f"At most {self.max_subscriptions} subscriptions.",
                event_type=channel,
            )
            return
        refused = await self.allowed(channel)
        if refused is not None:
            await self.error(refused, "You cannot subscribe to that.", event_type=channel)
            return
        self.subscriptions[channel] = asyncio.create_task(self.forward(channel))

    async def run(self) -> None:
        await self.websocket.accept()
        if not await self.authenticate():
            return
        watchdog = asyncio.create_task(self.watch())
        try:
            while self.websocket.application_state != WebSocketState.DISCONNECTED:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    await self.error("INVALID_MESSAGE", "Send JSON in text frames.")
                    continue
                await self.handle(text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        except DomainError as e:
            with contextlib.suppress(RuntimeError):
                await self.error(e.code, e.message)
        finally:
            watchdog.cancel()
            for task in self.subscriptions.values():
                task.cancel()
            await asyncio.gather(watchdog, *self.subscriptions.values(), return_exceptions=True)
