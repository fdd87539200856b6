"""Refuse request bodies over a size cap with 413, before they are read whole.

A declared `Content-Length` over the cap is refused at once, without reading a byte.
A body without one (chunked) is counted while the app reads it: the read that passes
the cap fails, and the answer is a 413 in place of the app's. `server/envelope.py` applies
it to every HTTP request.

The answer does not close the connection: the server drops the rest of the body as it
arrives, without buffering it. Closing at once would reset the connection under a
client still sending, which then sees a network error instead of the 413.
"""

import orjson
from starlette.types import Scope, Send

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


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
