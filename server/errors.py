"""How errors reach clients: a stable code, a safe message, never a stack trace."""

import logging
import re
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError

from music.errors import DomainError

log = logging.getLogger("apollonia.errors")

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

INTERNAL_MESSAGE = "Internal server error."


class RateLimitedError(DomainError):
    """Too many requests for a budget (server/ratelimit.py); HTTP 429."""

    code = "RATE_LIMITED"


def _root_cause(error: GraphQLError) -> BaseException | None:
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return cause


# What a QUERY_TOO_COMPLEX error says about the limit (server/query_limits.py).
_LIMIT_FIGURES = ("limit", "measured", "allowed")

# graphql-core's hint (pyutils/did_you_mean.py): " Did you mean 'A', 'B', or 'C'?", with
# "the enum value" or similar words before the names. It is not always at the end: a
# variable's error goes on after it ("…; Did you mean 'TITLE'? at 'sort.field'" and
# the like), so every occurrence goes. The names are quoted GraphQL names: no "?".
_SUGGESTION_RE = re.compile(r"\s*Did you mean [^?]*\?")


def strip_suggestions(message: str) -> str:
    """`message` without any "Did you mean …?" hint."""
    return _SUGGESTION_RE.sub("", message)


def production_format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """`format_error` without graphql-core's "Did you mean …?" hints about the schema,
    wherever they stand in the message."""
    formatted = format_error(error, debug)
    formatted["message"] = strip_suggestions(formatted["message"])
    return formatted


def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """Ariadne's error formatter. `debug` is ignored: nothing internal ever goes out."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    cause = _root_cause(error)
    if isinstance(cause, DomainError):
        formatted["message"] = cause.message
        extensions: dict[str, Any] = {"code": cause.code}
        if "field" in cause.details:
            extensions["field"] = cause.details["field"]
        if "retry_after" in cause.details:
            extensions["retryAfter"] = cause.details["retry_after"]
        if cause.code == "INTERNAL":
            extensions["requestId"] = request_id_var.get()
    elif cause is None or isinstance(cause, GraphQLError):
        # graphql-core's own words about the document or the variables.
        given = error.extensions or {}
        extensions = {"code": given.get("code", "VALIDATION_ERROR")}
        if extensions["code"] == "QUERY_TOO_COMPLEX":
            extensions.update({k: given[k] for k in _LIMIT_FIGURES if k in given})
    else:
        request_id = request_id_var.get()
        log.error("unhandled error in request %s", request_id, exc_info=cause)
        formatted["message"] = INTERNAL_MESSAGE
        extensions = {"code": "INTERNAL", "requestId": request_id}
    formatted["extensions"] = extensions
    return formatted
