"""The REST error envelope and the HTTP status of each error code.

`{"success": false, "error": {"code", "message", "details", "timestamp", "request_id"}}`,
with the same stable codes as GraphQL's `extensions.code`. The middlewares in front of
every route (credentials, body size) answer in GraphQL's shape; `send_shaped` (called
by `server/envelope.py`) puts their answers under /api/v1 into the envelope too.
"""

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Message, Send

from server.errors import request_id_var

STATUS: dict[str, int] = {
    "BAD_REQUEST": 400,
    "QUERY_TOO_COMPLEX": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "NO_PATH": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "NO_MODEL": 409,
    "FILE_TOO_LARGE": 413,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_FORMAT": 415,
    "VALIDATION_ERROR": 422,
    "INVALID_AUDIO": 422,
    "SILENT_AUDIO": 422,
    "PATH_NOT_ALLOWED": 403,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "MAINTENANCE": 503,
    "SERVICE_UNAVAILABLE": 503,
}

# Codes documented on every route of the OpenAPI document.
COMMON_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)


# Seed 004's routes, whose clients read its error codes (`AUTH_001`…): they find the
# code in `error.details.seed_code`, beside ours in `error.code`.
SEED_004_ROUTES = frozenset(
    {
        ("POST", "/users"),
        ("GET", "/users/{id}"),
        ("PUT", "/users/{id}"),
        ("DELETE", "/users/{id}"),
        ("POST", "/auth/login"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/logout"),
        ("GET", "/admin/system/status"),
        ("POST", "/admin/maintenance"),
    }
)
SEED_004_CODES = {
    "UNAUTHENTICATED": "AUTH_001",
    "FORBIDDEN": "AUTH_003",
    "VALIDATION_ERROR": "VAL_001",
    "BAD_REQUEST": "VAL_001",
    "NOT_FOUND": "RES_001",
    "CONFLICT": "RES_002",
    "INTERNAL": "SYS_001",
    "MAINTENANCE": "SYS_002",
}


def seed_details(route: Any, code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    """`details`, plus seed 004's code where a seed-004 route answers."""
    if (route.method, route.path) not in SEED_004_ROUTES or code not in SEED_004_CODES:
        return details
    legacy = SEED_004_CODES[code]
    if code == "UNAUTHENTICATED" and "expired" in message.lower():
        legacy = "AUTH_002"
    elif code == "VALIDATION_ERROR" and "required" in message:
        legacy = "VAL_002"
    return {**details, "seed_code": legacy}


def status_of(code: str) -> int:
    """The HTTP status of an error code; 400 for a code this table does not know."""
    return STATUS.get(code, 400)


def now_iso() -> str:
    """Now, in ISO-8601 UTC with milliseconds (`…T12:00:00.000Z`)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(
    code: str, message: str, details: dict[str, Any] | None = None, request_id: str | None = None
) -> dict[str, Any]:
    return {
        "success": False,
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "timestamp": now_iso(),
            "request_id": request_id or request_id_var.get(),
        },
    }


def error_response(
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
) -> Response:
    return Response(
        orjson.dumps(envelope(code, message, details)),
        status_code=status or status_of(code),
        headers=headers,
        media_type="application/json",
    )


def from_graphql_error(error: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Code, message and details of one formatted GraphQL error."""
    extensions = dict(error.get("extensions") or {})
    code = str(extensions.pop("code", "INTERNAL"))
    extensions.pop("requestId", None)
    if error.get("path"):
        extensions["path"] = error["path"]
    return code, str(error.get("message", "")), extensions


_PLAIN = {
    404: ("NOT_FOUND", "No such route."),
    405: ("METHOD_NOT_ALLOWED", "This route does not take this method."),
}


async def send_shaped(send: Send, messages: list[Message]) -> None:
    """Send a held GraphQL-shaped error answer (its start and body messages) in the
    REST envelope, keeping its status and headers; other answers as they were."""
    start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    reshaped = True
    if isinstance(parsed, dict) and isinstance(parsed.get("errors"), list) and parsed["errors"]:
        code, message, details = from_graphql_error(parsed["errors"][0])
        body = orjson.dumps(envelope(code, message, details))
    elif parsed is None:
        # Starlette's own plain-text answers: a path no route matches (one holding a
        # newline escapes even the /api/v1 mount), a method a route does not take.
        code, message = _PLAIN.get(start["status"], ("BAD_REQUEST", "Bad request."))
        body = orjson.dumps(envelope(code, message))
    else:
        reshaped = False
    if reshaped:
        dropped = (b"content-length", b"content-type")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in dropped]
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        start = {**start, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
