"""Refuse request bodies over a size cap with 413, before they are read whole.

A declared `Content-Length` over the cap is refused at once, without reading a byte.
A body without one (chunked) is counted while the app reads it: the read that passes
the cap fails, and the middleware answers 413 in place of the app.

The answer does not close the connection: the server drops the rest of the body as it
arrives, without buffering it. Closing at once would reset the connection under a
client still sending, which then sees a network error instead of the 413.
"""

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(Exception):
    """Raised into the app by `receive` once the body passes the cap."""


async def payload_too_large(send: Send, allowed: int) -> None:
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": f"The request body is larger than {allowed} bytes.",
                    "extensions": {"code": PAYLOAD_TOO_LARGE, "allowed": allowed},
                }
            ]
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Pure ASGI: HTTP bodies of at most `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await payload_too_large(send, self.max_bytes)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await payload_too_large(send, self.max_bytes)
